"""Warnings ahead in the daemon: a watch's ``predict:`` block, run by :class:`WatchPredictions`.

A watch with ::

    predict: {horizon: 6h, limit: 90, cutoff: 0.1}

predicts, at every step, the calibrated probability that each of its series
reaches ``limit`` within ``horizon`` and when
(:class:`~kizashi.prediction.live.LivePredictor`, the model of ``kizashi
predict``; ``docs/prediction.md``). ``limit`` may be left out: series whose
metric name ends in ``_pct`` then get 100, and the others are predicted
*anomaly ahead* (the chance of leaving the normal band the engine's
``threshold`` detector judges them against; ``anomaly_ahead: false`` leaves them
out). ``cutoff`` (default :data:`~kizashi.prediction.predictor.DEFAULT_CUTOFF`) is the
probability at which a series with a limit warns, ``anomaly_cutoff`` (default
:data:`~kizashi.prediction.predictor.ANOMALY_AHEAD_CUTOFF`) that of the others. While
a series warns, it has an alert of kind ``warning`` (detector name :data:`PREDICT`)
whose annotations hold the kind of prediction, the ETA, the probability, the limit (or
the normal band) and the horizon; the gauge ``kizashi_predicted_anomaly_probability{horizon=...}``
on ``/metrics`` has each series' probability, and :meth:`WatchPredictions.frozen`
the forecast bands the dashboard draws. The predictor steps at the daemon's
``interval``, incrementally (a fixed cost per series and step); a series learns
for about ``horizon`` + 1 day + 1 day of steps (``docs/prediction.md``), which a
backfill (``initial_backfill``) can provide at the first start; meanwhile (unless
``warmup_trend: false``) a series with a limit whose trend line reaches it within the
horizon warns (``kizashi predict``'s warm-up trend line: annotations ``basis:
warmup_trend``, no probability; :mod:`kizashi.prediction.warmup_trend_stream`). Its state is
stored in the state file with the tick (the chunks that changed), so a restart
goes on where it stopped.

>>> spec = parse_predict({"horizon": "6h", "limit": 90}, "cfg: watches[t].predict")
>>> spec.horizon, spec.limit, spec.cutoff
(21600.0, 90.0, 0.15)
>>> import numpy as np
>>> p = WatchPredictions(spec, step_seconds=300.0)
>>> p.limits([{"__name__": "cpu_temp_c"}, {"__name__": "fs_used_pct"}]).tolist()
[90.0, 90.0]
>>> WatchPredictions(parse_predict({}, "cfg"), 300.0).limits(
...     [{"__name__": "fs_used_pct"}, {"__name__": "load"}]).tolist()
[100.0, nan]

Counters (``docs/prediction.md``, "Counters") get no anomaly-ahead prediction: known by
their values, their name (``*_total``, ``*_count``, …) and, where the source can tell
(a Prometheus source's ``/api/v1/metadata``, one request when new metric names appear, by
:meth:`WatchPredictions.learn_types`), their TYPE:

>>> p.counter_hints([{"__name__": "errors_total"}, {"__name__": "load"}]).tolist()
[1, 0]
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from kizashi.durations import parse_duration
from kizashi.prediction.counters import counter_hints
from kizashi.prediction.live import LivePrediction, LivePredictor
from kizashi.prediction.predictor import ANOMALY_AHEAD_CUTOFF, DEFAULT_CUTOFF
from kizashi.strict_yaml import EXPONENT
from kizashi.yaml_errors import bounded_repr as _r

__all__ = ["PREDICT", "ForecastBands", "PredictSpec", "WatchPredictions", "check_predict",
           "parse_predict", "prediction_samples"]

#: The detector name of a watch's warnings (alerts) and of its stored predictor state.
PREDICT = "predict"
#: A predictor keeps at most this many steps of history per series (interval vs horizon).
MAX_HISTORY_STEPS = 50_000
#: After a failed metadata request, metric TYPEs are asked again this much later (seconds).
TYPES_RETRY_SECONDS = 3600.0

log = logging.getLogger(__name__)


def metric_name(labels: dict[str, str]) -> str:
    """The metric name of a series' labels (``__name__``, else ``metric``, else ``series``).

    >>> metric_name({"__name__": "up", "job": "node"}), metric_name({"series": "a"})
    ('up', 'a')
    """
    return labels.get("__name__") or labels.get("metric") or labels.get("series") or ""


@dataclass(frozen=True)
class PredictSpec:
    """A watch's ``predict:`` block: horizon (seconds), limit (None: 100 for ``*_pct``),
    cutoff (a probability)."""

    horizon: float = 21600.0
    limit: float | None = None
    cutoff: float = DEFAULT_CUTOFF
    #: the cutoff of series without a limit (anomaly ahead)
    anomaly_cutoff: float = ANOMALY_AHEAD_CUTOFF
    #: series without a limit are predicted against their normal envelope
    anomaly_ahead: bool = True
    #: while a series with a limit learns, its trend line warns (``--warmup-trend``, the
    #: default; ``warmup_trend: false`` keeps a new watch quiet until it has learnt)
    warmup_trend: bool = True

    @property
    def horizon_text(self) -> str:
        """The horizon as a label value (``6h``, ``90m``, ``45s``)."""
        for unit, seconds in (("d", 86400), ("h", 3600), ("m", 60)):
            if self.horizon % seconds == 0:
                return f"{self.horizon / seconds:g}{unit}"
        return f"{self.horizon:g}s"


def parse_predict(raw: Any, where: str) -> PredictSpec:
    """A ``predict:`` mapping (``where`` names it in errors)."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be a mapping such as {{horizon: 6h, limit: 90}}, "
                         f"got {_r(raw)}")
    unknown = sorted(set(map(str, raw)) - {"horizon", "limit", "cutoff", "anomaly_ahead",
                                         "anomaly_cutoff", "warmup_trend"})
    if unknown:
        from kizashi.spelling import did_you_mean

        known = ("horizon", "limit", "cutoff", "anomaly_ahead", "anomaly_cutoff",
                 "warmup_trend")
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}"
                         f"{did_you_mean(unknown[0], known)} (known: {', '.join(known)})")
    try:
        horizon = parse_duration(raw.get("horizon", "6h"))
    except (ValueError, OverflowError, TypeError) as error:
        raise ValueError(f"{where}.horizon: {error}") from None
    if not 0.0 < horizon <= 86400.0:
        raise ValueError(f"{where}.horizon must be more than 0 and at most 1d (the daily "
                         f"rhythm is used), got {_r(raw.get('horizon'))}")
    limit = raw.get("limit")
    if limit is not None:
        limit = _number(limit, f"{where}.limit")
    cutoff = _number(raw.get("cutoff", DEFAULT_CUTOFF), f"{where}.cutoff")
    if not 0.0 < cutoff < 1.0:
        raise ValueError(f"{where}.cutoff is a probability in (0, 1), got {_r(cutoff)}")
    anomaly_cutoff = _number(raw.get("anomaly_cutoff", ANOMALY_AHEAD_CUTOFF),
                             f"{where}.anomaly_cutoff")
    if not 0.0 < anomaly_cutoff < 1.0:
        raise ValueError(f"{where}.anomaly_cutoff is a probability in (0, 1), "
                         f"got {_r(anomaly_cutoff)}")
    anomaly_ahead = raw.get("anomaly_ahead", True)
    if not isinstance(anomaly_ahead, bool):
        raise ValueError(f"{where}.anomaly_ahead must be true or false, got {_r(anomaly_ahead)}")
    warmup_trend = raw.get("warmup_trend", True)
    if not isinstance(warmup_trend, bool):
        raise ValueError(f"{where}.warmup_trend must be true or false, got {_r(warmup_trend)}")
    return PredictSpec(horizon=horizon, limit=limit, cutoff=cutoff, anomaly_ahead=anomaly_ahead,
                       anomaly_cutoff=anomaly_cutoff, warmup_trend=warmup_trend)


