"""Predictions for a daemon: keep each series' recent history, predict each new step.

:class:`LivePredictor` is what ``kizashi predict`` does, one block of new
steps at a time: it keeps the last :meth:`history_steps` rows (all that the
forecaster looks back at), predicts the new rows from them, and carries the
warnings' hysteresis across calls. Its state is plain arrays
(:meth:`state_dict`), so a daemon can store it and restart where it stopped.
The answers equal :func:`~kizashi.prediction.predictor.predict_frame`'s on the
whole series (up to rounding in the running sums).

>>> import numpy as np
>>> live = LivePredictor(step_seconds=300.0, limits=np.array([100.0]), horizon="6h")
>>> seconds = np.arange(0, 4 * 86400, 300.0)
>>> disk = (20.05 + seconds / 3600)[:, None]  # +1 %/h, full just before 80 h
>>> for start in range(0, seconds.size, 500):
...     latest = live.update(seconds[start:start + 500], disk[start:start + 500])
>>> bool(latest.warning[0]), round(float(latest.eta_seconds[0] - seconds[-1]) / 3600, 2)
(True, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kizashi.durations import parse_duration
from kizashi.prediction.calibration import TIME_TO_LIMIT
from kizashi.prediction.limit_forecaster import SEASON_DAYS
from kizashi.prediction.predictor import (
    DEFAULT_CUTOFF,
    RESOLVE_SECONDS,
    forecaster_for,
)

__all__ = ["LivePrediction", "LivePredictor"]


@dataclass(frozen=True)
class LivePrediction:
    """The newest step's probability (NaN while learning), warning state, and ETA
    (seconds since the epoch, NaN when none) per series."""

    probability: np.ndarray
    warning: np.ndarray
    eta_seconds: np.ndarray


class LivePredictor:
    """Time-to-limit predictions of ``len(limits)`` series, fed block by block.

    Parameters
    ----------
    step_seconds : float
        The series' step.
    limits : array of float
        Each series' limit.
    horizon : str or float
        How far ahead (``"6h"``).
    cutoff : float
        Warn at this calibrated probability.
    """

    def __init__(self, step_seconds: float, limits: np.ndarray, horizon: str | float = "6h",
                 cutoff: float = DEFAULT_CUTOFF):
        self.step_seconds = float(step_seconds)
        self.limits = np.asarray(limits, dtype=np.float64)
        self.horizon = horizon
        self.cutoff = float(cutoff)
        self._forecaster = forecaster_for(self.step_seconds, parse_duration(horizon))
        self._resolve = max(round(RESOLVE_SECONDS / self.step_seconds), 1)
        k = self.limits.size
        self.times_ = np.empty(0)
        self.values_ = np.empty((0, k))
        self.filter_state_: dict[str, np.ndarray] = {
            "above_run": np.zeros(k, dtype=np.int64), "below_run": np.zeros(k, dtype=np.int64),
            "active": np.zeros(k, dtype=bool)}

    def history_steps(self) -> int:
        """Rows the forecaster looks back at from the newest one."""
        f = self._forecaster
        season = (f.season_steps or 0) * SEASON_DAYS
        reach = max(2 * f.window, season + f.window)
        return reach + f.error_window + 2 * f.horizon_steps + 1

    def update(self, times: np.ndarray, values: np.ndarray) -> LivePrediction:
        """Add new rows (``times`` in seconds, ``values`` ``(n, series)``) and predict them."""
        from kizashi.decision.alert_filter import AlertFilter

        times = np.asarray(times, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64).reshape(times.size, self.limits.size)
        if times.size == 0:
            raise ValueError("update needs at least one new row")
        self.times_ = np.r_[self.times_, times][-self.history_steps():]
        self.values_ = np.vstack([self.values_, values])[-self.history_steps():]
        new = min(times.size, self.times_.size)
        out = self._forecaster.crossing(self.values_, upper=self.limits)
        probability = TIME_TO_LIMIT.probability(out.z[-new:])
        eta_steps = out.eta_steps[-new:]
        with np.errstate(invalid="ignore"):
            there = out.ready[-new:] & (self.values_[-new:] >= self.limits)
        probability = np.where(there, 1.0, probability)
        eta_steps = np.where(there, 0.0, eta_steps)
        alerts = AlertFilter(min_steps=1, resolve_steps=self._resolve)
        with np.errstate(invalid="ignore"):
            for row in probability >= self.cutoff:
                alerts.update(self.filter_state_, row)
        eta = self.times_[-1] + eta_steps[-1] * self.step_seconds
        return LivePrediction(probability[-1], self.filter_state_["active"].copy(), eta)

    def state_dict(self) -> dict[str, Any]:
        """The history and the warnings' state, as plain arrays."""
        return {"times": self.times_.copy(), "values": self.values_.copy(),
                **{f"filter_{k}": v.copy() for k, v in self.filter_state_.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Go on from a :meth:`state_dict`."""
        values = np.asarray(state["values"], dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.limits.size:
            raise ValueError(f"the saved state has {values.shape[-1]} series, "
                             f"this predictor {self.limits.size}")
        self.times_ = np.asarray(state["times"], dtype=np.float64)
        self.values_ = values
        self.filter_state_ = {k: np.asarray(state[f"filter_{k}"]).copy()
                              for k in ("above_run", "below_run", "active")}
