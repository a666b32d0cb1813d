"""The rise gate: a warning needs the last hour's own slope to head for the limit.

The forecasters (:mod:`kizashi.prediction.limit_forecaster`) see a rise that
starts as an acceleration (a parabola through a flat stretch and a kink), and
their bands remember the past day, so a rise that stops short of the limit
kept warnings alive for hours. The gate asks the recent data directly: a
series may warn at step ``t`` only while the straight line through its last
``window`` values, continued ``horizon`` steps from its current value, comes
within ``margin · |limit|`` of the limit::

    y[t] + slope[t] · horizon ≥ limit − margin · |limit|

A rise that stops has a flat last hour, so its warning stops being renewed
(and ends after the usual hysteresis); a rise too slow to reach the limit
within the horizon does not start one. Values are carried forward over gaps
(as the forecasters do); the gate is closed until ``window`` steps since a series'
first value.

>>> import numpy as np
>>> rise_then_flat = np.r_[np.linspace(50, 80, 40), np.full(30, 80.0)]
>>> gate = rise_gate(rise_then_flat[:, None], np.array([100.0]), window=12, horizon=72)
>>> bool(gate[39, 0]), bool(gate[60, 0])  # rising 0.77/step: 80 + 55 ≥ 97; then flat
(True, False)
>>> stream = RiseGateStream(window=12, horizon=72)
>>> state = stream.fresh(1)
>>> live = [bool(stream.step(state, np.array([v]), np.array([100.0]))[0])
...         for v in rise_then_flat]
>>> live == gate[:, 0].tolist()
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kizashi.prediction.local_fit import fill_forward, polyfit_filters, rolling_polyfit

__all__ = ["RISE_MARGIN", "RiseGateStream", "rise_gate"]

#: The projection must come within this share of the limit's size (3 %: 97 of 100).
RISE_MARGIN = 0.03


def _open(value: np.ndarray, slope: np.ndarray, limit: np.ndarray, horizon: int,
          margin: float) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):  # (a limit near ±1e308: ±inf)
        return value + slope * horizon >= limit - margin * np.abs(limit)


def rise_gate(values: np.ndarray, limit: np.ndarray, window: int, horizon: int,
              margin: float = RISE_MARGIN) -> np.ndarray:
    """``(T, S)`` bool: whether each step's last-``window`` line reaches ``limit`` (per
    series, ``(S,)``) within ``horizon`` steps, up to the margin (see the module docs)."""
    y, seen = fill_forward(np.asarray(values, dtype=np.float64))
    slope = rolling_polyfit(y, window, 1)[..., 1]
    first = np.where(seen.any(axis=0), np.argmax(seen, axis=0), y.shape[0])
    slope[np.arange(y.shape[0])[:, None] < first[None, :] + window - 1] = np.nan  # learning
    return _open(y, slope, np.asarray(limit, dtype=np.float64)[None, :], horizon, margin)


class RiseGateStream:
    """:func:`rise_gate` one step at a time: a ring of the last ``window`` values per series.

    Its state (:meth:`fresh`) is plain arrays with the series on the last axis (each
    series counts its own steps: one added later waits for its own ``window``).
    """

    def __init__(self, window: int, horizon: int, margin: float = RISE_MARGIN):
        self.window, self.horizon, self.margin = int(window), int(horizon), float(margin)
        self.taps = polyfit_filters(self.window, 1)[1]  # lag j's weight in the slope

    def fresh(self, n_series: int) -> dict[str, Any]:
        """The state of ``n_series`` series that have seen nothing."""
        return {"ring": np.full((self.window, int(n_series)), np.nan),
                "count": np.zeros(int(n_series), dtype=np.int64)}

    def step(self, state: dict[str, Any], values: np.ndarray, limit: np.ndarray) -> np.ndarray:
        """Add one row of ``values`` ``(S,)``; whether each series' gate is open."""
        ring, count = state["ring"], state["count"]
        columns = np.arange(ring.shape[1])
        last = np.where(count > 0, ring[(count - 1) % self.window, columns], np.nan)
        value = np.where(np.isfinite(values), values, last)  # carried forward
        started = np.isfinite(value)  # a series counts its steps from its first value
        ring[count % self.window, columns] = value
        # lag j of each series sits at row (count − j) mod window of the ring
        lags = (count[None, :] - np.arange(self.window)[:, None]) % self.window
        slope = self.taps @ np.take_along_axis(ring, lags, axis=0)
        slope = np.where(started & (count + 1 >= self.window), slope, np.nan)
        count += started
        return _open(value, slope, np.asarray(limit, dtype=np.float64), self.horizon,
                     self.margin)
