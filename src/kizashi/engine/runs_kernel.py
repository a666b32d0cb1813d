"""The alert runs of a ``(time, series)`` flag array, compiled: one pass to count, one to fill.

:func:`kizashi.engine.batch.incidents` lists every run of active steps of every
series with the largest non-NaN level of the run. Rows are walked in time
order and series in turn, so runs come out ordered by start row, then series,
as the incidents are listed; a run's peak is kept as ``np.fmax`` would
(NaN levels skipped; the first of equal levels kept).

Examples
--------
>>> active = np.array([[1, 0], [1, 1], [0, 1], [1, 0]], dtype=bool)
>>> levels = np.array([[2.0, np.nan], [5.0, np.nan], [9.0, np.nan], [1.0, 0.0]])
>>> n = count_runs(active)
>>> series, start, stop, peak = (np.empty(n, np.int64), np.empty(n, np.int64),
...                              np.empty(n, np.int64), np.empty(n))
>>> fill_runs(active, levels, True, series, start, stop, peak)
>>> series.tolist(), start.tolist(), stop.tolist(), peak.tolist()
([0, 1, 0], [0, 1, 3], [1, 2, 3], [5.0, nan, 1.0])
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import njit

__all__ = ["count_runs", "fill_runs"]


@njit(cache=True)
def count_runs(active: np.ndarray) -> int:
    """How many runs of ``True`` the columns of ``active`` hold (C-ordered)."""
    n_series = active.shape[1]
    flags = active.reshape(-1)
    count = 0
    for j in range(min(n_series, flags.shape[0])):  # runs open at the first row
        count += 1 if flags[j] else 0
    # a run starts where a flag is set and the one a row before is not: one pass over
    # slices indexed from 0, which the compiler vectorises
    now, before = flags[n_series:], flags[:flags.shape[0] - n_series]
    for i in range(now.shape[0]):
        count += 1 if now[i] and not before[i] else 0
    return count


@njit(cache=True)
def _quiet_words(flags: np.ndarray) -> np.ndarray:
    """The flags as 64-bit words (the whole words of them): a zero word is 8 rows unset."""
    whole = flags.shape[0] // 8
    return flags[:whole * 8].view(np.uint64)


@njit(cache=True, error_model="numpy")
def fill_runs(active: np.ndarray, levels: np.ndarray, with_levels: bool, series: np.ndarray,
              start: np.ndarray, stop: np.ndarray, peak: np.ndarray) -> None:
    """Each run's series, first and last row and peak level (NaN without ``with_levels``
    or when every level of the run is NaN), in order of start row, then series
    (``active`` C-ordered)."""
    n_time, n_series = active.shape
    flags = active.reshape(-1)
    if n_series == 1:  # one column: runs in turn, unset rows skipped 8 at a time
        words = _quiet_words(flags)
        n = 0
        k = 0
        while k < n_time:
            if not flags[k]:
                k += 8 if (k & 7) == 0 and (k >> 3) < words.shape[0] and words[k >> 3] == 0 \
                    else 1
                continue
            series[n], start[n] = 0, k
            best = np.nan
            while k < n_time and flags[k]:
                if with_levels:
                    value = levels[k, 0]
                    if not math.isnan(value) and (math.isnan(best) or value > best):
                        best = value
                k += 1
            stop[n], peak[n] = k - 1, best
            n += 1
        return
    # rows in turn, series in turn; a row with no run open and no flag set is skipped
    # after one vectorised check
    open_at = np.full(n_series, -1, np.int64)
    n_open = 0
    n = 0
    for k in range(n_time):
        now = flags[k * n_series:(k + 1) * n_series]
        if n_open == 0:
            set_here = 0
            for j in range(n_series):
                set_here |= 1 if now[j] else 0
            if not set_here:
                continue
        for j in range(n_series):
            at = open_at[j]
            if now[j]:
                if at < 0:
                    at = n
                    n += 1
                    n_open += 1
                    open_at[j] = at
                    series[at] = j
                    start[at] = k
                    peak[at] = np.nan
                if with_levels:
                    value = levels[k, j]
                    best = peak[at]
                    if not math.isnan(value) and (math.isnan(best) or value > best):
                        peak[at] = value
            elif at >= 0:
                stop[at] = k - 1
                open_at[j] = -1
                n_open -= 1
    for j in range(n_series):
        if open_at[j] >= 0:
            stop[open_at[j]] = n_time - 1
