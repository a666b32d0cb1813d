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
    """How many runs of ``True`` the columns of ``active`` hold."""
    n_time, n_series = active.shape
    count = 0
    if n_series == 1:  # one column: a tight loop
        before = False
        for k in range(n_time):
            now = active[k, 0]
            count += now and not before
            before = now
        return count
    for j in range(n_series):
        count += active[0, j] if n_time else 0
    for k in range(1, n_time):
        for j in range(n_series):
            count += active[k, j] and not active[k - 1, j]
    return count


@njit(cache=True, error_model="numpy")
def fill_runs(active: np.ndarray, levels: np.ndarray, with_levels: bool, series: np.ndarray,
              start: np.ndarray, stop: np.ndarray, peak: np.ndarray) -> None:
    """Each run's series, first and last row and peak level (NaN without ``with_levels``
    or when every level of the run is NaN), in order of start row, then series."""
    n_time, n_series = active.shape
    if n_series == 1:  # one column: runs in turn, no per-series bookkeeping
        n = 0
        k = 0
        while k < n_time:
            if not active[k, 0]:
                k += 1
                continue
            series[n], start[n] = 0, k
            best = np.nan
            while k < n_time and active[k, 0]:
                if with_levels:
                    value = levels[k, 0]
                    if not math.isnan(value) and (math.isnan(best) or value > best):
                        best = value
                k += 1
            stop[n], peak[n] = k - 1, best
            n += 1
        return
    open_at = np.full(n_series, -1, np.int64)
    n = 0
    for k in range(n_time):
        for j in range(n_series):
            at = open_at[j]
            if active[k, j]:
                if at < 0:
                    at = n
                    n += 1
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
    for j in range(n_series):
        if open_at[j] >= 0:
            stop[open_at[j]] = n_time - 1
