"""Compiled loops of the rolling thresholds: one pass over a ``(time, series)`` block.

The rolling detectors' state is a window of the last ``size`` observed values
per series (:class:`kizashi.streaming.RollingWindow`). Recomputing a mean, a σ
or two quantiles from the whole window at every step costs ``O(size)`` per
point; these kernels carry what they need across the block instead:

* :func:`sigma_block` keeps the window's moments as sums of deviations from a
  per-series *shift* (close to the mean, so that the variance does not cancel),
  updated in ``O(1)`` per point and recomputed exactly from the window every
  ``size`` pushes (and whenever a sum is not finite: values near the float
  limit fall back to the exact, overflow-safe two-pass moments, and the state
  marks the sums unusable instead of keeping ``inf``). The moments
  are part of the detector's state, so a single step, a block and a restored
  stream run the same arithmetic and agree bit for bit.
* :func:`quantile_block` sorts each series' window once per block and keeps it
  sorted with one binary-search insertion and removal per point.

Both detectors call these kernels for a single step too, so there is one code
path. Without numba they run as (slow) Python.

Examples
--------
>>> values = np.array([[1.0], [2.0], [3.0], [10.0]])
>>> window = np.full((3, 1), np.nan)
>>> position, count = np.zeros(1, np.int64), np.zeros(1, np.int64)
>>> moments = np.zeros((4, 1))
>>> out = np.empty_like(values)
>>> sigma_block(values, out, out, out, False, window, position, count, moments,
...             2, np.nan, np.nan)
>>> round(float(out[-1, 0]), 6)    # |10 - 2| / σ(1, 2, 3)
9.797959
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import njit
from kizashi.streaming.robust import ABSOLUTE_FLOOR, FLOAT_MAX, MAX_SCORE, RELATIVE_FLOOR

__all__ = ["MOMENT_ROWS", "exact_moments", "quantile_block", "sigma_block"]

#: Rows of the per-series moments array: shift, Σ(v − shift), Σ(v − shift)², pushes since
#: the last exact recomputation.
MOMENT_ROWS = 4
#: The variance from the carried sums is recomputed exactly from the window when it is
#: below this fraction of the mean square about the shift (relative error then ≤ 1e-10).
CANCELLATION = 1e-6
#: The pushes count of a series whose sums would lie beyond the float range: its moments
#: come from its window, exactly, until the extreme value has left (no inf in the state).
UNUSABLE = -1.0


@njit(cache=True, error_model="numpy")
def _floor(level: float, minimum: float) -> float:
    """:func:`kizashi.streaming.robust.spread_floor` of one value (``minimum`` NaN: None)."""
    magnitude = abs(level)
    if math.isnan(minimum):
        floor = RELATIVE_FLOOR * magnitude
        return ABSOLUTE_FLOOR if math.isnan(floor) or floor < ABSOLUTE_FLOOR else floor
    floor = ABSOLUTE_FLOOR * (1.0 + magnitude)
    return minimum if math.isnan(floor) or floor < minimum else floor


@njit(cache=True, error_model="numpy")
def _bounded(score: float) -> float:
    return min(max(score, -MAX_SCORE), MAX_SCORE)


@njit(cache=True, error_model="numpy")
def _largest(column: np.ndarray, shift: float, halve: bool) -> float:
    largest = 0.0
    for v in column:
        if not math.isnan(v):
            part = v / 2.0 - shift / 2.0 if halve else v
            largest = max(largest, abs(part))
    return largest if largest > 0.0 else 1.0


@njit(cache=True, error_model="numpy")
def exact_moments(column: np.ndarray, count: int) -> tuple[float, float]:
    """Mean and population σ of the non-missing values of one window, overflow-safe.

    Sums that overflow are taken after scaling down, so a window holding a value near
    the float limit has a huge but finite mean and σ (σ capped at the largest float).
    """
    if count <= 0:
        return np.nan, np.nan
    total = 0.0
    for v in column:
        if not math.isnan(v):
            total += v
    mean = total / count
    if not math.isfinite(total):
        scale = _largest(column, 0.0, False)
        scaled = 0.0
        for v in column:
            if not math.isnan(v):
                scaled += v / scale
        mean = scale * (scaled / count)
    squares = 0.0
    for v in column:
        if not math.isnan(v):
            squares += (v - mean) * (v - mean)
    std = math.sqrt(squares / count)
    if not math.isfinite(std):
        scale = _largest(column, mean, True)
        scaled = 0.0
        for v in column:
            if not math.isnan(v):
                part = (v / 2.0 - mean / 2.0) / scale
                scaled += part * part
        std = min(2.0 * scale * math.sqrt(scaled / count), FLOAT_MAX)
    return mean, std


@njit(cache=True, error_model="numpy")
def _resync(column: np.ndarray, count: int, moments: np.ndarray, b: int) -> None:
    """Recompute series ``b``'s moments exactly from its window.

    The shift is the window's value nearest its mean: close enough to the mean
    that the variance keeps its digits, and exactly the value of a flat window
    (whose sums are then exactly 0). Sums beyond the float range (a window holding a
    value near the float limit) are not kept: the pushes count is set to
    :data:`UNUSABLE`, and the window's moments are taken exactly from its values
    until a resync finds finite sums again.
    """
    shift = 0.0
    if count > 0:
        mean = exact_moments(column, count)[0]
        nearest = np.inf
        for v in column:
            if not math.isnan(v) and abs(v - mean) < nearest:
                nearest = abs(v - mean)
                shift = v
    first = 0.0
    second = 0.0
    for v in column:
        if not math.isnan(v):
            first += v - shift
            second += (v - shift) * (v - shift)
    if math.isfinite(first) and math.isfinite(second):
        moments[0, b] = shift
        moments[1, b] = first
        moments[2, b] = second
        moments[3, b] = 0.0
    else:  # a value near the float limit: no running sums (the state stays finite)
        moments[0, b] = shift
        moments[1, b] = 0.0
        moments[2, b] = 0.0
        moments[3, b] = UNUSABLE


@njit(cache=True, error_model="numpy")
def sigma_block(values: np.ndarray, out: np.ndarray, forecast: np.ndarray, spread: np.ndarray,
                want_band: bool, window: np.ndarray, position: np.ndarray, count: np.ndarray,
                moments: np.ndarray, min_periods: int, min_std: float, clip: float) -> None:
    """Score ``values`` ``(time, series)`` by ``|x − mean| / σ`` of each window, and learn.

    ``window`` ``(size, series)``, ``position``, ``count`` and ``moments``
    ``(MOMENT_ROWS, series)`` are updated in place. ``min_std`` and ``clip`` are
    NaN for None. With ``want_band`` the mean and σ each step was judged against
    go to ``forecast`` and ``spread`` (NaN while warming up).
    """
    size = window.shape[0]
    for i in range(values.shape[0]):
        for b in range(values.shape[1]):
            x = values[i, b]
            n = count[b]
            mean = np.nan
            std = np.nan
            if n > 0:
                first, second = moments[1, b], moments[2, b]
                if moments[3, b] >= 0.0 and math.isfinite(first) and math.isfinite(second):
                    offset = first / n
                    square = second / n
                    variance = square - offset * offset
                    if second > 0.0 and variance <= CANCELLATION * square:
                        # the mean drifted far from the shift (or the window went flat):
                        # recentre exactly before the difference loses its digits
                        _resync(window[:, b], n, moments, b)
                        offset = moments[1, b] / n
                        square = moments[2, b] / n
                        variance = square - offset * offset
                    mean = moments[0, b] + offset
                    std = math.sqrt(max(variance, 0.0))
                else:
                    mean, std = exact_moments(window[:, b], n)
            ready = n >= min_periods
            floor = _floor(mean, min_std)
            sigma = std if math.isnan(std) or std > floor else floor
            if want_band:
                forecast[i, b] = mean if ready else np.nan
                spread[i, b] = sigma if ready else np.nan
            if math.isnan(x):
                out[i, b] = np.nan
                continue
            out[i, b] = _bounded(abs(x - mean) / sigma) if ready else 0.0
            learned = x
            if ready and not math.isnan(clip):
                reach = clip * sigma
                low, high = mean - reach, mean + reach
                learned = np.nan if math.isnan(low) or math.isnan(high) else \
                    min(max(x, low), high)
                if math.isnan(learned):
                    continue
            slot = position[b]
            old = window[slot, b]
            window[slot, b] = learned
            position[b] = (slot + 1) % size
            count[b] = min(n + 1, size)
            if moments[3, b] < 0.0:  # sums beyond the float range: exact from the window
                _resync(window[:, b], count[b], moments, b)
                continue
            shift = moments[0, b]
            if not math.isnan(old):
                moments[1, b] -= old - shift
                moments[2, b] -= (old - shift) * (old - shift)
            moments[1, b] += learned - shift
            moments[2, b] += (learned - shift) * (learned - shift)
            moments[3, b] += 1.0
            if moments[3, b] >= size or not (math.isfinite(moments[1, b])
                                             and math.isfinite(moments[2, b])):
                _resync(window[:, b], count[b], moments, b)


def init_moments(window: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Exact moments of every series' window: the ``moments`` state of :func:`sigma_block`."""
    moments = np.zeros((MOMENT_ROWS, window.shape[1]))
    for b in range(window.shape[1]):
        _resync(np.ascontiguousarray(window[:, b]), int(count[b]), moments, b)
    return moments


