"""The likelihood's segmented fits: true moments, and the same bits on every path.

References: the exact mean and variance of the floats (``fractions``), numpy's
``mean``/``var``, a plain two-pass loop (one segment), and the streaming
function :func:`moments` for the block path :func:`window_moments`, which reads
whole segments from :func:`segment_table`. Families of rows: every length from
1 to 200 and random ones up to 9,000, segment widths 1 to 64 and any first
learned index, scales 1e-6 to 1e6, a level far from 0 (1e6 + noise), constant
rows, NaN and ±inf inside a row, rows at ±1e308 (the sums overflow).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from kizashi.decision.likelihood_kernel import moments, row_moments, segment_table, window_moments


def rows_of(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    rows = {
        "scaled": rng.normal(0, 1, n) * 10.0 ** rng.integers(-6, 7),
        "positive": np.abs(rng.normal(0, 1, n)) + 0.03,
        "far": 1e6 + rng.normal(0, 1, n),
        "constant": np.full(n, 0.07),
        "nan": rng.normal(0, 1, n),
        "inf": rng.normal(0, 1, n),
        "huge": 1e308 * rng.choice([1.0, -1.0], n),
    }
    rows["nan"][rng.integers(0, n)] = np.nan
    rows["inf"][rng.integers(0, n)] = rng.choice([np.inf, -np.inf])
    return rows


def exact(values: np.ndarray) -> tuple[float, float]:
    exact_values = [Fraction(float(v)) for v in values]
    mean = sum(exact_values) / len(values)
    return float(mean), float(sum((v - mean) ** 2 for v in exact_values) / len(values))


LENGTHS = [*range(1, 201, 7), 200, 1000, 4096, 8640, 8999]


@pytest.mark.parametrize("n", LENGTHS)
def test_moments_are_the_true_moments_of_finite_rows(n):
    rng = np.random.default_rng(n)
    for name, row in rows_of(n, rng).items():
        if name in ("nan", "inf", "huge"):
            continue
        for segment in (1, 7, 64):
            first_index = int(rng.integers(0, 10_000))
            mean, var = moments(row, n, first_index, segment)
            want_mean, want_var = exact(row) if n <= 1000 else (np.mean(row), np.var(row))
            # the mean to the rounding of the values' sizes
            assert abs(mean - want_mean) <= 1e-14 * np.mean(np.abs(row)), (name, segment)
            # the variance is as good as the data allow: relative to the mean's square
            scale = max(want_var, 1e-15 * want_mean * want_mean)
            assert abs(var - want_var) <= 1e-12 * scale + 1e-300, (name, segment)


def test_one_segment_is_the_plain_two_pass_loop():
    """A row inside one segment: the sum in order, then the squared deviations in order."""
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 63, 64):
        row = rng.normal(5, 2, n)
        total = 0.0
        for v in row:
            total += v
        mean = total / n
        squares = 0.0
        for v in row:
            squares += (v - mean) * (v - mean)
        assert moments(row, n, 128, 64) == (mean, squares / n)


def test_non_finite_rows_give_numpys_non_finite_results():
    rng = np.random.default_rng(9)
    for n in (3, 70, 900):
        for name in ("nan", "inf"):
            row = rows_of(n, rng)[name]
            mean, var = moments(row, n, 5, 64)
            with np.errstate(invalid="ignore"):
                want_mean, want_var = np.mean(row), np.var(row)
            assert mean == want_mean or (np.isnan(mean) and np.isnan(want_mean))
            assert np.isnan(var) and np.isnan(want_var)


@pytest.mark.parametrize("segment", [1, 3, 8, 64])
@pytest.mark.parametrize("k", [0, 1, 9])
def test_block_path_equals_the_streaming_function_bit_for_bit(segment, k):
    """A fit's averages: ``k`` leading values of their own, then a window of a row of
    ``full``, whole segments read from the table, on every family of values."""
    rng = np.random.default_rng(segment * 10 + k)
    families = rows_of(3000, rng)
    full = np.stack(list(families.values()))
    full[3, 1000:1010] = np.nan
    n_rows = full.shape[0]
    learned_at_zero = rng.integers(0, 500, n_rows)  # learned index of each row's column 0
    origin = (-learned_at_zero) % segment
    n_segments = (full.shape[1] - int(origin.min())) // segment
    table = [np.empty((n_rows, n_segments)) for _ in range(4)]
    with np.errstate(all="ignore"):
        segment_table(full, origin, segment, *table)
    for n_used in sorted({k + 1, 5, 130, 1000, 2500}):
        if n_used <= k:
            continue
        rows = np.repeat(np.arange(n_rows), 3)
        starts = rng.integers(0, 3000 - n_used + 1, rows.size)
        first = rng.normal(0, 1, (rows.size, k))
        first_index = learned_at_zero[rows] + starts
        mean, var = np.empty(rows.size), np.empty(rows.size)
        with np.errstate(all="ignore"):
            window_moments(full, rows, starts, first, n_used, first_index, origin, segment,
                           *table, mean, var)
        gathered = np.stack([np.r_[first[m], full[rows[m], starts[m] + k:starts[m] + n_used]]
                             for m in range(rows.size)])
        want_mean, want_var = np.empty(rows.size), np.empty(rows.size)
        with np.errstate(all="ignore"):
            row_moments(gathered, first_index, segment, want_mean, want_var)
        np.testing.assert_array_equal(mean, want_mean, err_msg=f"n_used={n_used}")
        np.testing.assert_array_equal(var, want_var, err_msg=f"n_used={n_used}")


def test_a_fit_depends_on_its_values_and_their_learned_index_only():
    """The same averages give the same fit wherever they sit in a row or a batch."""
    rng = np.random.default_rng(2)
    row = rng.gamma(2.0, 0.3, 500)
    alone = moments(row, 500, 37, 64)
    batch = np.stack([rng.normal(0, 1, 500), row, rng.normal(0, 1, 500)])
    mean, var = np.empty(3), np.empty(3)
    row_moments(batch, np.array([0, 37, 99]), 64, mean, var)
    assert (mean[1], var[1]) == alone
