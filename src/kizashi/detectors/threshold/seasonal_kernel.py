"""The seasonal baseline's step, compiled: one pass over a ``(time, series)`` block.

:class:`~kizashi.detectors.threshold.seasonal.SeasonalThreshold` keeps, per
series, a discounted level, a discounted spread of residuals and a discounted
profile per slot of the period. Each step is a handful of arithmetic per series,
so numpy's per-step calls cost far more than the work; :func:`seasonal_block`
runs the same recurrence over a block in one compiled loop (single steps use it
too, so steps and blocks agree bit for bit). The discounted moments follow
:class:`kizashi.streaming.DiscountedMoments`, near-limit values included.

Examples
--------
>>> n = 1
>>> level, residuals = (np.zeros(n), np.zeros(n), np.zeros(n)), (np.zeros(n), np.zeros(n),
...                                                               np.zeros(n))
>>> profile, weight, seen = np.zeros((2, n)), np.zeros((2, n)), np.full((2, n), np.nan)
>>> first, last = np.full(n, np.nan), np.full(n, np.nan)
>>> values, t = np.r_[np.full(6, 5.0), 9.0][:, None], np.arange(7.0)
>>> out = np.empty_like(values)
>>> seasonal_block(values, t, t, out, level, residuals, profile, weight, seen, first, last,
...                (2.0, 1.0, 10.0, 10.0), 5.0, 2.0, np.nan, 10.0)
>>> out[:, 0].round(1).tolist()   # scored once two periods are seen; 9 is far off 5
[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 800.0]
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import njit
from kizashi.detectors.threshold.rolling_kernels import _bounded, _floor
from kizashi.streaming.discounted_kernel import discounted_update

__all__ = ["seasonal_block"]


@njit(cache=True, error_model="numpy")
def _maximum(a: float, b: float) -> float:
    """``np.maximum`` of two numbers (NaN if either is)."""
    if math.isnan(a) or math.isnan(b):
        return np.nan
    return a if a > b else b


@njit(cache=True, error_model="numpy")
def _clip(a: float, low: float, high: float) -> float:
    """``np.clip`` of one number (NaN if any operand is)."""
    return -_maximum(-_maximum(a, low), -high) if not math.isnan(high) else np.nan


@njit(cache=True, error_model="numpy")
def seasonal_block(values: np.ndarray, t: np.ndarray, slot_t: np.ndarray, out: np.ndarray,
                   level: tuple[np.ndarray, np.ndarray, np.ndarray],
                   residuals: tuple[np.ndarray, np.ndarray, np.ndarray],
                   profile: np.ndarray, profile_weight: np.ndarray, profile_seen: np.ndarray,
                   first_seen: np.ndarray, last_seen: np.ndarray,
                   layout: tuple[float, float, float, float],
                   clip: float, warmup: float, min_std: float, warm_up_reach: float) -> None:
    """Score ``values`` against the seasonal baseline and learn them, in place.

    ``level`` and ``residuals`` are (mean, var, weight) arrays per series; the
    profile arrays are ``(slots, series)``; ``layout`` is (period, slot width,
    level half-life, season half-life) in seconds; ``warmup`` is in periods and
    ``min_std`` NaN means None. ``slot_t`` is the time that picks each row's slot of the
    profile (``t`` itself, or a holiday moved to its week's Sunday).
    """
    period, slot_width, level_halflife, season_halflife = layout
    level_mean, level_var, level_weight = level
    n_slots = profile.shape[0]
    for i in range(values.shape[0]):
        now = t[i]
        slot = int((slot_t[i] % period) // slot_width) % n_slots
        for j in range(values.shape[1]):
            x = values[i, j]
            if math.isnan(x):
                out[i, j] = np.nan
                continue
            shape = profile[slot, j]
            slot_known = profile_weight[slot, j] > 0
            mean = level_mean[j]
            expected = mean + shape
            residual = x - expected
            sigma = math.sqrt(residuals[1][j])
            floor = _floor(expected, min_std)
            ready = slot_known and (now - first_seen[j] >= warmup * period)
            spread = _maximum(sigma, floor)
            out[i, j] = _bounded(abs(residual) / spread) if ready else 0.0
            # learn, with residuals clipped once scored, kept near the level before
            if ready:
                limit = clip * spread
                clipped = _clip(residual, -limit, limit)
            elif level_weight[j] > 1.0:
                centre = expected if slot_known else mean
                reach = warm_up_reach * clip * _maximum(math.sqrt(level_var[j]),
                                                        _floor(mean, min_std))
                clipped = _clip(residual, centre - reach - expected, centre + reach - expected)
            else:
                clipped = residual
            learn_x = expected + clipped
            last = last_seen[j]
            elapsed = 0.0 if math.isnan(last) else now - last
            level_decay = 0.5 ** (max(elapsed, 0.0) / level_halflife)
            discounted_update(level_mean, level_var, level_weight, j,
                     learn_x - shape if slot_known else learn_x, level_decay)
            discounted_update(residuals[0], residuals[1], residuals[2], j,
                     clipped if slot_known else np.nan, level_decay)
            before = profile_seen[slot, j]
            gap = 0.0 if math.isnan(before) else now - before
            weight = profile_weight[slot, j] * 0.5 ** (max(gap, 0.0) / season_halflife) + 1.0
            target = learn_x - level_mean[j]
            profile[slot, j] = shape + (target - shape) / weight
            profile_weight[slot, j] = weight
            profile_seen[slot, j] = now
            if math.isnan(first_seen[j]):
                first_seen[j] = now
            last_seen[j] = now