def check_predict(spec: PredictSpec, interval: float, where: str) -> None:
    """The horizon must span a step, and the history must stay bounded."""
    if spec.horizon < interval:
        raise ValueError(f"{where}.horizon ({spec.horizon:g} s) is shorter than the interval "
                         f"({interval:g} s)")
    steps = LivePredictor(interval, np.zeros(1), spec.horizon).history_steps()
    if steps > MAX_HISTORY_STEPS:
        raise ValueError(f"{where}: at an interval of {interval:g} s the predictor keeps "
                         f"{steps} steps of history per series (at most {MAX_HISTORY_STEPS}); "
                         "predict in a watch of its own with a coarser interval (e.g. 1m)")


def _number(value: Any, at: str) -> float:
    if isinstance(value, str) and EXPONENT.match(value.strip()) \
            and math.isinf(float(value.replace("_", ""))):  # 1e400: past the floats
        raise ValueError(f"{at} must be a finite number, got {_r(value)}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{at} must be a number, got {_r(value)}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{at} must be a finite number, got {_r(value)}")
    return float(value)


class WatchPredictions:
    """Predictions of a watch's series, kept aligned with its columns (series ids).

    Series joining the watch start with a fresh state; series leaving it take
    theirs away; the others keep theirs (one :class:`~kizashi.watch.columns.StateLayout`
    over the predictor's state tree, every array of which has the series on its last axis).

    >>> spec = parse_predict({"horizon": "1h", "limit": 100}, "cfg")
    >>> p = WatchPredictions(spec, step_seconds=300.0)
    >>> t = np.arange(0, 3 * 86400, 300.0)
    >>> out = p.update([7], [{}], t, (5.05 + t / 3600)[:, None])  # +1 %/h, at 77 % by now
    >>> float(out.probability[0]) < 0.01, bool(out.warning[0])
    (True, False)
    >>> later = t[-1] + 300 * np.arange(1, 271)           # 22.5 h on: at 99.47 %
    >>> out = p.update([7], [{}], later, (5.05 + later / 3600)[:, None])
    >>> bool(out.warning[0]), round((float(out.eta_seconds[0]) - float(p.times[-1])) / 3600, 2)
    (True, 0.58)
    """

    def __init__(self, spec: PredictSpec, step_seconds: float):
        from kizashi.watch.columns import StateLayout

        self.spec = spec
        self.step_seconds = float(step_seconds)
        self.columns: list[int] = []
        self.predictor = self._predictor(np.zeros(0))
        self.layout = StateLayout(self.predictor.fresh)
        #: the tree as last stored (None: unknown, the next save writes it whole)
        self.stored: dict[str, Any] | None = None
        #: metric TYPEs the source told (metric family → type), the names asked, and when
        #: to ask again after a failure (:meth:`learn_types`)
        self.types: dict[str, str] = {}
        self._asked: set[str] = set()
        self._retry_at = -math.inf
        self._labels: list[dict[str, str]] = []

    def _predictor(self, limits: np.ndarray, hints: np.ndarray | None = None) -> LivePredictor:
        return LivePredictor(self.step_seconds, limits, self.spec.horizon, self.spec.cutoff,
                             anomaly_ahead=self.spec.anomaly_ahead and self.spec.limit is None,
                             anomaly_cutoff=self.spec.anomaly_cutoff, counter_hints=hints,
                             warmup_trend=self.spec.warmup_trend)

    def counter_hints(self, labels: list[dict[str, str]]) -> np.ndarray:
        """What each series' TYPE (as far as the source told) or name says of it being a
        counter (:func:`~kizashi.prediction.counters.counter_hints`)."""
        return counter_hints([metric_name(m) for m in labels], self.types)

    def learn_types(self, source: Any, labels: list[dict[str, str]], now: float) -> None:
        """Ask ``source`` the TYPE of the metric names of ``labels`` not asked yet (a source
        with a ``metric_types(names)`` method: Prometheus' ``/api/v1/metadata``); a failure
        leaves them to the name and values and is retried :data:`TYPES_RETRY_SECONDS` later.
        """
        from kizashi.watch.sources import SourceError

        ask = getattr(source, "metric_types", None)
        if ask is None or now < self._retry_at:
            return
        names = sorted({metric_name(m) for m in labels} - self._asked - {""})
        if not names:
            return
        try:
            found = ask(names)
        except SourceError as error:
            if self._retry_at == -math.inf:
                log.info("metric TYPEs not available (%s); counters are known by name and "
                         "values", " ".join(str(error).split()))
            self._retry_at = now + TYPES_RETRY_SECONDS
            return
        self._asked.update(names)
        if found:
            self.types.update(found)
            self.predictor.counter_hints = self.counter_hints(self._labels)

    @property
    def times(self) -> np.ndarray:
        """The newest step predicted (seconds; empty before the first)."""
        return self.predictor.times_

    @property
    def last(self) -> LivePrediction:
        """The newest step's prediction per column."""
        return self.predictor.latest

    def limits(self, labels: list[dict[str, str]]) -> np.ndarray:
        """Each series' limit: the spec's, else 100 for a ``*_pct`` metric, else NaN
        (anomaly ahead, unless the spec turns it off)."""
        from kizashi.data.precursors import default_limit

        if self.spec.limit is not None:
            return np.full(len(labels), self.spec.limit)
        return np.array([np.nan if (v := default_limit(metric_name(m))) is None else v
                         for m in labels], dtype=np.float64)

    def align(self, columns: list[int], labels: list[dict[str, str]]) -> None:
        """Follow the watch's columns: keep the state of the series that stay."""
        if columns == self.columns:
            return
        where = {sid: j for j, sid in enumerate(self.columns)}
        keep = np.array([where.get(sid, -1) for sid in columns], dtype=np.int64)
        old = self.predictor.state
        state = self.layout.fresh(len(columns))
        known = np.flatnonzero(keep >= 0)
        if known.size:
            self.layout.put(state, known, self.layout.select(old, keep[known]))
        state["kernel"]["row"] = old["kernel"]["row"].copy()  # shared: the steps seen
        state["time"] = old["time"].copy()
        if "trend" in old:  # shared: the trend line's ring of times and its next slot
            state["trend"]["t"], state["trend"]["at"] = (old["trend"]["t"].copy(),
                                                         old["trend"]["at"].copy())
        self.predictor = self._predictor(self.limits(labels), self.counter_hints(labels))
        self.predictor.state = state
        self.columns = list(columns)
        self._labels = list(labels)

    def update(self, columns: list[int], labels: list[dict[str, str]], times: np.ndarray,
               values: np.ndarray) -> LivePrediction:
        """Predict new steps ``(time, column)`` of the columns ``columns``; the newest step's
        answer per column."""
        self.align(columns, labels)
        if not columns:
            return self.last
        return self.predictor.update(times, values)

    def state_tree(self) -> dict[str, Any]:
        """What the state file keeps (plain arrays, a copy)."""
        return {"series": np.asarray(self.columns, dtype=np.int64),
                "predictor": self.predictor.state_dict()}

    def save(self, store: Any, watch: str) -> None:
        """Store the state in ``store`` (inside the tick's transaction): the chunks that
        changed since the last save, or all of it after a restore."""
        tree = self.state_tree()
        store.save_tree(watch, PREDICT, tree, previous=self.stored)
        self.stored = tree

    def load_tree(self, tree: dict[str, Any], labels: list[dict[str, str]],
                  stored: bool = False) -> None:
        """Go on from a :meth:`state_tree` (``labels``: of its series, in order); ``stored``:
        the tree is what the state file holds."""
        columns = [int(c) for c in np.asarray(tree["series"]).tolist()]
        predictor = self._predictor(self.limits(labels), self.counter_hints(labels))
        predictor.load_state_dict(tree["predictor"])
        if len(columns) != predictor.limits.size:
            raise ValueError("the saved predictions do not match their series")
        self.predictor, self.columns = predictor, columns
        self._labels = list(labels)
        self.stored = tree if stored else None

    def annotations(self, j: int, watch: str, labels: dict[str, str]) -> dict[str, str]:
        """A warning's annotations for column ``j``: kind, prediction (``time_to_limit`` or
        ``anomaly_ahead``), ETA, probability, limit or normal band, horizon and a summary."""
        from kizashi.watch.alerts import iso

        last, state = self.last, self.predictor.state
        eta = float(last.eta_seconds[j])
        when = iso(eta) if math.isfinite(eta) else ""
        probability = float(last.probability[j])
        named = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
        horizon = self.spec.horizon_text
        tail = f" (p={probability:.2f}" + (f", ETA {when})" if when else ")")
        notes = {"kind": "warning", "eta": when, "probability": f"{probability:.3f}",
                 "horizon": horizon}
        if self.predictor.trend_warning()[j]:  # still learning: the trend line's word
            limit = f"{float(self.predictor.limits[j]):g}"
            when_text = f" (ETA {when})" if when else ""
            return {**notes, "prediction": "time_to_limit", "basis": "warmup_trend",
                    "probability": "", "limit": limit,
                    "note": "still learning (no probability yet): the straight line through "
                            "its last hours reaches the limit within the horizon even at the "
                            "lower edge of its 90 % band (predict: warmup_trend)",
                    "summary": f"{watch}: {named} may reach {limit} within {horizon}"
                               f"{when_text}, by its warm-up trend line"}
        if math.isfinite(float(self.predictor.limits[j])):
            limit = f"{float(self.predictor.limits[j]):g}"
            return {**notes, "prediction": "time_to_limit", "limit": limit,
                    "summary": f"{watch}: {named} may reach {limit} within {horizon}{tail}"}
        band = f"{float(state['lower'][j]):.4g} to {float(state['upper'][j]):.4g}"
        return {**notes, "prediction": "anomaly_ahead", "band": band,
                "summary": f"{watch}: {named} may leave its normal band ({band}) within "
                           f"{horizon}{tail}"}

    def snapshot(self, columns: list[int]) -> dict[str, Any]:
        """The last predictions aligned with ``columns``, as JSON-ready lists (``None``
        where there is none: learning, no limit, no crossing ahead)."""
        if columns == self.columns:
            rows = np.arange(len(columns))
        else:
            where = {sid: j for j, sid in enumerate(self.columns)}
            rows = np.array([where.get(sid, -1) for sid in columns], dtype=np.int64)
        known = rows >= 0
        last = self.last

        def pick(array: np.ndarray, fill: Any) -> np.ndarray:
            out = np.full(len(columns), fill, dtype=array.dtype)
            out[known] = array[rows[known]]
            return out

        def listed(array: np.ndarray) -> list[float | None]:
            return [v if math.isfinite(v) else None for v in pick(array, np.nan).tolist()]

        kinds = np.where(np.isfinite(self.predictor.limits), "time_to_limit",
                         "anomaly_ahead" if self.predictor.anomaly_ahead else "")
        return {"horizon": self.spec.horizon_text,
                "probability": listed(last.probability),
                "warning": pick(last.warning, False).tolist(),
                "eta": listed(last.eta_seconds),
                "kind": [str(k) for k in pick(kinds.astype(object), "").tolist()]}

    def frozen(self) -> ForecastBands:
        """A copy of the newest forecasts, for the dashboard (read from another thread)."""
        band, state = self.predictor.band(), self.predictor.state
        t = (self.times[-1] + band["seconds"]) if self.times.size else np.zeros(0)
        return ForecastBands(
            self.spec.horizon_text, np.asarray(self.columns, dtype=np.int64), t,
            band["forecast"], band["lower"], band["upper"], self.predictor.limits.copy(),
            state["lower"].copy(), state["upper"].copy(), state["probability"].copy(),
            self.last.warning, state["eta"].copy())


