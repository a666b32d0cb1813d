"""Counters: series that only ever grow (bytes written, requests served) have no band to leave.

*Anomaly ahead* (:mod:`kizashi.prediction.envelope`) forecasts whether a series leaves
its normal band, a rolling mean ± k·σ. A counter — Prometheus' ``*_total``, a running
sum — climbs steadily away from any rolling mean, so it was always about to leave its
band: ``kizashi predict`` warned on it again and again (``benchmarks/prediction.py
--families``: 58 false-warning runs on 30 counters, where the ``predict_linear`` rule,
without a limit, has none). Its *rate* can be anomalous, its level cannot; so a series
without a limit that behaves as a counter gets no anomaly-ahead prediction (probability
and ETA empty), and a counter with a limit (``--limit``) is predicted as any other.

A series is a counter at row ``t`` when, up to ``t`` (values carried forward over gaps):

* it never fell, except to under :data:`RESET_SHARE` of its last value (a counter reset:
  the process restarted and counts from zero again);
* it rose at no fewer than half of its steps, and had at least :data:`MIN_STEPS` steps.

A gauge that wanders falls sooner or later and is a gauge from then on (for good: the
decision uses only the past, so predictions made on a growing file do not change).

>>> import numpy as np
>>> counter = np.cumsum(np.r_[5.0, np.ones(20)])
>>> gauge = 50 + np.sin(np.arange(21.0))
>>> counter_rows(np.column_stack([counter, gauge]))[[0, 11, 12, 20]].tolist()
[[False, False], [False, False], [True, False], [True, False]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kizashi.prediction.local_fit import fill_forward

__all__ = ["MIN_STEPS", "RESET_SHARE", "CounterStream", "counter_rows"]

#: A fall to under this share of the last value is a counter reset, not a fall.
RESET_SHARE = 0.1
#: A counter has had at least this many steps since its first value.
MIN_STEPS = 12


def _judge(fallen: np.ndarray, ups: np.ndarray, steps: np.ndarray) -> np.ndarray:
    return ~fallen & (steps >= MIN_STEPS) & (2 * ups >= steps)


def _changes(previous: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a fall that is not a reset, a rise) from ``previous`` to ``value``."""
    with np.errstate(invalid="ignore"):
        fell = (value < previous) & (value >= RESET_SHARE * previous)
        return fell, value > previous


def counter_rows(values: np.ndarray) -> np.ndarray:
    """``(T, S)``: whether each series is a counter at each row (see the module docs)."""
    y, seen = fill_forward(np.asarray(values, dtype=np.float64))
    n, k = y.shape
    out = np.zeros((n, k), dtype=bool)
    if n < 2:
        return out
    fell, rose = _changes(y[:-1], y[1:])
    step = np.maximum.accumulate(seen, axis=0)[:-1]  # from the series' first value on
    fallen = np.cumsum(fell & step, axis=0) > 0
    ups = np.cumsum(rose & step, axis=0)
    steps = np.cumsum(step, axis=0)
    out[1:] = _judge(fallen, ups, steps)
    return out


class CounterStream:
    """:func:`counter_rows` one row at a time; its state is four arrays per series."""

    def fresh(self, n_series: int) -> dict[str, Any]:
        """The state of ``n_series`` series that have seen nothing."""
        k = int(n_series)
        return {"last": np.full(k, np.nan), "fallen": np.zeros(k, dtype=bool),
                "ups": np.zeros(k, dtype=np.int64), "steps": np.zeros(k, dtype=np.int64)}

    def step(self, state: dict[str, Any], values: np.ndarray) -> np.ndarray:
        """Add one row ``(S,)``; whether each series is a counter now."""
        last = state["last"]
        value = np.where(np.isfinite(values), values, last)
        step = np.isfinite(last)
        fell, rose = _changes(last, value)
        state["fallen"] |= fell & step
        state["ups"] += rose & step
        state["steps"] += step
        state["last"] = value
        return _judge(state["fallen"], state["ups"], state["steps"])
