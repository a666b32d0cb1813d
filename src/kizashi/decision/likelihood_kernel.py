"""The likelihood's fits compiled: a fit's mean and variance from aligned segments.

:meth:`kizashi.decision.likelihood.AnomalyLikelihood` re-fits a Gaussian to the
last ``history_window`` (8,640) moving averages every ``reestimation_period``
(100) learned scores. Summing all of them afresh at each fit costs two passes
over 8,640 values per 100 points; a running total would be cheaper but lets
rounding drift in. Here a fit is cut into **segments aligned on the averages'
learned index** (each segment ends where the index is a multiple of
``segment``, 64 in the calibrator): each segment's sum, mean and sum of
squared deviations are taken afresh in order, and the segments are combined
with Chan, Golub & LeVeque's pairwise update (``M2 = sum(M2_k + n_k (m_k - m)^2)``,
numerically stable, no cancellation). A segment's numbers depend only on its
own values, so the batch path computes each whole segment once
(:func:`segment_table`) and every fit that covers it reads it
(:func:`window_moments`), while the streaming path sums the same segments of
the averages it gathers (:func:`row_moments`): the two give the same mean and
variance bit for bit, and each fit is still computed from the scores afresh
(``tests/decision/test_likelihood_kernel.py``).

Examples
--------
>>> rows = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, 0.5, 0.5, 0.5]])
>>> mean, var = np.empty(2), np.empty(2)
>>> row_moments(rows, np.array([0, 3]), 2, mean, var)
>>> mean.tolist(), var.tolist()
([2.5, 0.5], [1.25, 0.0])
"""

from __future__ import annotations

import numpy as np

from kizashi.detectors.changepoint.jit import njit

__all__ = ["SEGMENT", "moments", "row_moments", "segment_table", "window_moments"]

#: Width of the aligned segments a fit is combined from (the calibrator's choice).
SEGMENT = 64


@njit(cache=True, error_model="numpy")
def _segment(values: np.ndarray, lo: int, hi: int) -> tuple[float, float, float, float]:
    """Sum, mean, sum of squared deviations and sum of deviations (the mean's rounding)
    of ``values[lo:hi]``, in order."""
    total = 0.0
    for i in range(lo, hi):
        total += values[i]
    mean = total / (hi - lo)
    squares = 0.0
    deviations = 0.0
    for i in range(lo, hi):
        d = values[i] - mean
        squares += d * d
        deviations += d
    return total, mean, squares, deviations


@njit(cache=True, error_model="numpy")
def _combine(sums: np.ndarray, means: np.ndarray, squares: np.ndarray,
             deviations: np.ndarray, sizes: np.ndarray, n_segments: int, n: int
             ) -> tuple[float, float]:
    """Mean and (population) variance of ``n`` values from their segments' numbers:
    ``sum((a - m)^2) = sum_k [S_k + (2 D_k + n_k d_k) d_k]`` with ``d_k = m_k - m``
    and ``D_k`` the segment's sum of deviations, exact algebra that also corrects the
    rounding of each segment mean ``m_k`` (Björck's corrected two-pass form); the mean
    from the segments' sums added with Neumaier's compensation."""
    total, lost = 0.0, 0.0  # Neumaier's compensated sum of the segments' sums
    for k in range(n_segments):
        following = total + sums[k]
        if abs(total) >= abs(sums[k]):
            lost += (total - following) + sums[k]
        else:
            lost += (sums[k] - following) + total
        total = following
    if not np.isfinite(total):  # an infinite or NaN value: no compensation (inf - inf)
        lost = 0.0
    mean = (total + lost) / n
    m2 = 0.0
    for k in range(n_segments):
        d = means[k] - mean
        m2 += squares[k] + (2.0 * deviations[k] + sizes[k] * d) * d
    return mean, m2 / n


