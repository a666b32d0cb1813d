"""Vectorised quantile cutoffs equal ``np.quantile`` per series, bit for bit.

The reference is numpy itself, one series at a time, on its finite scores.
Families: counts from 0 to a few hundred per series, NaN/±inf scores, ties,
constant series, values far from 0 and of mixed sign, quantiles near both ends
and in the middle, scores arriving row by row, by layout (a subset of the
series in another order) and as loose ``(series, score)`` pairs.
"""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.decision.quantiles import ExtremeKeeper, column_quantiles, values_needed

QUANTILES = [0.001, 0.1, 0.25, 0.5, 0.73, 0.9, 0.99, 0.999]


def scores_family(kind: str, n_time: int, n_series: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.normal(0, 1, (n_time, n_series))
    if kind == "gaps":
        values[rng.random(values.shape) < 0.3] = np.nan
        values[rng.random(values.shape) < 0.05] = np.inf
        values[rng.random(values.shape) < 0.05] = -np.inf
        values[:, 0] = np.nan   # a series with no score at all
        values[1:, 1] = np.nan  # a series with a single score
    elif kind == "ties":
        values = np.round(values * 2) / 2
        values[:, 0] = 3.0
    elif kind == "far":
        values = values * 1e-3 + 1e9 * rng.choice([-1, 1], n_series)
    elif kind == "heavy":
        values = rng.standard_cauchy((n_time, n_series)) * 1e6
    return values


def reference(matrix: np.ndarray, q: float, min_count: int = 1) -> np.ndarray:
    out = np.full(matrix.shape[1], np.inf)
    for j in range(matrix.shape[1]):
        column = matrix[:, j][np.isfinite(matrix[:, j])]
        if column.size >= min_count and column.size:
            out[j] = float(np.quantile(column, q))
    return out


KINDS = ["plain", "gaps", "ties", "far", "heavy"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("q", QUANTILES)
def test_column_quantiles_equal_numpy(kind, q):
    for n_time in (1, 2, 7, 300):
        matrix = scores_family(kind, n_time, 9, seed=n_time)
        np.testing.assert_array_equal(column_quantiles(matrix, q), reference(matrix, q))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("q", QUANTILES)
def test_keeper_row_by_row_equals_numpy(kind, q):
    matrix = scores_family(kind, 200, 12, seed=3)
    keeper = ExtremeKeeper(12, q, values_needed(q, 200))
    for row in matrix:
        keeper.add(row)
    for min_count in (1, 30):
        np.testing.assert_array_equal(keeper.quantiles(min_count), reference(matrix, q,
                                                                              min_count))


@pytest.mark.parametrize("q", [0.05, 0.5, 0.999])
def test_keeper_by_layout_and_loose_pairs_equals_numpy(q):
    rng = np.random.default_rng(5)
    n_series = 10
    full = np.full((150, n_series), np.nan)
    keeper = ExtremeKeeper(n_series, q, values_needed(q, 300))
    for k in range(100):  # blocks covering a random subset of the series, shuffled
        columns = rng.permutation(n_series)[:rng.integers(1, n_series + 1)]
        row = rng.normal(0, 1, columns.size)
        row[rng.random(columns.size) < 0.1] = np.nan
        full[k, columns] = row
        keeper.add(row, columns)
    series = rng.integers(0, n_series, 400)   # loose (series, score) pairs: 50 rows' worth
    pairs = rng.normal(0, 1, 400)
    loose = np.full((400, n_series), np.nan)
    loose[np.arange(400), series] = pairs
    keeper.add_many(series, pairs)
    np.testing.assert_array_equal(keeper.quantiles(),
                                  reference(np.vstack([full[:100], loose]), q))


def test_values_needed_is_small_near_the_ends_and_sufficient():
    # q0.999 of up to 1,000 scores: the two largest (hand-computed: (n-1)·0.999 has
    # floor n − 2 for every n ≤ 1000, so order statistics n − 2 and n − 1)
    assert values_needed(0.999, 1000) == 2
    assert values_needed(0.5, 11) == 6    # the median of 11: order statistics 5 and 6
    # one fewer kept value than needed goes wrong for some count
    matrix = scores_family("plain", 1000, 3, seed=9)
    keep = values_needed(0.99, 1000)
    short = ExtremeKeeper(3, 0.99, keep - 1)
    for row in matrix:
        short.add(row)
    assert not np.array_equal(short.quantiles(), reference(matrix, 0.99))
