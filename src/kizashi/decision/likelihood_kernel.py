"""The likelihood's fits compiled: each row's mean and variance in numpy's own sums.

:meth:`kizashi.decision.likelihood.AnomalyLikelihood._fit` takes the mean and the
(population) variance of each row of moving averages with numpy:
``averages.sum(axis=1) / n``, then the sum of squared deviations. numpy sums a
contiguous row pairwise (blocks of up to 128 values with eight accumulators,
halved recursively above that); :func:`pairwise_sum` repeats that algorithm, so
:func:`row_moments` gives the same numbers bit for bit, without the two
temporary arrays (``tests/decision/test_likelihood_kernel.py`` compares them on
rows of every length up to 9,000, NaN, ±inf and near-limit values).

Examples
--------
>>> rows = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, 0.5, 0.5, 0.5]])
>>> mean, var = np.empty(2), np.empty(2)
>>> row_moments(rows, mean, var)
>>> mean.tolist(), var.tolist()
([2.5, 0.5], [1.25, 0.0])
"""

from __future__ import annotations

import numpy as np

from kizashi.detectors.changepoint.jit import njit

__all__ = ["pairwise_sum", "row_moments", "window_moments"]

#: numpy's pairwise summation: blocks of at most this many values are summed with eight
#: accumulators (``PW_BLOCKSIZE`` in numpy's ``loops_utils.h``).
BLOCK = 128


@njit(cache=True, error_model="numpy")
def _block_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's sum of at most ``BLOCK`` contiguous values: eight accumulators."""
    if n < 8:
        total = 0.0
        for i in range(lo, lo + n):
            total += a[i]
        return total
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - n % 8:
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        total += a[lo + i]
        i += 1
    return total


@njit(cache=True, error_model="numpy")
def pairwise_sum(a: np.ndarray, lo: int, n: int) -> float:
    """``a[lo:lo + n].sum()`` as numpy sums a contiguous row: above ``BLOCK`` values the
    row is cut in two (the first part a multiple of 8 long) and the two sums added.

    The halving runs on an explicit stack (numba does not cache recursive functions).
    """
    if n <= BLOCK:
        return _block_sum(a, lo, n)
    # (first, length, stage) of each pending part; stage 0: left half next, 1: right
    # half next, 2: both summed. Sums wait on their own stack, left before right.
    starts = np.empty(64, np.int64)
    lengths = np.empty(64, np.int64)
    stages = np.empty(64, np.int64)
    sums = np.empty(64)
    depth, n_sums = 0, 0
    starts[0], lengths[0], stages[0] = lo, n, 0
    while depth >= 0:
        first, length = starts[depth], lengths[depth]
        if length <= BLOCK:
            sums[n_sums] = _block_sum(a, first, length)
            n_sums += 1
            depth -= 1
            continue
        half = length // 2
        half -= half % 8
        if stages[depth] == 0:
            stages[depth] = 1
            depth += 1
            starts[depth], lengths[depth], stages[depth] = first, half, 0
        elif stages[depth] == 1:
            stages[depth] = 2
            depth += 1
            starts[depth], lengths[depth], stages[depth] = first + half, length - half, 0
        else:
            n_sums -= 1
            sums[n_sums - 1] = sums[n_sums - 1] + sums[n_sums]
            depth -= 1
    return sums[0]


@njit(cache=True, error_model="numpy")
def row_moments(averages: np.ndarray, mean: np.ndarray, var: np.ndarray) -> None:
    """Each row's mean and (population) variance, as ``_fit``'s numpy lines give them."""
    n_used = averages.shape[1]
    values = np.empty(n_used)
    squares = np.empty(n_used)
    for r in range(averages.shape[0]):
        values[:] = averages[r]
        mean[r], var[r] = _moments(values, n_used, squares)


@njit(cache=True, error_model="numpy")
def _moments(values: np.ndarray, n: int, squares: np.ndarray) -> tuple[float, float]:
    """Mean and variance of ``values[:n]`` in numpy's sums (``squares`` is scratch)."""
    mean = pairwise_sum(values, 0, n) / n
    for i in range(n):
        d = values[i] - mean
        squares[i] = d * d
    return mean, pairwise_sum(squares, 0, n) / n


@njit(cache=True, error_model="numpy")
def window_moments(full: np.ndarray, rows: np.ndarray, starts: np.ndarray, first: np.ndarray,
                   n_used: int, mean: np.ndarray, var: np.ndarray) -> None:
    """:func:`row_moments` of the rows ``first[m]`` followed by
    ``full[rows[m], starts[m] + k : starts[m] + n_used]`` (``k`` = ``first``'s width),
    gathered one at a time into a reused buffer instead of one array of all of them."""
    k = first.shape[1]
    values = np.empty(n_used)
    squares = np.empty(n_used)
    for m in range(rows.shape[0]):
        for i in range(k):
            values[i] = first[m, i]
        source = full[rows[m]]
        offset = starts[m]
        for i in range(k, n_used):
            values[i] = source[offset + i]
        mean[m], var[m] = _moments(values, n_used, squares)