@njit(cache=True, error_model="numpy")
def _quantile(ordered: np.ndarray, n: int, q: float) -> float:
    """Linear-interpolated quantile of ``ordered[:n]`` (as ``RollingWindow.quantiles``)."""
    if n <= 0:
        return np.nan
    last = n - 1
    at = q * last
    low = int(at)  # at >= 0: truncation is the floor
    high = min(low + 1, last)
    frac = at - low
    return ordered[low] * (1 - frac) + ordered[high] * frac


@njit(cache=True, error_model="numpy")
def quantile_block(values: np.ndarray, out: np.ndarray, window: np.ndarray,
                   position: np.ndarray, count: np.ndarray, q_low: float, q_high: float,
                   min_periods: int, min_width: float) -> None:
    """Score ``values`` ``(time, series)`` by the distance beyond a rolling quantile band.

    The score is ``max(x − q_high, q_low − x, 0) / width`` with the width floored
    like :func:`kizashi.streaming.robust.spread_floor` (``min_width`` NaN: None),
    0 before ``min_periods`` observations. The window state is updated in place.
    """
    size = window.shape[0]
    ordered = np.empty(size)
    for b in range(values.shape[1]):
        n = count[b]
        filled = 0
        for v in window[:, b]:
            if not math.isnan(v):
                ordered[filled] = v
                filled += 1
        ordered[:filled].sort()
        for i in range(values.shape[0]):
            x = values[i, b]
            if math.isnan(x):
                out[i, b] = np.nan
                continue
            low = _quantile(ordered, n, q_low)
            high = _quantile(ordered, n, q_high)
            if n >= min_periods:
                width = min(high - low, FLOAT_MAX)
                centre = low / 2.0 + high / 2.0
                floor = _floor(centre, min_width)
                width = width if math.isnan(width) or width > floor else floor
                beyond = max(max(x - high, low - x), 0.0)
                out[i, b] = _bounded(beyond / width)
            else:
                out[i, b] = 0.0
            slot = position[b]
            old = window[slot, b]
            window[slot, b] = x
            position[b] = (slot + 1) % size
            if n == size:  # the oldest value leaves the sorted window
                gone = np.searchsorted(ordered[:n], old)
                for k in range(gone, n - 1):
                    ordered[k] = ordered[k + 1]
                n -= 1
            at = np.searchsorted(ordered[:n], x)
            for k in range(n, at, -1):
                ordered[k] = ordered[k - 1]
            ordered[at] = x
            n += 1
            count[b] = n