@dataclass(frozen=True, eq=False)
class ForecastBands:
    """The newest forecast of every series of a watch over the horizon: times ``t``
    ``(grid,)``, and per grid step and series the ``forecast`` and its 90 % band
    (``lower``, ``upper``); per series the limit (NaN: anomaly ahead), the normal
    envelope it is predicted against, probability, warning and ETA."""

    horizon: str
    series: np.ndarray
    t: np.ndarray
    forecast: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    limits: np.ndarray
    envelope_lower: np.ndarray
    envelope_upper: np.ndarray
    probability: np.ndarray
    warning: np.ndarray
    eta: np.ndarray

    def band(self, series_id: int) -> dict[str, Any] | None:
        """One series' forecast, JSON-ready (``None`` where there is none: learning, no
        crossing ahead); None for a series the watch does not predict."""
        where = np.flatnonzero(self.series == series_id)
        if not where.size or not self.t.size:
            return None
        j = int(where[0])

        def listed(array: np.ndarray) -> list[float | None]:
            return [v if math.isfinite(v) else None for v in array.tolist()]

        def one(value: float) -> float | None:
            return value if math.isfinite(value) else None

        limit = float(self.limits[j])
        envelope = not math.isfinite(limit)
        return {"horizon": self.horizon, "t": self.t.tolist(),
                "forecast": listed(self.forecast[:, j]),
                "lower": listed(self.lower[:, j]), "upper": listed(self.upper[:, j]),
                "kind": "anomaly_ahead" if envelope else "time_to_limit",
                "limit": one(limit),
                "envelope_lower": one(float(self.envelope_lower[j])) if envelope else None,
                "envelope_upper": one(float(self.envelope_upper[j])) if envelope else None,
                "probability": one(float(self.probability[j])),
                "warning": bool(self.warning[j]), "eta": one(float(self.eta[j]))}


