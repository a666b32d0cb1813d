"""The day-profile baseline's step, compiled: one pass over a ``(time, series)`` block.

:class:`~kizashi.detectors.threshold.day_profile.DayProfile` keeps, per series,
two profiles of the day (working day, day off), each with a mean and a spread
per slot of the day, and a fast gain that scales both profiles. Each step is a
few dozen operations per series, so it runs as one compiled loop (single steps
use it too, so steps and blocks agree bit for bit).

Examples
--------
A series that is 10 by night and 20 by day (slots of half the day): after three
days the profile has it; a 14 at night scores far, a 20 by day is ordinary.

>>> from kizashi.detectors.threshold.day_profile import DayProfile
>>> member = DayProfile(slot=43200.0, ready_days=2.0)
>>> state = member.initial_state(1)
>>> t = np.arange(12) * 21600.0 + 0.5 * 86400.0 * 2  # quarter days, from a Saturday
>>> values = np.where((t % 86400.0) < 43200.0, 10.0, 20.0)
>>> values = values + np.tile([0.5, -0.5], 6)
>>> z = member.assess(state, values[:, None], t)
>>> bool(np.isnan(z[:8]).all())    # not ready for two days
True
>>> later = np.array([[14.0], [20.0]]), t[-1] + np.array([43200.0 + 21600.0, 86400.0])
>>> night, day = member.assess(state, *later)[:, 0]
>>> bool(night > 5), bool(day < 2)
(True, True)
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import njit

__all__ = ["day_profile_block"]

DAY = 86400.0
#: 1970-01-01 was a Thursday: the weekday (Monday = 0) of epoch day ``d`` is ``(d + 3) % 7``.
EPOCH_WEEKDAY = 3


@njit(cache=True, error_model="numpy")
def _fit_of_profile(mean: np.ndarray, var: np.ndarray, weight: np.ndarray, gain: float,
                    kind: int, j: int, every_slot: bool) -> float:
    """Share of a day's variance the profile ``kind`` explains: between slots / total (0
    while it has not seen every slot, if ``every_slot``)."""
    n_slots = mean.shape[1]
    total, total2, spread = 0.0, 0.0, 0.0
    for h in range(n_slots):
        if every_slot and weight[kind, h, j] <= 0:
            return 0.0
        value = gain * mean[kind, h, j]
        total += value
        total2 += value * value
        spread += var[kind, h, j]
    between = max(total2 / n_slots - (total / n_slots) ** 2, 0.0)
    within = spread / n_slots
    return between / (between + within) if between + within > 0 else 0.0


@njit(cache=True, error_model="numpy")
def day_profile_block(values: np.ndarray, t: np.ndarray, off: np.ndarray, out: np.ndarray,
                      mean: np.ndarray, var: np.ndarray, weight: np.ndarray,
                      first: np.ndarray, last: np.ndarray, days: np.ndarray, gain: np.ndarray,
                      gain_sums: np.ndarray, started: np.ndarray, gain_last: np.ndarray,
                      params: np.ndarray) -> None:
    """Score ``values`` against the day profiles and learn them, in place.

    ``mean``/``var``/``weight``/``first``/``last``/``days`` are ``(2, slots,
    series)`` (day kind 0 working, 1 off; ``days`` counts the days a slot was
    taught); ``gain`` ``(series,)``, ``gain_sums`` ``(2, series)``;
    ``started``/``gain_last`` ``(series,)`` times (NaN: never). ``off[i]`` is 1
    for a row on a day off by the calendar. ``params`` is (slot width, profile
    half-life, gain half-life, clip, ready time, minimum fit, relative spread
    floor, teach by the calendar: 1 or 0) in seconds where times. ``out`` gets
    ``|x − expected| / spread`` against the better-fitting known profile, NaN while not
    ready (younger than the ready time, slot not yet seen on two days, or the
    profile — by the calendar: neither complete profile — explaining less than
    the minimum fit of the day's variance).

    By the calendar, a value teaches the calendar's profile (and the gain through
    it) whichever profile judged it; else (the rule before 2026-11-27) it teaches
    the better-fitting known profile, the calendar's while neither knows the slot.
    """
    slot_width, profile_hl, gain_hl, clip, ready_after, min_fit, rel_floor = (
        params[0], params[1], params[2], params[3], params[4], params[5], params[6])
    by_calendar = params[7] > 0
    n_slots = mean.shape[1]
    for i in range(values.shape[0]):
        now = t[i]
        slot = int((now % DAY) // slot_width) % n_slots
        calendar = int(off[i])
        for j in range(values.shape[1]):
            x = values[i, j]
            if math.isnan(x):
                out[i, j] = np.nan
                continue
            if math.isnan(started[j]):
                started[j] = now
            g = gain[j]
            best, best_z, best_spread = -1, np.inf, 0.0
            for kind in range(2):
                if weight[kind, slot, j] <= 0 or now - first[kind, slot, j] < 0.5 * DAY:
                    continue  # a slot counts once it was seen on two different days
                expected = g * mean[kind, slot, j]
                spread = max(math.sqrt(var[kind, slot, j]), rel_floor * abs(expected), 1e-9)
                z = abs(x - expected) / spread
                if z < best_z:
                    best, best_z, best_spread = kind, z, spread
            # a daily cycle: by the calendar in either complete profile (a flat weekend
            # is judged by its profile too), else in the judging one
            if by_calendar:
                fit = max(_fit_of_profile(mean, var, weight, g, 0, j, True),
                          _fit_of_profile(mean, var, weight, g, 1, j, True))
            else:
                fit = _fit_of_profile(mean, var, weight, g, best, j, False) if best >= 0 else 0.0
            ready = best >= 0 and now - started[j] >= ready_after and fit >= min_fit
            out[i, j] = best_z if ready else np.nan
            if by_calendar:  # the calendar's profile, whichever judged the value
                kind = calendar
            else:  # the better-fitting profile (the calendar's while neither knows the slot)
                kind = best if best >= 0 else calendar
            # learn: the residual clipped once the slot is known, the profile in the
            # gain's units
            expected = g * mean[kind, slot, j] if weight[kind, slot, j] > 0 else x
            residual = x - expected
            if kind == best:
                limit = clip * best_spread
                residual = min(max(residual, -limit), limit)
            elif weight[kind, slot, j] > 0 and now - first[kind, slot, j] >= 0.5 * DAY:
                limit = clip * max(math.sqrt(var[kind, slot, j]), rel_floor * abs(expected),
                                   1e-9)
                residual = min(max(residual, -limit), limit)
            learned = expected + residual
            seen = last[kind, slot, j]
            gap = 0.0 if math.isnan(seen) else max(now - seen, 0.0)
            w = weight[kind, slot, j] * 0.5 ** (gap / profile_hl) + 1.0
            if weight[kind, slot, j] > 0:
                var[kind, slot, j] += (residual * residual - var[kind, slot, j]) / w
            mean[kind, slot, j] += (learned / g - mean[kind, slot, j]) / w
            weight[kind, slot, j] = w
            if math.isnan(first[kind, slot, j]):
                first[kind, slot, j] = now
            if math.isnan(seen) or math.floor(seen / DAY) != math.floor(now / DAY):
                days[kind, slot, j] += 1.0
            last[kind, slot, j] = now
            # the gain: recent values over the profile, least squares with a fast half-life
            previous = gain_last[j]
            decay = 0.5 ** ((0.0 if math.isnan(previous) else max(now - previous, 0.0))
                            / gain_hl)
            shape = mean[kind, slot, j]
            gain_sums[0, j] = gain_sums[0, j] * decay + learned * shape
            gain_sums[1, j] = gain_sums[1, j] * decay + shape * shape
            gain_last[j] = now
            if gain_sums[1, j] > 0 and gain_sums[0, j] > 0:
                gain[j] = min(max(gain_sums[0, j] / gain_sums[1, j], 0.05), 20.0)
