"""Predictions for every series of a frame: what ``kizashi predict`` writes.

For each series and step: the calibrated probability that something happens
within the horizon, whether that is a warning (probability ≥ the cutoff), and
the ETA (when the forecast reaches the limit; empty when it does not within
the horizon). Two kinds:

``limit`` (time to limit)
    series with a limit (``limits``, or 100 for metrics ending in ``_pct``):
    the chance of reaching it (:mod:`kizashi.prediction.limit_forecaster`,
    calibrated by :data:`~kizashi.prediction.calibration.TIME_TO_LIMIT`); a
    series already at or over its limit has probability 1 and its ETA is now;
``envelope`` (anomaly ahead)
    the other series: the chance of leaving the normal band that the engine's
    ``threshold`` detector learns (rolling mean ± k·σ, through the engine, so that steps
    it protects are not learned: :mod:`kizashi.prediction.envelope`).

Row ``t`` uses rows ``≤ t`` only, so predictions made on a growing file do not
change when more data arrives.

>>> from kizashi.data.frame import SeriesFrame
>>> seconds = np.arange(0, 4 * 86400, 300.0)
>>> frame = SeriesFrame.from_arrays(seconds, 20.05 + seconds / 3600, ["n1"], ["disk_pct"])
>>> result = predict_frame(frame, horizon="6h")  # +1 %/h: full just before 80 h
>>> row = int(np.argmax(result.warning[:, 0]))  # the first warning
>>> minute = "datetime64[m]"
>>> str(frame.timestamps[row].astype(minute)), str(result.eta[row, 0].astype(minute))
('1970-01-04T02:00', '1970-01-04T08:00')
>>> result.to_long().columns.tolist()
['timestamp', 'entity', 'metric', 'probability', 'is_warning', 'eta']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from kizashi.data.frame import SeriesFrame
from kizashi.data.precursors import default_limit
from kizashi.durations import duration_text, parse_duration
from kizashi.prediction.calibration import ANOMALY_AHEAD, TIME_TO_LIMIT
from kizashi.prediction.counters import counter_hints, counter_rows
from kizashi.prediction.cycle_gate import CycleGate, run_gate
from kizashi.prediction.limit_forecaster import LimitForecaster
from kizashi.prediction.rise_gate import rise_gate
from kizashi.prediction.runaway import runaway
from kizashi.prediction.warmup import rows_before_first_prediction
from kizashi.streaming.magnitudes import magnitude_factors

__all__ = ["ANOMALY_AHEAD_CUTOFF", "DEFAULT_CUTOFF", "PredictionResult", "predict_frame"]

#: Warn when the calibrated probability reaches this: chosen on seeds 100–119 by
#: ``benchmarks/prediction.py --fit`` (the longest lead at ≤ a tenth of predict_linear's
#: false warnings, with the rise gate and the recent errors in the choice of forecaster).
DEFAULT_CUTOFF = 0.15
#: A series with a limit warns only while the line through its last RISE_WINDOW_SECONDS,
#: continued over the horizon, comes near the limit (:mod:`kizashi.prediction.rise_gate`).
RISE_WINDOW_SECONDS = 3600.0
#: A series with a limit also warns while it runs away (its rate at least doubling from one
#: segment of this length to the next, :mod:`kizashi.prediction.runaway`); the segment,
#: the ratio and the significance were chosen on seeds 100–104 of the fast_2h and default
#: scenarios (``benchmarks/prediction_runaway.py``).
RUNAWAY_SEGMENT_SECONDS = 1200.0
#: The runaway test's noise comes from second differences this far apart (at least a step).
RUNAWAY_NOISE_LAG_SECONDS = 300.0
#: A runaway's newest segment must top every segment mean of this long before its window
#: (an upswing of a ripple or cycle climbs where the last ones went;
#: :mod:`kizashi.prediction.runaway`).
RUNAWAY_MEMORY_SECONDS = 86400.0
#: A series with a limit that fills and is emptied (two resets within CYCLE_MEMORY_SECONDS)
#: warns only when a cycle goes further than the recent ones
#: (:mod:`kizashi.prediction.cycle_gate`); the value it compares is the mean of this long.
CYCLE_SEGMENT_SECONDS = 1200.0
CYCLE_MEMORY_SECONDS = 2 * 86400.0
#: Series without a limit (anomaly ahead) warn at this probability (chosen before the
#: rise gate, on the same seeds; the gate does not apply to them).
ANOMALY_AHEAD_CUTOFF = 0.25
#: Trend fits look back this far, and realised errors are averaged over ERROR_WINDOW.
WINDOW_SECONDS = 6 * 3600.0
ERROR_WINDOW_SECONDS = 86400.0
#: A forecaster's mean error over this window shifts its forecast (see LimitForecaster).
BIAS_WINDOW_SECONDS = 12 * 3600.0
#: Forecasters are also judged on their errors this share of the horizon ahead, over as
#: many recent steps (see LimitForecaster.recent_horizon): a sixth, 1 h of a 6 h horizon.
RECENT_SHARE = 1 / 6
#: A warning ends after the probability stayed under the cutoff this long (hysteresis).
RESOLVE_SECONDS = 7200.0
#: Series per block (memory stays ~ horizon × block × steps floats).
BLOCK = 64


@dataclass(frozen=True, eq=False)
class PredictionResult:
    """Per step and series: ``probability`` (NaN while learning), ``warning``,
    ``eta`` (datetime64, NaT when none), the ``kind`` of each series
    (``limit`` or ``envelope``) and the limit used (NaN for envelope series);
    ``cycle_open``: where the cycle gate (:mod:`~kizashi.prediction.cycle_gate`) lets a
    series with a limit warn (None: everywhere), which the warm-up trend line also obeys."""

    timestamps: np.ndarray
    entities: tuple[str, ...]
    metrics: tuple[str, ...]
    probability: np.ndarray
    warning: np.ndarray
    eta: np.ndarray
    kinds: tuple[str, ...]
    limits: np.ndarray
    horizon_seconds: float
    cycle_open: np.ndarray | None = None

    def spread(self, timestamps: np.ndarray, rows: np.ndarray) -> PredictionResult:
        """These predictions placed at ``rows`` of ``timestamps``; the other rows have none
        (probability NaN, no warning, no ETA)."""
        n, k = timestamps.size, self.probability.shape[1]
        probability, warning = np.full((n, k), np.nan), np.zeros((n, k), dtype=bool)
        eta = np.full((n, k), np.datetime64("NaT", "ns"))
        probability[rows], warning[rows], eta[rows] = self.probability, self.warning, self.eta
        cycle_open = None
        if self.cycle_open is not None:
            cycle_open = np.ones((n, k), dtype=bool)
            cycle_open[rows] = self.cycle_open
        return dataclasses.replace(self, timestamps=timestamps, probability=probability,
                                   warning=warning, eta=eta, cycle_open=cycle_open)

    def to_long(self, times_as_text: bool = True) -> Any:
        """``timestamp,entity,metric,probability,is_warning,eta``: one row per series per
        step; ``probability`` empty while learning, ``eta`` empty when no crossing is expected.

        Times are ISO 8601 UTC text (``Z``), or with ``times_as_text=False`` UTC
        ``datetime64`` columns (``eta`` NaT when none), for formats that keep timestamps."""
        import pandas as pd

        n, k = self.probability.shape
        eta = self.eta.ravel()
        unit = _exact_unit(self.timestamps)  # sub-second steps keep their fraction
        if times_as_text:
            eta = np.where(np.isnat(eta), "", np.datetime_as_string(eta, unit=unit) + "Z")
            stamps = np.char.add(np.datetime_as_string(
                self.timestamps.astype(f"datetime64[{unit}]"), unit=unit), "Z")
        else:
            eta = eta.astype(f"datetime64[{unit}]").astype("datetime64[ns]")  # as the text
            stamps = self.timestamps.astype("datetime64[ns]")
        return pd.DataFrame({
            "timestamp": np.repeat(stamps, k),
            "entity": np.tile(np.asarray(self.entities, dtype=object), n),
            "metric": np.tile(np.asarray(self.metrics, dtype=object), n),
            "probability": np.round(self.probability.ravel(), 4),
            "is_warning": self.warning.ravel(),
            "eta": eta,
        })


def observed_rows(values: np.ndarray) -> np.ndarray | None:
    """The rows to predict from when some rows have no value at all (None when every row
    has one): rows from the first with a value on that have none are missing rows (a scrape
    outage in a wide export), as the watch's :class:`~kizashi.prediction.live.LivePredictor`
    reads them (:mod:`kizashi.prediction.missing_steps`); rows before the first value stay.

    >>> nan = np.nan
    >>> observed_rows(np.array([[nan], [1.0], [nan], [nan], [4.0], [nan]])).tolist()
    [0, 1, 4]
    >>> observed_rows(np.array([[1.0, nan], [nan, 2.0]])) is None
    True
    >>> observed_rows(np.array([[nan], [nan], [3.0]])) is None  # only rows before the first
    True
    """
    has = np.isfinite(values).any(axis=1) if values.shape[1] else np.ones(len(values), bool)
    if has.all() or not has.any():
        return None
    has[:int(np.argmax(has))] = True
    return None if has.all() else np.flatnonzero(has)


def warnings_from(probability: np.ndarray, cutoff: float | np.ndarray, resolve_steps: int,
                  gate: np.ndarray | None = None, also: np.ndarray | None = None) -> np.ndarray:
    """Warnings: on when the probability reaches ``cutoff`` (one, or one per series), or
    where ``also`` is set (a runaway rise), and ``gate`` is open (when given); off after
    ``resolve_steps`` steps without that
    (:class:`~kizashi.decision.alert_filter.AlertFilter`)."""
    from kizashi.decision.alert_filter import AlertFilter

    with np.errstate(invalid="ignore"):
        above = probability >= cutoff
    if also is not None:
        above |= also
    if gate is not None:
        above &= gate
    return AlertFilter(min_steps=1, resolve_steps=resolve_steps).apply(above)


def step_seconds(frame: SeriesFrame) -> float:
    """The frame's typical step (median gap), in seconds."""
    if frame.n_times < 2:
        raise ValueError(f"{frame.name or 'input'}: need at least two time steps to predict")
    return float(np.median(np.diff(frame.timestamps.astype(np.int64)))) / 1e9