def prediction_samples(body: dict[str, Any], limit: int | None
                       ) -> list[tuple[dict[str, str], float]]:
    """``kizashi_predicted_anomaly_probability`` samples of a watch's status ``body``: labels
    (the series' own, ``__name__`` as ``metric_name``, ``watch`` and ``horizon``; clashing
    ones with ``exported_``) and probability, for at most ``limit`` series (the most likely
    first; None: all). Series still learning have none.

    >>> body = {"predictions": {"horizon": "6h", "probability": [0.2, None, 0.9]},
    ...         "table": None, "series": [{"labels": {"__name__": "fs_pct", "i": "a"}},
    ...                                   {"labels": {"i": "b"}}, {"labels": {"i": "c"}}]}
    >>> prediction_samples(body, 1)
    [({'i': 'c', 'horizon': '6h'}, 0.9)]
    >>> [s[0] for s in prediction_samples(body, None)][1]
    {'metric_name': 'fs_pct', 'i': 'a', 'horizon': '6h'}
    """
    predictions = body.get("predictions")
    if not predictions:
        return []
    probability = np.asarray(predictions["probability"], dtype=np.float64)
    table = body.get("table")
    labels = table.labels if table is not None else [s["labels"] for s in body["series"]]
    finite = np.flatnonzero(np.isfinite(probability))
    order = finite[np.argsort(-probability[finite], kind="stable")]
    out = []
    from kizashi.watch.export_labels import export_labels

    ids = (table.ids.tolist() if table is not None else
           [s.get("id") for s in body["series"]])
    for j in (order if limit is None else order[:limit]).tolist():
        own = export_labels(labels[j], ("watch", "horizon", "metric_name"), ids[j])
        own["horizon"] = predictions["horizon"]
        out.append((own, float(probability[j])))
    return out