@njit(cache=True, error_model="numpy")
def moments(values: np.ndarray, n: int, first_index: int, segment: int) -> tuple[float, float]:
    """Mean and variance of ``values[:n]``, whose first value has learned index
    ``first_index``: segments end where the index is a multiple of ``segment``."""
    n_max = n // segment + 2
    sums, means, squares = np.empty(n_max), np.empty(n_max), np.empty(n_max)
    deviations, sizes = np.empty(n_max), np.empty(n_max)
    k, pos = 0, 0
    while pos < n:
        end = min(n, pos + segment - (first_index + pos) % segment)
        sums[k], means[k], squares[k], deviations[k] = _segment(values, pos, end)
        sizes[k] = end - pos
        k += 1
        pos = end
    return _combine(sums, means, squares, deviations, sizes, k, n)


@njit(cache=True, error_model="numpy")
def row_moments(averages: np.ndarray, first_index: np.ndarray, segment: int,
                mean: np.ndarray, var: np.ndarray) -> None:
    """:func:`moments` of each row of ``averages`` (row ``r`` starts at learned index
    ``first_index[r]``)."""
    n = averages.shape[1]
    values = np.empty(n)
    for r in range(averages.shape[0]):
        values[:] = averages[r]
        mean[r], var[r] = moments(values, n, first_index[r], segment)


@njit(cache=True, error_model="numpy")
def segment_table(full: np.ndarray, origin: np.ndarray, segment: int, sums: np.ndarray,
                  means: np.ndarray, squares: np.ndarray, deviations: np.ndarray) -> None:
    """The numbers of every whole segment of each row of ``full``: segment ``b`` of row
    ``r`` is ``full[r, origin[r] + b * segment:][:segment]`` (``origin[r]``: the first
    column whose learned index is a multiple of ``segment``)."""
    for r in range(full.shape[0]):
        row = full[r]
        for b in range((full.shape[1] - origin[r]) // segment):
            lo = origin[r] + b * segment
            sums[r, b], means[r, b], squares[r, b], deviations[r, b] = \
                _segment(row, lo, lo + segment)


@njit(cache=True, error_model="numpy")
def window_moments(full: np.ndarray, rows: np.ndarray, starts: np.ndarray,
                   first: np.ndarray, n_used: int, first_index: np.ndarray,
                   origin: np.ndarray, segment: int, table_sums: np.ndarray,
                   table_means: np.ndarray, table_squares: np.ndarray,
                   table_deviations: np.ndarray, mean: np.ndarray, var: np.ndarray) -> None:
    """:func:`moments` of the averages ``first[m]`` followed by
    ``full[rows[m], starts[m] + k : starts[m] + n_used]`` (``k`` = ``first``'s width),
    learned index ``first_index[m]`` first, without gathering them: a whole segment
    past the ``first`` values is read from :func:`segment_table`'s arrays, the
    others (at most two) are summed from the values."""
    k = first.shape[1]
    n_max = n_used // segment + 2
    sums, means, squares = np.empty(n_max), np.empty(n_max), np.empty(n_max)
    deviations, sizes = np.empty(n_max), np.empty(n_max)
    buffer = np.empty(segment)
    for m in range(rows.shape[0]):
        source = full[rows[m]]
        offset = starts[m]
        n_segments, pos = 0, 0
        while pos < n_used:
            end = min(n_used, pos + segment - (first_index[m] + pos) % segment)
            if pos >= k and end - pos == segment:
                b = (offset + pos - origin[rows[m]]) // segment
                sums[n_segments] = table_sums[rows[m], b]
                means[n_segments] = table_means[rows[m], b]
                squares[n_segments] = table_squares[rows[m], b]
                deviations[n_segments] = table_deviations[rows[m], b]
            else:
                for i in range(pos, end):
                    buffer[i - pos] = first[m, i] if i < k else source[offset + i]
                (sums[n_segments], means[n_segments], squares[n_segments],
                 deviations[n_segments]) = _segment(buffer, 0, end - pos)
            sizes[n_segments] = end - pos
            n_segments += 1
            pos = end
        mean[m], var[m] = _combine(sums, means, squares, deviations, sizes, n_segments,
                                   n_used)