#: A file whose missing stretches would make the regular grid more than this many times
#: longer than the file is predicted row by row instead (see regular_rows).
MAX_GRID_GROWTH = 4


def regular_rows(timestamps: np.ndarray, step: float) -> np.ndarray | None:
    """The row of each timestamp on the regular grid ``t0, t0 + step, …`` (None when the
    timestamps already are that grid, or do not fit one: two in one slot, or gaps that
    would make it over :data:`MAX_GRID_GROWTH` times longer).

    The forecasters count time in rows (a day ago is ``day`` rows back); a stretch with no
    rows at all would shift everything after it, so it is laid out as missing rows.

    >>> stamps = np.array([0, 60, 120, 300, 360], dtype="datetime64[s]").astype("datetime64[ns]")
    >>> regular_rows(stamps, 60.0).tolist()
    [0, 1, 2, 5, 6]
    >>> regular_rows(stamps[:3], 60.0) is None
    True
    """
    ns = timestamps.astype(np.int64)
    slots = np.round((ns - ns[0]) / (step * 1e9)).astype(np.int64)
    if slots[-1] == len(slots) - 1 or np.any(np.diff(slots) < 1):
        return None
    if slots[-1] + 1 > MAX_GRID_GROWTH * len(slots):
        return None
    return slots


