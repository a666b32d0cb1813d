"""A straight line's view of a series with a limit while the forecasters still learn.

The forecasters of :class:`~kizashi.prediction.limit_forecaster.LimitForecaster` give
their first calibrated probability only after their warm-up (about 42 h of 5-minute
data with a 6 h horizon: :mod:`kizashi.prediction.warmup`). A disk that fills from the
first hour would otherwise be said only once full. Until a series' first probability,
its trend alone can say it: the least-squares line through its last
:data:`WINDOW_SECONDS` (at least :data:`MIN_SECONDS` of it; missing values skipped),
continued over the horizon, passes the limit even at the lower edge of its one-sided
:data:`CONFIDENCE` prediction band (the line's own uncertainty and the scatter around
it). Its ETA is where the line meets the limit. The line has no calibrated probability.

It cannot tell a fill that will be emptied (a scratch disk cleaned every night) from
one that will not until it has seen the emptying: like the forecasters' warnings, its
warnings pass the cycle gate (:mod:`~kizashi.prediction.cycle_gate`), so a series that
has been emptied twice warns from the line only when a cycle goes further. ``kizashi
predict`` turns the line into warnings by default (``--warmup-trend``,
:func:`with_trend`): ``is_warning`` set, ``eta`` from the line, ``probability`` still
empty; ``--no-warmup-trend`` only notes such series in its summary. Why the default:
failures that build up within a new file's or watch's first day and a half are
otherwise missed (``benchmarks/prediction_early.py``).

>>> import numpy as np
>>> seconds = np.arange(0, 8 * 3600, 300.0)          # 5-minute rows
>>> disk = (20 + 12 * seconds / 3600)[:, None]       # +12 %/h: full at 6 h 40 min
>>> warn, eta = trend_crossings(seconds, disk, np.array([100.0]), 6 * 3600.0)
>>> first = int(np.argmax(warn[:, 0]))
>>> float(seconds[first] / 3600), round(float(eta[first, 0]) / 3600, 2)  # at 2 h: full 4.67 h on
(2.0, 4.67)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from kizashi.streaming.magnitudes import magnitude_factors

__all__ = ["CONFIDENCE", "MIN_SECONDS", "STALE_SECONDS", "WINDOW_SECONDS", "learning_rows",
           "trend_crossings", "with_trend"]

#: The line is fitted to this much of the most recent history (at most).
WINDOW_SECONDS = 6 * 3600.0
#: No line before the series' values in the window span this much time (its own first
#: value counts, not the file's first row), and at least three values.
MIN_SECONDS = 2 * 3600.0
#: No line for a series whose newest value is older than this: stale points are not a trend.
STALE_SECONDS = 1800.0
#: The share of the line's one-sided prediction band that must lie over the limit.
CONFIDENCE = 0.9


def trend_crossings(seconds: np.ndarray, values: np.ndarray, limit: np.ndarray,
                    horizon_seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """``(crosses, eta_seconds)`` ``(T, S)``: at each row, whether the trend line of the
    window ending there reaches ``limit`` ``(S,)`` within the horizon (module docs), and
    in how many seconds (NaN where not). Series with a NaN limit never cross.
    """
    t = np.asarray(seconds, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    factor = magnitude_factors(y)  # 1e300 or 1e-300: the line of the same series in an
    y, limit = y * factor, np.asarray(limit, dtype=np.float64) * factor  # ordinary unit
    n, k = y.shape
    crosses = np.zeros((n, k), dtype=bool)
    eta = np.full((n, k), np.nan)
    if n < 3 or not np.isfinite(limit).any():
        return crosses, eta
    seen = np.isfinite(y)
    origin = np.array([y[seen[:, j], j].mean() if seen[:, j].any() else 0.0
                       for j in range(k)])
    yc = np.where(seen, y - origin, 0.0)  # centred: sums of squares without cancellation
    x = ((t - t[0]) / 3600.0)[:, None]    # hours from the first row
    xv = np.where(seen, x, 0.0)
    start = np.searchsorted(t, t - WINDOW_SECONDS, side="right")

    def windowed(a: np.ndarray) -> np.ndarray:
        total = np.vstack([np.zeros((1, k)), np.cumsum(a, axis=0)])
        return total[1:] - total[start]

    count = windowed(seen.astype(np.float64))
    sx, sy = windowed(xv), windowed(yc)
    sxx, sxy, syy = windowed(xv * xv), windowed(xv * yc), windowed(yc * yc)
    # (over: a limit near the float limit is out of reach, hours = ±inf, never crossed)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean_x, mean_y = sx / count, sy / count
        spread_x = sxx - sx * mean_x
        slope = (sxy - sx * mean_y) / spread_x  # per hour
        residual = np.maximum(syy - sy * mean_y - slope * (sxy - sx * mean_y), 0.0)
        scatter = np.sqrt(residual / (count - 2))
        now = mean_y + slope * (x - mean_x)
        ahead = x + horizon_seconds / 3600.0
        band = scatter * np.sqrt(1 + 1 / count + (ahead - mean_x) ** 2 / spread_x)
        lower = mean_y + slope * (ahead - mean_x) - _quantile(count) * band
        room = (np.asarray(limit, dtype=np.float64) - origin)[None, :]
        hours = (room - now) / slope
    history = _spanned(t, seen, start)
    crosses = (history & (count >= 3) & (spread_x > 0) & (slope > 0) & (lower >= room)
               & np.isfinite(room))
    # to the second: the line's sums carry rounding of a few milliseconds
    eta = np.where(crosses, np.round(np.clip(hours, 0.0, horizon_seconds / 3600) * 3600),
                   np.nan)
    return crosses, eta


def _quantile(count: np.ndarray) -> np.ndarray:
    """Student's t :data:`CONFIDENCE` quantile with ``count − 2`` degrees of freedom (a line
    through few points is less sure of itself than the normal quantile says); NaN below 3."""
    from scipy import stats

    dof = np.nan_to_num(count, nan=0.0).astype(np.int64) - 2
    table = np.full(max(int(dof.max(initial=0)), 0) + 1, np.nan)
    table[1:] = stats.t.ppf(CONFIDENCE, np.arange(1, table.size))
    return table[np.clip(dof, 0, None)]


def _spanned(t: np.ndarray, seen: np.ndarray, start: np.ndarray) -> np.ndarray:
    """``(T, S)``: whether the series' values in the window ``start[i] … i`` span at least
    :data:`MIN_SECONDS` and its newest value is at most :data:`STALE_SECONDS` old.

    >>> t = np.arange(0.0, 4 * 3600 + 1, 1800.0)          # half-hourly rows, 0 … 4 h
    >>> seen = np.ones((t.size, 2), bool); seen[:4, 1] = False   # series 1 starts at 2 h
    >>> seen[-2:, 0] = False                               # series 0 silent from 3.5 h
    >>> _spanned(t, seen, np.zeros(t.size, np.int64)).astype(int).T.tolist()
    [[0, 0, 0, 0, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0, 0, 1]]
    """
    n = seen.shape[0]
    rows = np.arange(n)[:, None]
    newest = np.maximum.accumulate(np.where(seen, rows, -1), axis=0)        # last seen ≤ i
    after = np.minimum.accumulate(np.where(seen, rows, n)[::-1], axis=0)[::-1]  # first ≥ i
    oldest = after[start]                                                 # first in window
    valid = (newest >= 0) & (oldest <= rows)
    first_t = t[np.minimum(oldest, n - 1)]
    last_t = t[np.maximum(newest, 0)]
    return (valid & (last_t - first_t >= MIN_SECONDS - 1e-9)
            & (t[:, None] - last_t <= STALE_SECONDS + 1e-9))


def learning_rows(probability: np.ndarray) -> np.ndarray:
    """Rows before each series' first probability (its warm-up).

    >>> nan = np.nan
    >>> learning_rows(np.array([[nan, nan], [nan, 0.2], [0.1, nan]])).tolist()
    [[True, True], [True, False], [False, False]]
    """
    return np.cumsum(np.isfinite(probability), axis=0) == 0


def with_trend(result: Any, values: np.ndarray) -> tuple[Any, np.ndarray]:
    """``result`` (a :class:`~kizashi.prediction.predictor.PredictionResult` of ``values``,
    ``(T, S)``) with each learning row whose trend crosses its limit warned, its ETA from
    the line where it had none; and those rows ``(T, S)``. Rows that the result's cycle
    gate shuts (a series seen to fill and be emptied, whose cycle does not go further)
    are not warned, as the forecasters' own warnings are not."""
    seconds = result.timestamps.astype("datetime64[ns]").astype(np.int64) / 1e9
    crosses, eta_seconds = trend_crossings(seconds, values, result.limits,
                                           result.horizon_seconds)
    early = crosses & learning_rows(result.probability) & ~result.warning
    if result.cycle_open is not None:  # a series that fills and is emptied: its cycles
        early &= result.cycle_open     # must go further (the forecasters' cycle gate)
    offsets = (np.nan_to_num(eta_seconds) * 1e9).astype(np.int64).astype("timedelta64[ns]")
    eta = np.where(early & np.isnat(result.eta), result.timestamps[:, None] + offsets,
                   result.eta)
    return dataclasses.replace(result, warning=result.warning | early, eta=eta), early
