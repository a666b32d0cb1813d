"""A limit on a counter's rate: ``--limit 'rate(errors_total)=5'`` predicts its rate.

A counter's level has no band to leave (:mod:`kizashi.prediction.counters`), and a limit on
its *value* is a quota (the bytes an SSD may be written over its life: ``--limit
disk_written_bytes_total=6e14``, predicted as the series itself). What an operator usually
means by a counter's limit is a limit on its rate, as Prometheus alerts are written
(``rate(http_errors_total[5m]) > 5``). A limit given as ``rate(METRIC)=VALUE`` is that: each
series of ``METRIC`` gets a companion series ``rate(METRIC)`` (same entity), its increase
per second from one value to the next, and that series is predicted against ``VALUE`` as
any series with a limit (the counter itself keeps no anomaly-ahead prediction). The rate
is Prometheus' reading of a counter: a fall is a reset, after which the counter counted
its new value (:func:`counter_rate`); over a missing value, the increase between the two
values around it over the time between them. Row ``t`` uses rows ``≤ t`` only.

In ``kizashi watch`` the query itself can ask for the rate (``rate(errors_total[5m])``:
Prometheus' answer has no metric name, so it is a gauge), with the limit in the watch's
``predict:`` block.

>>> seconds = np.array([0.0, 60, 120, 180, 240])
>>> counter_rate(np.array([[10.0], [70], [np.nan], [190], [30]]), seconds)[:, 0].tolist()
[nan, 1.0, nan, 1.0, 0.5]
>>> rate_of("rate(http_errors_total)"), rate_of("http_errors_total")
('http_errors_total', None)
"""

from __future__ import annotations

import re

import numpy as np

from kizashi.data.frame import SeriesFrame

__all__ = ["counter_rate", "rate_name", "rate_of", "with_rates"]

_RATE = re.compile(r"^rate\((.+)\)$")


def rate_of(limit_name: str) -> str | None:
    """The counter whose rate a limit's name ``rate(METRIC)`` is about (None: not a rate)."""
    found = _RATE.match(limit_name.strip())
    return found.group(1).strip() if found else None


def rate_name(metric: str) -> str:
    """The name of ``metric``'s rate series: ``rate(METRIC)``."""
    return f"rate({metric})"


def counter_rate(values: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """``(T, S)`` per-second increase of each counter since its previous value (a fall: a
    reset, the counter having counted its new value since); NaN at a series' first value
    and where it has none."""
    values = np.asarray(values, dtype=np.float64)
    n, k = values.shape
    out = np.full((n, k), np.nan)
    for j in range(k):
        rows = np.flatnonzero(np.isfinite(values[:, j]))
        if rows.size < 2:
            continue
        y, t = values[rows, j], seconds[rows]
        increase = np.where(y[1:] >= y[:-1], y[1:] - y[:-1], y[1:])
        out[rows[1:], j] = increase / (t[1:] - t[:-1])
    return out


def with_rates(frame: SeriesFrame, limits: dict[str, float]) -> SeriesFrame:
    """``frame`` with a ``rate(METRIC)`` series after the others for each series whose
    metric has a rate limit in ``limits`` (a key ``rate(METRIC)``); ``frame`` itself when
    there is none.

    >>> frame = SeriesFrame.from_arrays([0, 60, 120], [[0.0, 5.0], [60.0, 6.0], [180.0, 7.0]],
    ...                                 ["a", "a"], ["errors_total", "load"])
    >>> both = with_rates(frame, {"rate(errors_total)": 5.0})
    >>> both.metrics, both.values[:, 2].tolist()
    (('errors_total', 'load', 'rate(errors_total)'), [nan, 1.0, 2.0])
    """
    wanted = {rate_of(name) for name in limits} - {None}
    columns = [j for j, m in enumerate(frame.metrics) if m in wanted]
    if not columns:
        return frame
    present = set(zip(frame.entities, frame.metrics, strict=True))
    for j in columns:
        if (frame.entities[j], rate_name(frame.metrics[j])) in present:
            raise ValueError(f"the file already has a series {rate_name(frame.metrics[j])!r} "
                             f"(entity {frame.entities[j]!r}), the name the rate limit gives "
                             f"{frame.metrics[j]!r}'s rate: rename that column, or give its "
                             f"limit as {rate_name(frame.metrics[j])}'s own")
    rates = counter_rate(frame.values[:, columns], frame.epoch_seconds)
    labels = (None if frame.labels is None
              else np.column_stack([frame.labels, frame.labels[:, columns]]))
    return SeriesFrame(frame.timestamps, np.column_stack([frame.values, rates]),
                       (*frame.entities, *(frame.entities[j] for j in columns)),
                       (*frame.metrics, *(rate_name(frame.metrics[j]) for j in columns)),
                       labels=labels, name=frame.name, report=frame.report, meta=frame.meta)