def jittered_grid(timestamps: np.ndarray, step: float,
                  spread: float = 0.03) -> tuple[float, np.ndarray] | None:
    """The step and the row of each timestamp on a regular grid that ``timestamps`` sit
    around with jitter (a scraper whose samples come a little early or late), or None when
    they fit none.

    The median gap of jittered timestamps with some rows missing is a little off the true
    step, and over thousands of rows that is enough for two rows to land in one slot of
    the grid it spans (:func:`regular_rows` refuses the file, which is then read row by
    row: a missing row shifts everything after it against the daily rhythm). Here the
    step is the one within ``spread`` of ``step`` on whose grid the timestamps line up
    best: the largest ``|mean(exp(2πi·t/s))|`` (the phases of the timestamps on the grid
    cluster), searched finely enough to drift by at most 2 % of a step over the file.

    >>> rng = np.random.default_rng(0)
    >>> slots = np.r_[0:40, 41:90, 93:2000]  # rows 40, 90–92 missing
    >>> seconds = slots * 300.0 + rng.uniform(-90, 90, slots.size)  # ±30 % jitter
    >>> stamps = (seconds * 1e9).astype("datetime64[ns]")
    >>> found = jittered_grid(stamps, float(np.median(np.diff(seconds))))
    >>> round(found[0], 1), bool(np.array_equal(found[1], slots))
    (300.0, True)
    """
    ns = timestamps.astype(np.int64)
    t = (ns - ns[0]) / 1e9
    span = float(t[-1])
    if t.size < 3 or span <= 0:
        return None
    sample = t[np.linspace(0, t.size - 1, min(t.size, 4096)).astype(np.int64)]
    resolution = 0.02 * step / span  # relative: the drift over the file ≤ 2 % of a step
    count = min(int(2 * spread / resolution) + 1, 20001)
    candidates = step * (1 + np.linspace(-spread, spread, count))
    best, score = step, -1.0
    for chunk in np.array_split(candidates, max(count // 256, 1)):
        power = np.abs(np.exp(2j * np.pi * sample[None, :] / chunk[:, None]).mean(axis=1))
        if power.max() > score:
            best, score = float(chunk[int(np.argmax(power))]), float(power.max())
    if score < 0.3:  # no grid (uniform jitter of ±30 % of a step scores 0.50)
        return None
    origin = np.angle(np.exp(2j * np.pi * t / best).mean()) / (2 * np.pi) * best
    slots = np.round((t - origin) / best).astype(np.int64)
    slots -= slots[0]
    if np.any(np.diff(slots) < 1) or slots[-1] + 1 > MAX_GRID_GROWTH * slots.size:
        return None
    return best, slots


def fill_missing_stretches(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values`` laid out at ``rows`` of a regular grid, the grid rows between two file rows
    filled by the straight line between those two rows' values (NaN where either is NaN).

    No prediction is made at a filled row, and every file row after a stretch already
    knows both ends, so this uses no future; carrying the last value over a stretch instead
    would read as a flat stretch then a jump (a step the forecasters would replay a day
    later, and a steep last hour for the rise gate).

    >>> fill_missing_stretches(np.array([[1.0], [2.0], [8.0]]), np.array([0, 1, 4]))[:, 0]
    array([1., 2., 4., 6., 8.])
    """
    grid = np.full((int(rows[-1]) + 1, values.shape[1]), np.nan)
    grid[rows] = values
    for before in np.flatnonzero(np.diff(rows) > 1):
        lo, hi = rows[before], rows[before + 1]
        share = (np.arange(lo + 1, hi) - lo)[:, None] / (hi - lo)
        grid[lo + 1:hi] = values[before] + share * (values[before + 1] - values[before])
    return grid


def rise_steps(step: float) -> int:
    """Steps in the rise gate's window for data every ``step`` seconds."""
    return max(round(RISE_WINDOW_SECONDS / step), 2)


def runaway_steps(step: float) -> int:
    """Steps in a segment of the runaway test for data every ``step`` seconds."""
    return max(round(RUNAWAY_SEGMENT_SECONDS / step), 2)


def runaway_memory(step: float) -> int:
    """Steps before the runaway window whose segment means a runaway must top (a day)."""
    return max(round(RUNAWAY_MEMORY_SECONDS / step), 1)


def cycle_gate_for(step: float, horizon_steps: int) -> CycleGate:
    """The cycle gate with kizashi's settings for data every ``step`` seconds."""
    return CycleGate(max(round(CYCLE_SEGMENT_SECONDS / step), 1), horizon_steps,
                     max(round(CYCLE_MEMORY_SECONDS / step), 2))


def runaway_lag(step: float) -> int:
    """Steps between the points of the runaway test's second differences."""
    return max(round(RUNAWAY_NOISE_LAG_SECONDS / step), 1)


def forecaster_for(step: float, horizon_seconds: float) -> LimitForecaster:
    """The forecaster with kizashi's settings for data every ``step`` seconds."""
    horizon = max(round(horizon_seconds / step), 1)
    day = round(86400.0 / step)
    return LimitForecaster(horizon_steps=horizon,
                           window=max(round(WINDOW_SECONDS / step), 4),
                           season_steps=day if day >= horizon else None,
                           error_window=max(round(ERROR_WINDOW_SECONDS / step), 2 * horizon),
                           bias_window=max(round(BIAS_WINDOW_SECONDS / step), 2),
                           recent_horizon=max(round(RECENT_SHARE * horizon), 1))


def _exact_unit(timestamps: np.ndarray) -> str:
    """The coarsest of s, ms, us, ns that writes every timestamp exactly.

    >>> _exact_unit(np.array([0, 1_500_000_000], dtype="datetime64[ns]"))
    'ms'
    """
    ns = timestamps.astype("datetime64[ns]").astype(np.int64)
    for unit, size in (("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        if not np.any(ns % size):
            return unit
    return "ns"


#: Rows of warm-up beyond which :func:`learning_note` advises a coarser step.
_MANY_ROWS = 1_000_000


def learning_note(frame: SeriesFrame, horizon: str | float = "6h") -> str | None:
    """Why no prediction at all will come from ``frame`` (too few rows for the horizon
    and trend window at its step), or None when some rows can be predicted.

    >>> stamps = np.arange(0, 100 * 300, 300).astype("datetime64[s]").astype("datetime64[ns]")
    >>> learning_note(SeriesFrame.from_arrays(stamps, np.ones((100, 1))), "6h")
    "100 rows every 300 s: the first prediction needs 503 (41.9 h: the forecasters' history, the 6 h horizon, then a record of checked forecasts); every probability is empty, but where a value is already at its limit (p=1)"
    """  # noqa: E501
    if frame.n_times < 2:
        return None  # predict_frame refuses it with its own message
    step = step_seconds(frame)
    horizon_seconds = parse_duration(horizon)
    forecaster = forecaster_for(step, horizon_seconds)
    needed = rows_before_first_prediction(forecaster)
    if frame.n_times >= needed:
        return None
    coarser = (f"; at a step of {step:g} s that is more rows than a file should hold: "
               f"average the data to a coarser step (a minute or more) first"
               if needed > _MANY_ROWS else "")
    return (f"{frame.n_times:,} rows every {step:g} s: the first prediction needs "
            f"{needed:,} ({needed * step / 3600:.1f} h: the forecasters' history, the "
            f"{duration_text(horizon_seconds)} horizon, then a record of checked forecasts); "
            f"every probability is empty, but where a value is already at its limit (p=1)"
            f"{coarser}")


def predict_frame(frame: SeriesFrame, horizon: str | float = "6h",
                  limits: dict[str, float] | None = None, cutoff: float = DEFAULT_CUTOFF,
                  anomaly_ahead: bool = True, progress: bool = False,
                  anomaly_cutoff: float = ANOMALY_AHEAD_CUTOFF,
                  measured: np.ndarray | None = None) -> PredictionResult:
    """Predict every series of ``frame`` ``horizon`` ahead (see the module docs).

    ``limits`` maps a metric name to its limit; ``anomaly_ahead=False`` leaves
    series without a limit empty. ``cutoff`` is the warning probability of series with a
    limit, ``anomaly_cutoff`` that of the others. ``measured`` (rows; False where a row was
    filled in across a stretch with no rows, as done here for a file's missing stretches)
    keeps the runaway test off windows with a segment holding more than a quarter of filled
    rows, and its noise off their second differences.
    """
    from tqdm import tqdm

    from kizashi.prediction.envelope import normal_envelope

    for value in (cutoff, anomaly_cutoff):
        if not 0.0 < value < 1.0:
            raise ValueError(f"the cutoff is a probability in (0, 1), got {value}")
    horizon_seconds = parse_duration(horizon)
    observed = observed_rows(frame.values)
    if observed is not None:  # rows without any value are missing rows, as in the watch
        some = predict_frame(dataclasses.replace(frame, timestamps=frame.timestamps[observed],
                                                 values=frame.values[observed], labels=None),
                             horizon, limits, cutoff, anomaly_ahead, progress, anomaly_cutoff)
        return some.spread(frame.timestamps, observed)
    step = step_seconds(frame)
    rows = regular_rows(frame.timestamps, step)
    if rows is None and np.ptp(np.diff(frame.timestamps.astype(np.int64))) > 0:
        fitted = jittered_grid(frame.timestamps, step)  # jittered around a grid: its rows
        if fitted is not None and fitted[1][-1] + 1 > fitted[1].size:
            step, rows = fitted
        elif fitted is not None:  # no row missing: the grid's step, row by row
            step = fitted[0]
    if rows is not None:  # missing stretches become missing rows, then back
        grid = fill_missing_stretches(frame.values, rows)
        stamps = frame.timestamps[0] + (np.arange(grid.shape[0]) * round(step * 1e9)).astype(
            "timedelta64[ns]")
        whole = predict_frame(dataclasses.replace(frame, timestamps=stamps, values=grid,
                                                  labels=None),
                              horizon, limits, cutoff, anomaly_ahead, progress, anomaly_cutoff,
                              measured=np.isin(np.arange(grid.shape[0]), rows))
        return dataclasses.replace(whole, timestamps=frame.timestamps,
                                   probability=whole.probability[rows],
                                   warning=whole.warning[rows], eta=whole.eta[rows],
                                   cycle_open=None if whole.cycle_open is None
                                   else whole.cycle_open[rows])
    forecaster = forecaster_for(step, horizon_seconds)
    n, k = frame.values.shape
    limit = np.array([np.nan if (v := default_limit(m, limits)) is None else v
                      for m in frame.metrics], dtype=np.float64)
    # series of extreme magnitude (1e300) forecast at an ordinary one, limits with them
    factor = magnitude_factors(frame.values)
    scaled, scaled_limit = frame.values * factor, limit * factor
    probability = np.full((n, k), np.nan)
    eta_steps = np.full((n, k), np.nan)
    gate = np.ones((n, k), dtype=bool)  # series without a limit are not gated
    cycle_open = np.ones((n, k), dtype=bool)  # (the warm-up trend line obeys it too)
    has_limit = np.isfinite(limit)
    if has_limit.any():
        cycle_open[:, has_limit] = run_gate(cycle_gate_for(step, forecaster.horizon_steps),
                                            scaled[:, has_limit], scaled_limit[has_limit])
    running = np.zeros((n, k), dtype=bool)  # runaway rises (series with a limit)
    blocks = [np.arange(k)[i:i + BLOCK] for i in range(0, k, BLOCK)]
    if n < forecaster.min_rows:  # every row learning (see learning_note): nothing to fit
        blocks = []
    for columns in tqdm(blocks, desc="predict", unit="block", disable=not progress):
        values = scaled[:, columns]
        has = np.isfinite(limit[columns])
        if has.any():
            sub = columns[has]
            out = forecaster.crossing(values[:, has], upper=scaled_limit[sub])
            probability[:, sub] = TIME_TO_LIMIT.probability(out.z)
            hit, soon = runaway(values[:, has], scaled_limit[sub], runaway_steps(step),
                                forecaster.horizon_steps, lag=runaway_lag(step),
                                observed=measured, memory=runaway_memory(step))
            running[:, sub] = hit
            eta_steps[:, sub] = np.fmin(out.eta_steps, soon)  # the earlier
            gate[:, sub] = (rise_gate(values[:, has], scaled_limit[sub], rise_steps(step),
                                      forecaster.horizon_steps) & cycle_open[:, sub])
        if anomaly_ahead and (~has).any():
            sub = columns[~has]
            lower, upper = normal_envelope(values[:, ~has], timestamps=frame.epoch_seconds)
            out = forecaster.crossing(values[:, ~has], upper=upper, lower=lower)
            # a counter (by its name, or its values) has no band to leave
            counting = counter_rows(values[:, ~has], counter_hints(
                [frame.metrics[j] for j in sub.tolist()]))
            probability[:, sub] = np.where(counting, np.nan, ANOMALY_AHEAD.probability(out.z))
            eta_steps[:, sub] = np.where(counting, np.nan, out.eta_steps)
    # already at the limit: certain, due now, learning or not (no forecast is needed)
    with np.errstate(invalid="ignore"):
        there = np.isfinite(limit) & (frame.values >= limit)
    probability = np.where(there, 1.0, probability)
    eta_steps = np.where(there, 0.0, eta_steps)
    gate |= there
    cutoffs = np.where(np.isfinite(limit), cutoff, anomaly_cutoff)
    warning = warnings_from(probability, cutoffs, max(round(RESOLVE_SECONDS / step), 1), gate,
                            running)
    step_ns = np.int64(round(step * 1e9))
    eta = np.full((n, k), np.datetime64("NaT", "ns"))
    has_eta = np.isfinite(eta_steps)
    offsets = (np.where(has_eta, eta_steps, 0) * step_ns).astype("timedelta64[ns]")
    eta = np.where(has_eta, frame.timestamps[:, None] + offsets, eta)
    kinds = tuple("limit" if np.isfinite(v) else "envelope" for v in limit)
    return PredictionResult(frame.timestamps, frame.entities, frame.metrics, probability,
                            warning, eta, kinds, limit, horizon_seconds, cycle_open)
