"""Predictions for a daemon: each new step of each series, at a fixed cost per step.

:class:`LivePredictor` is what ``kizashi predict`` does, one block of new
steps at a time, without re-fitting the history: the forecasters advance
step by step (:class:`~kizashi.prediction.incremental.IncrementalForecaster`),
the normal envelope of series without a limit comes from the engine's
``threshold`` detector streamed alongside (anomaly ahead), and the warnings'
hysteresis is carried across calls. Its state is one tree of plain arrays
(:meth:`state_dict`), each with the series on its last axis, so a daemon can
store it, add and remove series, and restart where it stopped. The answers
equal :func:`~kizashi.prediction.predictor.predict_frame`'s on the whole
series up to rounding (tested on generated scenarios).

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
from kizashi.prediction.calibration import ANOMALY_AHEAD, TIME_TO_LIMIT
from kizashi.prediction.counters import UNKNOWN, CounterStream
from kizashi.prediction.envelope import EnvelopeStream
from kizashi.prediction.incremental import IncrementalForecaster
from kizashi.prediction.missing_steps import lay_out_missing
from kizashi.prediction.predictor import (
    ANOMALY_AHEAD_CUTOFF,
    DEFAULT_CUTOFF,
    RESOLVE_SECONDS,
    cycle_gate_for,
    forecaster_for,
    rise_steps,
    runaway_lag,
    runaway_memory,
    runaway_steps,
)
from kizashi.prediction.rise_gate import RiseGateStream
from kizashi.prediction.runaway import RunawayStream
from kizashi.state import copy_state
from kizashi.streaming.magnitudes import ORDINARY, magnitude_factors

__all__ = ["BAND_Z", "LivePrediction", "LivePredictor"]

#: The forecast band shown (dashboard): forecast ± BAND_Z standard deviations (a 90 % band).
BAND_Z = 1.6448536269514722


@dataclass(frozen=True)
class LivePrediction:
    """The newest step's probability (NaN while learning), warning state, and ETA
    (seconds since the epoch, NaN when none) per series."""

    probability: np.ndarray
    warning: np.ndarray
    eta_seconds: np.ndarray


class LivePredictor:
    """Predictions of ``len(limits)`` series, fed block by block.

    Parameters
    ----------
    step_seconds : float
        The series' step.
    limits : array of float
        Each series' limit; NaN for a series without one (anomaly ahead).
    horizon : str or float
        How far ahead (``"6h"``).
    cutoff : float
        Series with a limit warn at this calibrated probability (and while the rise gate,
        :mod:`kizashi.prediction.rise_gate`, is open).
    anomaly_cutoff : float
        Series without a limit warn at this one.
    anomaly_ahead : bool
        Predict the series without a limit against their normal envelope (else
        they get no probability).
    counter_hints : array of int, optional
        What is known of each series before its values
        (:func:`~kizashi.prediction.counters.counter_hints`: a counter by its TYPE or its
        name); None: nothing. Not part of the state: the watch sets it from the labels
        (and the source's metadata) each time.
    warmup_trend : bool
        While a series with a limit still learns, warn when its trend line reaches the
        limit within the horizon, as ``kizashi predict --warmup-trend`` does
        (:mod:`kizashi.prediction.warmup_trend_stream`): warning and ETA, no probability.
        Off here (this class alone gives the forecasters' answers, as
        :func:`~kizashi.prediction.predictor.predict_frame` does); ``kizashi predict`` and a
        watch's ``predict:`` turn it on by default.
    """

    def __init__(self, step_seconds: float, limits: np.ndarray, horizon: str | float = "6h",
                 cutoff: float = DEFAULT_CUTOFF, anomaly_ahead: bool = True,
                 anomaly_cutoff: float = ANOMALY_AHEAD_CUTOFF,
                 counter_hints: np.ndarray | None = None, warmup_trend: bool = False):
        from kizashi.decision.alert_filter import AlertFilter
        from kizashi.prediction.warmup_trend_stream import WarmupTrendStream

        self.step_seconds = float(step_seconds)
        self.limits = np.asarray(limits, dtype=np.float64)
        self.horizon = horizon
        self.cutoff = float(cutoff)
        self.anomaly_cutoff = float(anomaly_cutoff)
        self.anomaly_ahead = bool(anomaly_ahead)
        self.kernel = IncrementalForecaster(
            forecaster_for(self.step_seconds, parse_duration(horizon)))
        self._alerts = AlertFilter(min_steps=1, resolve_steps=max(
            round(RESOLVE_SECONDS / self.step_seconds), 1))
        self._envelope = EnvelopeStream()
        self._rise = RiseGateStream(rise_steps(self.step_seconds), self.kernel.horizon)
        self._runaway = RunawayStream(runaway_steps(self.step_seconds), self.kernel.horizon,
                                      lag=runaway_lag(self.step_seconds),
                                      memory=runaway_memory(self.step_seconds))
        self._cycle = cycle_gate_for(self.step_seconds, self.kernel.horizon)
        self._counters = CounterStream()
        self.warmup_trend = bool(warmup_trend)
        self._trend = WarmupTrendStream(self.step_seconds, parse_duration(horizon))
        self.counter_hints = (np.full(self.limits.size, UNKNOWN, dtype=np.int8)
                              if counter_hints is None else np.asarray(counter_hints))
        self.state = self.fresh(self.limits.size)
        #: the series whose state the last :meth:`update` started anew (their values left
        #: the ordinary magnitudes of their unit: a jump of hundreds of orders of magnitude)
        self.restarted = np.zeros(self.limits.size, dtype=bool)
        self._axes: Any = None

    def fresh(self, n_series: int) -> dict[str, Any]:
        """The state of ``n_series`` series that have seen nothing."""
        s, grid = int(n_series), self.kernel.grid.size
        state: dict[str, Any] = {
            "n_series": s, "time": np.full(1, np.nan), "kernel": self.kernel.fresh(s),
            "filter": self._alerts.init(s), "probability": np.full(s, np.nan),
            "eta": np.full(s, np.nan), "lower": np.full(s, np.nan), "upper": np.full(s, np.nan),
            "path": np.full((grid, s), np.nan), "path_sd": np.full((grid, s), np.nan),
            "rise": self._rise.fresh(s), "previous": np.full(s, np.nan),
            "runaway": self._runaway.fresh(s), "cycle": self._cycle.fresh(s),
            "counters": self._counters.fresh(s),
            # per series, the power of two its values are predicted at (NaN: not chosen
            # before its first value; kizashi.streaming.magnitudes)
            "factor": np.full(s, np.nan)}
        if self.anomaly_ahead:
            state["envelope"] = self._envelope.fresh(s)
        if self.warmup_trend:
            state["trend"] = self._trend.fresh(s)
        return state

    @property
    def times_(self) -> np.ndarray:
        """The newest step seen (seconds; empty before the first)."""
        t = self.state["time"]
        return t[np.isfinite(t)]

    def history_steps(self) -> int:
        """Rows of values kept per series (as far back as a forecaster looks)."""
        return self.kernel.history

    def update(self, times: np.ndarray, values: np.ndarray) -> LivePrediction:
        """Add new rows (``times`` in seconds, ``values`` ``(n, series)``) and predict them;
        the newest row's answer."""
        times = np.asarray(times, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64).reshape(times.size, self.limits.size)
        if times.size == 0:
            raise ValueError("update needs at least one new row")
        state = self.state
        # a series whose values left the ordinary range of the unit it is predicted in (a
        # jump from ~1 to ~1e300, or down to ~1e-300) starts anew at a new factor: its
        # sums of squares would overflow (or underflow) in the old one
        self.restarted = self._left_its_unit(values)
        if self.restarted.any():
            self._restart(np.flatnonzero(self.restarted))
        # a series of extreme magnitude (1e300) is predicted at an ordinary one, its limit
        # with it: a power of two per series, chosen at its first values and kept
        factor = state["factor"]
        choose = ~np.isfinite(factor) & np.isfinite(values).any(axis=0)
        if choose.any():
            factor[choose] = magnitude_factors(values[:, choose])
        scale = np.where(np.isfinite(factor), factor, 1.0)
        values, limits = values * scale, self.limits * scale
        # empty steps are missing, and a stretch of them is stepped through as the line
        # between its ends once it ends (as kizashi predict reads a file's missing rows)
        seen = state["kernel"]["seen"].any()
        rows = lay_out_missing(times, values, float(state["time"][0]) if seen else np.nan,
                               state["previous"], self.step_seconds,
                               max_missing=self.kernel.history)
        if rows.times.size == 0:  # only missing steps: the last answer stands
            return self.latest
        times, values, observed = rows.times, rows.values, rows.observed
        has = np.isfinite(limits)
        lower_band = upper_band = np.full(values.shape, np.nan)
        if self.anomaly_ahead and limits.size and not has.all():
            # each row's normal band, as the engine judges it (kizashi.prediction.envelope)
            lower_band, upper_band = self._envelope.advance(state["envelope"], times, values)
        for i in range(times.size):
            row = values[i]
            upper = np.where(has, limits, upper_band[i])
            lower = np.where(has, np.nan, lower_band[i])
            out = self.kernel.step(state["kernel"], row, upper, lower)
            probability = np.where(has, TIME_TO_LIMIT.probability(out.z),
                                   ANOMALY_AHEAD.probability(out.z))
            counting = self._counters.step(state["counters"], row, self.counter_hints)
            probability = np.where(~has & counting, np.nan, probability)
            if not self.anomaly_ahead:
                probability = np.where(has, probability, np.nan)
            hit, soon = self._runaway.step(state["runaway"], row, limits, bool(observed[i]))
            hit &= has
            eta_steps = np.where(has, np.fmin(out.eta_steps, soon),
                                 np.where(counting, np.nan, out.eta_steps))
            with np.errstate(invalid="ignore"):  # already at the limit: certain, due now,
                there = has & (row >= limits)   # learning or not
            probability = np.where(there, 1.0, probability)
            if self.warmup_trend:  # a series with a probability has left its warm-up
                self._trend.learn(state["trend"], probability)
            eta_steps = np.where(there, 0.0, eta_steps)
            rising = self._rise.step(state["rise"], row, limits)
            cycle_open = self._cycle.step(state["cycle"], row, limits)
            gate = ~has | there | (rising & cycle_open)
            with np.errstate(invalid="ignore"):
                above = probability >= np.where(has, self.cutoff, self.anomaly_cutoff)
                self._alerts.update(state["filter"], (above | hit) & gate)
            state["probability"] = probability
            state["eta"] = times[i] + eta_steps * self.step_seconds
            state["upper"], state["lower"] = upper / scale, lower / scale  # in the series'
            state["path"], state["path_sd"] = out.path / scale, out.path_sd / scale  # unit
        state["time"][0] = times[-1]
        state["previous"] = values[-1].copy()
        if self.warmup_trend:  # the warm-up trend line at the newest row (predict's rows)
            self._trend.push(state["trend"], times, values, observed)
            warn, eta = self._trend.decide(state["trend"], limits, state["filter"]["active"],
                                           cycle_open)
            state["eta"] = np.where(warn & np.isnan(state["eta"]), eta, state["eta"])
        return self.latest

    def _left_its_unit(self, values: np.ndarray) -> np.ndarray:
        """Which series' new ``values`` lie outside the ordinary range of magnitudes
        (:data:`~kizashi.streaming.magnitudes.ORDINARY`) once multiplied by their factor."""
        factor = self.state["factor"]
        magnitude = np.where(np.isfinite(values), np.abs(values), 0.0)
        largest = magnitude.max(axis=0, initial=0.0)
        with np.errstate(over="ignore", under="ignore"):
            scaled = largest * np.where(np.isfinite(factor), factor, 1.0)
        return np.isfinite(factor) & (largest > 0.0) & (
            (scaled > ORDINARY) | (scaled < 1.0 / ORDINARY))

    def _restart(self, columns: np.ndarray) -> None:
        """Give the series at ``columns`` a fresh state (as a series joining the watch:
        the steps seen, shared by all, are kept) and no factor yet."""
        if self._axes is None:
            self._axes = _series_axes(self.fresh(1), self.fresh(2))
        fresh = self.fresh(self.limits.size)
        _put_columns(self.state, fresh, self._axes, columns)

    @property
    def latest(self) -> LivePrediction:
        """The newest row's answer."""
        state = self.state
        warning = state["filter"]["active"].copy()
        if self.warmup_trend:  # or the warm-up trend line's (no probability)
            warning |= state["trend"]["warn"]
        return LivePrediction(state["probability"].copy(), warning, state["eta"].copy())

    def trend_warning(self) -> np.ndarray:
        """Which series warn from the warm-up trend line alone (no probability yet)."""
        if not self.warmup_trend:
            return np.zeros(self.limits.size, dtype=bool)
        return self.state["trend"]["warn"] & ~self.state["filter"]["active"]

    def band(self) -> dict[str, np.ndarray]:
        """The newest forecast over the horizon: ``seconds`` ahead ``(grid,)``, and per grid
        step and series the ``forecast`` and its ``lower``/``upper`` 90 % band (NaN while
        learning)."""
        path, sd = self.state["path"], self.state["path_sd"]
        return {"seconds": self.kernel.grid * self.step_seconds, "forecast": path.copy(),
                "lower": path - BAND_Z * sd, "upper": path + BAND_Z * sd}

    def state_dict(self) -> dict[str, Any]:
        """Everything the predictor knows, as plain arrays (a copy)."""
        return copy_state(self.state)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Go on from a :meth:`state_dict`."""
        if int(state["n_series"]) != self.limits.size:
            raise ValueError(f"the saved state has {int(state['n_series'])} series, "
                             f"this predictor {self.limits.size}")
        fresh = self.fresh(self.limits.size)
        if "rise" not in state:  # saved before the rise gate: it learns within its window
            state = {**state, "rise": fresh["rise"]}
        if "runaway" not in state:  # saved before the runaway test: it learns in 3 segments
            state = {**state, "runaway": fresh["runaway"]}
        if "cycle" not in state:  # saved before the cycle gate: it learns its resets anew
            state = {**state, "cycle": fresh["cycle"]}
        if "counters" not in state:  # saved before counters were told apart: learnt anew
            state = {**state, "counters": fresh["counters"]}
        if "factor" not in state:  # saved before extreme magnitudes were scaled: its series
            state = {**state, "factor": np.ones(self.limits.size)}  # go on in their unit
        if self.warmup_trend and np.size(state.get("trend", {}).get("t", ())) not in (
                0, self._trend.rows):  # another step's ring: the line starts anew
            state = {key: value for key, value in state.items() if key != "trend"}
        if self.warmup_trend and "trend" not in state and {"time", "probability"} <= set(
                state):  # saved without the trend line
            state = {**state, "trend": self._trend.upgrade(state)}
        if not self.warmup_trend and "trend" in state:  # the line turned off: dropped
            state = {key: value for key, value in state.items() if key != "trend"}
        # saved before counters were known by name: its falls count for the name rule too
        state = {**state, "counters": self._counters.upgrade(state["counters"])}
        # saved before the runaway's memory or its ring of observed rows
        state = {**state, "runaway": self._runaway.upgrade(state["runaway"])}
        if "previous" not in state:  # saved before missing steps were laid out: the line
            state = {**state, "previous": fresh["previous"]}  # over the next gap is NaN
        kernel = state.get("kernel", {})
        if "hist" in kernel and "fR" not in kernel:  # saved before the recent errors: they
            kernel = {**kernel, "fR": fresh["kernel"]["fR"],  # are learnt within 2·h_r steps
                      "errR": fresh["kernel"]["errR"]}
            state = {**state, "kernel": kernel}
        if "hist" in kernel and np.shape(kernel["hist"])[0] != self.kernel.history:
            # saved by a version keeping a shorter history: re-laid into this one's ring
            hist = self.kernel.relay(kernel["hist"], int(np.asarray(kernel["row"])[0]))
            state = {**state, "kernel": {**kernel, "hist": hist}}
        missing = _missing(fresh, state)
        if missing:
            raise ValueError(f"the saved state lacks {missing} (saved by another version?)")
        self.state = copy_state(state)


def _missing(fresh: dict[str, Any], state: dict[str, Any], path: str = "") -> str:
    """The first key of ``fresh`` that ``state`` lacks, or ''."""
    for key, value in fresh.items():
        if key not in state:
            return path + key
        if isinstance(value, dict):
            inner = _missing(value, state[key], f"{path}{key}.")
            if inner:
                return inner
    return ""


def _series_axes(one: Any, two: Any) -> Any:
    """The series axis of each array of a state tree, from the trees of 1 and 2 series
    (None for an array shared by every series, such as the steps seen)."""
    if isinstance(one, dict):
        return {key: _series_axes(one[key], two[key]) for key in one}
    if isinstance(one, np.ndarray):
        differ = [i for i, (a, b) in enumerate(zip(one.shape, two.shape, strict=True)) if a != b]
        return differ[0] if differ else None
    return None


def _put_columns(state: Any, fresh: Any, axes: Any, columns: np.ndarray) -> None:
    """Write ``fresh``'s series ``columns`` into ``state``, in place."""
    for key, value in fresh.items():
        axis = axes.get(key) if isinstance(axes, dict) else None
        if isinstance(value, dict) and isinstance(state.get(key), dict):
            _put_columns(state[key], value, axis, columns)
        elif isinstance(value, np.ndarray) and axis is not None and key in state:
            index: list[Any] = [slice(None)] * value.ndim
            index[axis] = columns
            state[key][tuple(index)] = value[tuple(index)]
