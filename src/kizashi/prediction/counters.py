"""Counters: series that only ever grow (bytes written, errors seen) have no band to leave.

*Anomaly ahead* (:mod:`kizashi.prediction.envelope`) forecasts whether a series leaves
its normal band, a rolling mean ± k·σ. A counter — Prometheus' ``*_total``, a running
sum — climbs away from any rolling mean, or sits flat and then jumps (an error count),
so it was always about to leave its band. Its *rate* can be anomalous, its level cannot;
so a series without a limit that is a counter gets no anomaly-ahead prediction
(probability and ETA empty). A counter with a limit (``--limit``) is predicted as any
other series (a limit on a counter's value is a quota: the bytes an SSD may be written
over its life).

A series is told to be a counter in three ways, the first that applies deciding:

1. **its TYPE** (``kizashi watch`` reading a Prometheus source's ``/api/v1/metadata``;
   :func:`type_hint`): ``counter``, or the ``_bucket``/``_count``/``_sum``/``_created``
   part of a ``histogram`` or ``summary``, is a counter at every row, whatever its values
   (Prometheus reads any fall of a counter as a reset). A declared ``gauge`` (or a
   summary's quantiles) is judged by its values alone, its name aside;
2. **its name**, by Prometheus' conventions: a metric ending in ``_total``, ``_count``,
   ``_sum``, ``_bucket`` or ``_created`` (:data:`COUNTER_SUFFIXES`) is a counter from its
   first row, until its values say otherwise: a fall that is not a reset (a *gauge with
   a counter's name*: a queue length called ``jobs_count`` falls a little sooner or later,
   and is predicted from then on). A **reset** here is a fall to at most the larger of
   :data:`RESET_SHARE` of the last value and the largest rise seen so far (the process
   restarted and has counted for at most about one step since; so a sparse error count
   going from 3 to 1 is a reset);
3. **its values**, for any other series: it never fell, except to under
   :data:`RESET_SHARE` of its last value (a reset), had at least :data:`MIN_STEPS` steps,
   rose at :data:`MIN_RISES` of them or more (a sparse error count rises at few steps; a
   level shift or two is a gauge's move), and at least :data:`RISES_PER_RESET` times as
   often as it was reset (a gauge that sits at 0 and comes back to it after each rise, a
   queue, "resets" as often as it rises).

A change smaller than :data:`ROUNDING` of the value is neither a rise nor a fall (a CPU
seconds counter summed over cores steps back by a tick now and then). Once a series has
shown a gauge's fall it is a gauge for good: the decision uses only the past, so
predictions made on a growing file do not change.

>>> import numpy as np
>>> counter = np.cumsum(np.r_[5.0, np.ones(20)])
>>> gauge = 50 + np.sin(np.arange(21.0))
>>> counter_rows(np.column_stack([counter, gauge]))[[0, 11, 12, 20]].tolist()
[[False, False], [False, False], [True, False], [True, False]]
>>> errors = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 1, 1, 2], float)
>>> counter_rows(errors[:, None], counter_hints(["http_errors_total"]))[:, 0].all()
np.True_
>>> counter_rows(errors[:, None])[[12, 13, 15], 0].tolist()  # values: 3 rises, then 3 → 1
[False, True, False]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kizashi.prediction.local_fit import fill_forward

__all__ = ["BY_NAME", "BY_TYPE", "COUNTER_SUFFIXES", "DECLARED_GAUGE", "MIN_RISES",
           "MIN_STEPS", "RESET_SHARE", "RISES_PER_RESET", "ROUNDING", "UNKNOWN",
           "CounterStream", "counter_hint", "counter_hints", "counter_rows", "type_hint"]

#: A fall to under this share of the last value is a counter reset, not a fall.
RESET_SHARE = 0.1
#: A counter judged by its values has had at least this many steps since its first value,
MIN_STEPS = 12
#: … rose at this many steps at least,
MIN_RISES = 3
#: … and rose at least this many times as often as it was reset.
RISES_PER_RESET = 4
#: A change smaller than this share of the last value is rounding: neither rise nor fall.
ROUNDING = 1e-6
#: Prometheus' names of counters and of the counter parts of histograms and summaries.
COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket", "_created")
#: What is known of a series before its values: a counter by its declared TYPE, a counter
#: by its name, nothing, a declared gauge (its name aside; its values still judged).
BY_TYPE, BY_NAME, UNKNOWN, DECLARED_GAUGE = 2, 1, 0, -1
#: Prometheus metadata types whose ``_bucket``/``_count``/``_sum``/``_created`` series are
#: counters.
_PARTS_OF = {"histogram", "summary"}


def type_hint(metric: str, types: Mapping[str, str]) -> int | None:
    """What a Prometheus ``metric``'s TYPE says (``types``: metric family → type, as
    ``/api/v1/metadata`` answers): :data:`BY_TYPE`, :data:`DECLARED_GAUGE`, or None when the
    metadata does not know it (or calls it ``unknown``/``untyped``).

    >>> types = {"http_requests_total": "counter", "rpc_seconds": "summary",
    ...          "queue_total": "gauge", "up": "unknown"}
    >>> [type_hint(m, types) for m in ("http_requests_total", "rpc_seconds_count",
    ...                                "rpc_seconds", "queue_total", "up", "other")]
    [2, 2, -1, -1, None, None]
    """
    kind = types.get(metric)
    if kind is not None:
        if kind == "counter":
            return BY_TYPE
        if kind in ("gauge", *_PARTS_OF, "gaugehistogram"):  # a summary's quantiles: gauges
            return DECLARED_GAUGE
        return None
    for suffix in COUNTER_SUFFIXES:  # a part of a family: foo_total of counter foo, …
        if metric.endswith(suffix) and len(metric) > len(suffix):
            family = types.get(metric[:-len(suffix)])
            if family == "counter" or family in _PARTS_OF:
                return BY_TYPE
            if family in ("gauge", "gaugehistogram"):
                return DECLARED_GAUGE
    return None


def counter_hint(metric: str, types: Mapping[str, str] | None = None) -> int:
    """What is known of ``metric`` before its values: its TYPE (``types``, when given and
    known), else its name (:data:`COUNTER_SUFFIXES`).

    >>> [counter_hint(m) for m in ("errors_total", "rpc_seconds_bucket", "load", "total")]
    [1, 1, 0, 0]
    >>> counter_hint("sessions_total", {"sessions_total": "gauge"})
    -1
    """
    if types:
        declared = type_hint(metric, types)
        if declared is not None:
            return declared
    named = any(metric.endswith(s) and len(metric) > len(s) for s in COUNTER_SUFFIXES)
    return BY_NAME if named else UNKNOWN


def counter_hints(metrics: Sequence[str], types: Mapping[str, str] | None = None
                  ) -> np.ndarray:
    """:func:`counter_hint` of each metric, as an array."""
    return np.array([counter_hint(m, types) for m in metrics], dtype=np.int8)


def _judge(hints: np.ndarray, fallen: np.ndarray, fallen_named: np.ndarray,
           ups: np.ndarray, steps: np.ndarray, resets: np.ndarray) -> np.ndarray:
    by_values = (~fallen & (steps >= MIN_STEPS) & (ups >= MIN_RISES)
                 & (ups >= RISES_PER_RESET * resets))
    return np.where(hints == BY_TYPE, True,
                    np.where(hints == BY_NAME, ~fallen_named, by_values))


def _changes(previous: np.ndarray, value: np.ndarray, top: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """From ``previous`` to ``value`` (``top``: the largest rise before): (a fall that is
    not a reset by the values rule, one that is not by the name rule, a reset by the values
    rule, the rise; 0 where none)."""
    with np.errstate(invalid="ignore"):
        change = value - previous
        tolerance = ROUNDING * np.abs(previous)
        fell = change < -tolerance
        low = value >= 0
        reset = fell & low & (value < RESET_SHARE * previous)
        reset_named = fell & low & (value <= np.maximum(RESET_SHARE * previous, top))
        rise = np.where(change > tolerance, change, 0.0)
    return fell & ~reset, fell & ~reset_named, reset, rise


def counter_rows(values: np.ndarray, hints: np.ndarray | None = None) -> np.ndarray:
    """``(T, S)``: whether each series is a counter at each row (see the module docs);
    ``hints`` per series (:func:`counter_hints`; None: nothing known but the values)."""
    y, seen = fill_forward(np.asarray(values, dtype=np.float64))
    n, k = y.shape
    hints = np.full(k, UNKNOWN, dtype=np.int8) if hints is None else np.asarray(hints)
    out = np.zeros((n, k), dtype=bool)
    started = np.maximum.accumulate(seen, axis=0)  # from the series' first value on
    out[0] = started[0] & np.isin(hints, (BY_TYPE, BY_NAME))
    if n < 2:
        return out
    step = started[:-1]
    # the largest rise before each step (rounding-free: the same comparisons as the stream)
    change = np.where(step, y[1:] - y[:-1], 0.0)
    with np.errstate(invalid="ignore"):
        rising = np.where(change > ROUNDING * np.abs(y[:-1]), change, 0.0)
    top = np.zeros_like(rising)
    top[1:] = np.maximum.accumulate(rising, axis=0)[:-1]
    fell, fell_named, reset, rise = _changes(y[:-1], y[1:], top)
    fallen = np.cumsum(fell & step, axis=0) > 0
    fallen_named = np.cumsum(fell_named & step, axis=0) > 0
    ups = np.cumsum((rise > 0) & step, axis=0)
    resets = np.cumsum(reset & step, axis=0)
    steps = np.cumsum(step, axis=0)
    out[1:] = started[1:] & _judge(hints, fallen, fallen_named, ups, steps, resets)
    return out


class CounterStream:
    """:func:`counter_rows` one row at a time; its state is seven arrays per series."""

    def fresh(self, n_series: int) -> dict[str, Any]:
        """The state of ``n_series`` series that have seen nothing."""
        k = int(n_series)
        return {"last": np.full(k, np.nan), "fallen": np.zeros(k, dtype=bool),
                "fallen_named": np.zeros(k, dtype=bool), "ups": np.zeros(k, dtype=np.int64),
                "steps": np.zeros(k, dtype=np.int64), "resets": np.zeros(k, dtype=np.int64),
                "top": np.zeros(k)}

    def upgrade(self, state: dict[str, Any]) -> dict[str, Any]:
        """A state saved before the name rule (four arrays): its falls stand for the name
        rule's too, and its resets and largest rise are learnt from now on."""
        if "top" in state:
            return state
        k = np.shape(state["last"])[0]
        return {**state, "fallen_named": np.array(state["fallen"], dtype=bool),
                "resets": np.zeros(k, dtype=np.int64), "top": np.zeros(k)}

    def step(self, state: dict[str, Any], values: np.ndarray,
             hints: np.ndarray | None = None) -> np.ndarray:
        """Add one row ``(S,)``; whether each series is a counter now."""
        last = state["last"]
        value = np.where(np.isfinite(values), values, last)
        step = np.isfinite(last)
        fell, fell_named, reset, rise = _changes(last, value, state["top"])
        state["fallen"] |= fell & step
        state["fallen_named"] |= fell_named & step
        state["ups"] += (rise > 0) & step
        state["resets"] += reset & step
        state["steps"] += step
        state["top"] = np.maximum(state["top"], np.where(step, rise, 0.0))
        state["last"] = value
        if hints is None:
            hints = np.full(value.shape, UNKNOWN, dtype=np.int8)
        started = np.isfinite(value)
        return started & _judge(hints, state["fallen"], state["fallen_named"], state["ups"],
                                state["steps"], state["resets"])
