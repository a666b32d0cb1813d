"""The likelihood's compiled row moments equal numpy's, bit for bit.

Reference: the numpy lines :meth:`AnomalyLikelihood._fit` used (``sum(axis=1) / n``
and the sum of squared deviations), on a family of rows: every length from 1 to
300 and random ones up to 9,000 (numpy's pairwise blocks and their halving),
scales from 1e-6 to 1e6, NaN and ±inf inside a row, rows at 1e308 (the sums
overflow), constant rows.
"""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.decision.likelihood_kernel import pairwise_sum, row_moments


def numpy_moments(averages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n_used = averages.shape[1]
    with np.errstate(invalid="ignore", over="ignore"):
        mean = averages.sum(axis=1) / n_used
        deviation = averages - mean[:, None]
        return mean, (deviation * deviation).sum(axis=1) / n_used


def rows_of(n: int, rng: np.random.Generator) -> np.ndarray:
    rows = rng.normal(0, 1, (6, n)) * 10.0 ** rng.integers(-6, 7, (6, 1))
    rows[1, rng.integers(0, n)] = np.nan
    rows[2, rng.integers(0, n)] = rng.choice([np.inf, -np.inf])
    rows[3] = 1e308 * rng.choice([1.0, -1.0], n)
    rows[4] = 0.07
    rows[5] = np.abs(rows[5]) + 0.03       # positive, as moving averages of scores are
    return rows


@pytest.mark.parametrize("lengths", [range(1, 301), [512, 1000, 4096, 8352, 8640, 8999]])
def test_row_moments_equal_numpy_bit_for_bit(lengths):
    rng = np.random.default_rng(len(lengths))
    for n in lengths:
        rows = rows_of(n, rng)
        mean, var = np.empty(len(rows)), np.empty(len(rows))
        row_moments(rows, mean, var)
        want_mean, want_var = numpy_moments(rows)
        np.testing.assert_array_equal(mean, want_mean, err_msg=f"n={n}")
        np.testing.assert_array_equal(var, want_var, err_msg=f"n={n}")


def test_pairwise_sum_is_numpys_sum_of_a_slice():
    rng = np.random.default_rng(5)
    values = rng.normal(0, 1e3, 10_000)
    for lo, n in [(0, 10_000), (3, 9), (17, 129), (100, 5000), (9990, 10)]:
        assert pairwise_sum(values, lo, n) == values[lo:lo + n].sum()


@pytest.mark.parametrize("k", [0, 1, 9])
def test_window_moments_equal_numpy_on_the_gathered_rows(k):
    """A fit's averages: ``k`` leading values of their own, then a window of a row."""
    from kizashi.decision.likelihood_kernel import window_moments

    rng = np.random.default_rng(k)
    full = np.abs(rng.normal(0, 1, (4, 3000))) + 0.01
    full[2, 1000:1010] = np.nan
    for n_used in (k + 1, 130, 1000, 2500):
        rows = rng.integers(0, 4, 7)
        starts = rng.integers(0, 3000 - n_used + 1, 7)
        first = rng.normal(0, 1, (7, k))
        gathered = np.stack([np.r_[first[m], full[rows[m], starts[m] + k:starts[m] + n_used]]
                             for m in range(7)])
        mean, var = np.empty(7), np.empty(7)
        window_moments(full, rows, starts, first, n_used, mean, var)
        want_mean, want_var = numpy_moments(gathered)
        np.testing.assert_array_equal(mean, want_mean)
        np.testing.assert_array_equal(var, want_var)
