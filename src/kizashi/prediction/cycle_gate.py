"""The cycle gate: a series that fills and is emptied warns only when a cycle goes further.

Log files rotated every few hours, scratch areas cleaned, heaps collected, services
restarted: such a series rises, often steeply, towards a peak, then drops. Each rise
read on its own looks like a fill heading for the limit (a 6 h line through a tooth of
a sawtooth whose peaks sit at 93–98 % crosses 100 % within hours), so ``kizashi
predict`` warned on almost every tooth (``benchmarks/prediction.py --families``:
``sawtooth_under``). What tells it from a fill is its own past: it has been there, and
came back.

At each step the series' mean over the last ``segment`` steps ``s`` is compared with the
highest such mean of the last ``3·segment`` steps; a **reset** starts where ``s`` has
fallen from it by at least :data:`RESET_SHARE` of what separates ``s`` from the limit,
and by at least :data:`FAST_FALL` times the largest rise over ``3·segment`` steps that
ended 3 to 9 segments before (a fast drop, large against the room left;
slow daily rhythms, a ripple that falls as it rose, and noise far from the limit are not
resets). The highest value between two resets is a cycle's **peak**. While at
least two resets happened within ``memory`` steps, the series is *cycling*, and the gate
is open only when

* the value is past the highest recent peak by :data:`NEW_SHARE` of the room left between that
  peak and the limit (the cycle goes somewhere the recent ones did not), or
* the peaks creep towards the limit: the highest peak plus the median rise from one peak
  to the next, per step between resets, times the horizon, reaches the limit (a sawtooth
  whose peaks climb a few points a cycle; a leak under a garbage collector).

A series that is not cycling passes. :class:`CycleGate` keeps a few arrays per series
(:meth:`CycleGate.fresh`) and steps row by row; :func:`cycle_gate` runs it over a whole
array, so the batch and the stream are one computation.

>>> import numpy as np
>>> t = np.arange(6 * 288)  # six days of 5-minute steps
>>> under = 25 + 70 * ((t % 72) / 72)  # a 6 h sawtooth peaking at 95, limit 100
>>> gate = cycle_gate(under[:, None], np.array([100.0]), segment=4, horizon=72, memory=576)
>>> bool(gate[:140, 0].all()), bool(gate[150:, 0].any())  # learning, then shut
(True, False)
>>> creep = 25 + (70 + 0.5 * (t // 72)) * ((t % 72) / 72)  # peaks climb half a point
>>> gate = cycle_gate(creep[:, None], np.array([100.0]), segment=4, horizon=72, memory=576)
>>> first = int(np.argmax(gate[150:, 0])) + 150  # open 3 cycles before the one that crosses
>>> first // 72, bool(creep[first] < 100), int(np.argmax(creep >= 100)) // 72
(10, True, 13)
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["FAST_FALL", "NEW_SHARE", "PEAKS_KEPT", "RESET_SHARE", "CycleGate", "cycle_gate",
           "run_gate"]

#: A reset: the segment mean fell, within 3 segments, by this share of the room it has left.
RESET_SHARE = 0.5
#: A reset falls faster than the series rose: the fall within 3 segments is at least this
#: many times its largest rise over 3 segments in the 9 before (a ripple or a daily rhythm
#: falls as fast as it rose; a rotation or cleanup drops at once).
FAST_FALL = 1.5
#: Past the highest recent peak by this share of the room it left: new ground, the gate opens.
NEW_SHARE = 0.25
#: Cycle peaks remembered per series.
PEAKS_KEPT = 8


class CycleGate:
    """The gate one row at a time (see the module docs).

    Parameters
    ----------
    segment : int
        Steps averaged into the value compared (``kizashi predict``: 20 minutes).
    horizon : int
        Steps ahead that the peaks' creep is extended over.
    memory : int
        Resets older than this many steps no longer count.
    resets : int
        Resets within ``memory`` that make a series *cycling* (kizashi: 2; one was measured
        and not taken, ``benchmarks/prediction_lookalike_options.py``).
    """

    def __init__(self, segment: int, horizon: int, memory: int, resets: int = 2):
        if int(resets) < 1:
            raise ValueError(f"resets must be at least 1, got {resets}")
        self.segment, self.horizon, self.memory = int(segment), int(horizon), int(memory)
        self.resets = int(resets)

    def fresh(self, n_series: int) -> dict[str, Any]:
        """The state of ``n_series`` series that have seen nothing."""
        k = int(n_series)
        return {"values": np.full((self.segment, k), np.nan),
                "means": np.full((12 * self.segment + 1, k), np.nan),
                "count": np.zeros(k, dtype=np.int64),
                "top": np.full(k, np.nan),  # highest value since the last reset
                "falling": np.zeros(k, dtype=bool),
                "peaks": np.full((PEAKS_KEPT, k), np.nan),  # oldest first
                "at": np.full((PEAKS_KEPT, k), np.nan)}  # the step of each peak's reset

    def step(self, state: dict[str, Any], values: np.ndarray, limit: np.ndarray) -> np.ndarray:
        """Add one row ``(S,)`` (NaN: the last value carried forward); whether each series'
        gate is open."""
        limit = np.asarray(limit, dtype=np.float64)
        count, w = state["count"], self.segment
        columns = np.arange(count.size)
        ring = state["values"]
        last = ring[(count - 1) % w, columns]
        value = np.where(np.isfinite(values), values, np.where(count > 0, last, np.nan))
        started = np.isfinite(value)
        ring[count % w, columns] = value
        mean = np.where(count + 1 >= w, ring.mean(axis=0), np.nan)
        means = state["means"]
        size = means.shape[0]
        means[count % size, columns] = mean
        lags = (count[None, :] - np.arange(size)[:, None]) % size  # newest first
        ordered = np.take_along_axis(means, lags, axis=0)
        ordered = np.where(np.arange(size)[:, None] <= count[None, :], ordered, np.nan)
        with np.errstate(invalid="ignore"):
            recent = np.where(np.isfinite(ordered[:3 * w + 1]), ordered[:3 * w + 1],
                              -np.inf).max(axis=0)
            # the largest rise over 3 segments ending 3 to 9 segments ago
            rises = ordered[3 * w:9 * w + 1] - ordered[6 * w:12 * w + 1]
            rose = np.where(np.isfinite(rises), rises, -np.inf).max(axis=0)
            room = limit - mean
            fall = recent - mean
            falling = ((room > 0) & (fall >= RESET_SHARE * room) & np.isfinite(rose)
                       & (fall >= FAST_FALL * rose))
        reset = falling & ~state["falling"]
        state["falling"] = falling
        top = state["top"]
        peaks, at = state["peaks"], state["at"]
        if reset.any():  # the cycle that ended: its peak joins the ring
            peaks[:, reset] = np.r_[peaks[1:, reset], top[None, reset]]
            at[:, reset] = np.r_[at[1:, reset], count[None, reset].astype(np.float64)]
            top[reset] = value[reset]
        top[:] = np.where(reset, top, np.fmax(top, value))
        gate = self._open(peaks, at, count, value, limit)
        count += started
        return gate

    def _open(self, peaks: np.ndarray, at: np.ndarray, count: np.ndarray, value: np.ndarray,
              limit: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            live = np.isfinite(at) & (at >= count[None, :] - self.memory)
            cycling = live.sum(axis=0) >= self.resets
            if not cycling.any():
                return np.ones(count.size, dtype=bool)
            kept = np.where(live, peaks, np.nan)
            ceiling = np.where(cycling, np.nanmax(np.where(live, peaks, -np.inf), axis=0),
                               np.nan)
            rises = np.diff(kept, axis=0)
            gaps = np.diff(np.where(live, at, np.nan), axis=0)
            has_rise = np.isfinite(rises).any(axis=0)
            rise = np.where(has_rise, _nan_median(rises), 0.0)
            gap = np.where(has_rise, _nan_median(gaps), np.inf)
            creep = ceiling + np.maximum(rise, 0.0) * self.horizon / np.maximum(gap, 1.0)
            new = value > ceiling + NEW_SHARE * (limit - ceiling)
            return ~cycling | new | (creep >= limit)


def _nan_median(stack: np.ndarray) -> np.ndarray:
    """The median over axis 0 ignoring NaN (NaN where all are), without warnings."""
    ordered = np.sort(stack, axis=0)  # NaN last
    n = np.isfinite(stack).sum(axis=0)
    columns = np.arange(stack.shape[1])
    lo = ordered[np.maximum((n - 1) // 2, 0), columns]
    hi = ordered[np.maximum(n // 2, 0), columns]
    return np.where(n > 0, (lo + hi) / 2, np.nan)


def cycle_gate(values: np.ndarray, limit: np.ndarray, segment: int, horizon: int,
               memory: int) -> np.ndarray:
    """``(T, S)``: the gate of :class:`CycleGate` at every row of ``values``."""
    return run_gate(CycleGate(segment, horizon, memory), values, limit)


def run_gate(gate: CycleGate, values: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """``(T, S)``: ``gate`` stepped over every row of ``values`` from a fresh state."""
    values = np.asarray(values, dtype=np.float64)
    state = gate.fresh(values.shape[1])
    out = np.ones(values.shape, dtype=bool)
    for row in range(values.shape[0]):
        out[row] = gate.step(state, values[row], limit)
    return out
