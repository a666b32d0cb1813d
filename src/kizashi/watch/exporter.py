"""``/metrics``: the watcher's scores, alert states and own health for Prometheus.

A prometheus-client collector reads the watcher's last snapshot at scrape
time. Per series and detector (labels: the series' labels, its ``__name__`` as
``metric_name``, ``watch``, ``detector``; a series label that clashes gets an
``exported_`` prefix, names and values that the text format cannot carry are
rewritten as :mod:`kizashi.watch.export_labels` says; scrape
with ``honor_labels: true`` so that ``instance``/``job`` stay the series' own),
for at most ``metrics_series`` series per watch (1000 by default: the most
anomalous — firing first, then by score over threshold):

``kizashi_watch_score``, ``kizashi_watch_threshold``, ``kizashi_watch_alert_firing``,
``kizashi_watch_learning_remaining_steps``
and per series ``kizashi_watch_value``. Daemon health:
``kizashi_watch_ticks_total``, ``kizashi_watch_tick_duration_seconds``,
``kizashi_watch_lag_seconds{watch}``, ``kizashi_watch_series{watch}``,
``kizashi_watch_source_up{source}``, ``kizashi_watch_source_errors_total{source}``,
``kizashi_watch_notifications_total{sink,result}``, ``kizashi_watch_points_total``,
``kizashi_watch_persist_errors_total``, ``kizashi_watch_infinite_values_total{watch}``,
``kizashi_watch_series_firing{watch}``,
``kizashi_watch_series_exported{watch}``, and for watches with ``predict:``
``kizashi_predicted_anomaly_probability{horizon}`` (the most likely series, at most
``metrics_series``). Cost: ``kizashi_watch_build_info``,
the histogram ``kizashi_watch_tick_seconds``, ``kizashi_watch_state_bytes``,
``kizashi_watch_resident_memory_bytes`` and both ``…_per_series``.

Examples
--------
>>> snapshot = {"now": 10.0, "watches": {"cpu": {"lag": 1.0, "series": [
...     {"labels": {"instance": "a"}, "value": 0.5,
...      "detectors": {"threshold": {"score": 2.0, "threshold": 4.0, "firing": False}}}]}},
...     "health": {"ticks": 3, "tick_seconds": 0.01, "points": 9, "source_up": {"p": True},
...                "source_errors": {"p": 0}, "notifications_sent": {},
...                "notifications_failed": {}}}
>>> text = render_metrics(lambda: snapshot).decode()
>>> 'kizashi_watch_score{detector="threshold",instance="a",watch="cpu"} 2.0' in text
True
"""

from __future__ import annotations

import itertools
import platform
from collections.abc import Callable, Iterator
from typing import Any

from kizashi.watch.export_labels import export_labels
from kizashi.watch.predictions import prediction_samples

__all__ = ["SnapshotCollector", "render_metrics"]

Snapshot = Callable[[], dict[str, Any]]


class SnapshotCollector:
    """A prometheus-client collector over ``snapshot()`` (a watcher's status)."""

    def __init__(self, snapshot: Snapshot, limit: int | None = None):
        self.snapshot = snapshot
        #: per-series samples for at most this many series per watch (None: the
        #: snapshot's ``metrics_series``, else 1000)
        self.limit = limit

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import Metric

        snap = self.snapshot()
        health = snap.get("health", {})

        def family(name: str, doc: str, kind: str = "gauge") -> Any:
            return Metric(name, doc, kind)

        score = family("kizashi_watch_score", "Anomaly score of the series' last point")
        threshold = family("kizashi_watch_threshold", "Score above which a point is anomalous")
        firing = family("kizashi_watch_alert_firing", "1 while an alert of the series fires")
        learning = family("kizashi_watch_learning_remaining_steps",
                          "Steps a series still needs before it is scored (0: scored)")
        value = family("kizashi_watch_value", "Last value of the series")
        lag = family("kizashi_watch_lag_seconds", "Now minus the last processed step")
        count = family("kizashi_watch_series", "Series currently watched")
        n_firing = family("kizashi_watch_series_firing", "Series with an alert firing")
        exported = family("kizashi_watch_series_exported",
                          "Series whose per-series samples are exported here (the most "
                          "anomalous, up to metrics_series)")
        predicted = family("kizashi_predicted_anomaly_probability",
                           "Calibrated probability that the series reaches its limit within "
                           "the horizon (watches with predict:)")
        limit = self.limit if self.limit is not None else snap.get("metrics_series", 1000)
        for watch, body in snap.get("watches", {}).items():
            rows = _exported(body, limit)
            table = body.get("table")
            n = len(table) if table is not None else len(body.get("series", []))
            count.add_sample("kizashi_watch_series", {"watch": watch}, n)
            n_firing.add_sample("kizashi_watch_series_firing", {"watch": watch},
                                body.get("n_firing", sum(any(
                                    d.get("firing") for d in s["detectors"].values())
                                    for s in body.get("series", []))))
            exported.add_sample("kizashi_watch_series_exported", {"watch": watch}, len(rows))
            if body.get("lag") is not None:
                lag.add_sample("kizashi_watch_lag_seconds", {"watch": watch}, body["lag"])
            for labels, p in prediction_samples(body, limit):
                predicted.add_sample("kizashi_predicted_anomaly_probability",
                                     {**labels, "watch": watch}, p)
            for series in rows:
                base = export_labels(series["labels"], ("watch", "detector", "metric_name"),
                                     series.get("id"))
                base["watch"] = watch
                _add(value, "kizashi_watch_value", base, series.get("value"))
                for detector, state in series["detectors"].items():
                    labels = {**base, "detector": detector}
                    _add(score, "kizashi_watch_score", labels, state.get("score"))
                    _add(threshold, "kizashi_watch_threshold", labels, state.get("threshold"))
                    firing.add_sample("kizashi_watch_alert_firing", labels,
                                      1.0 if state.get("firing") else 0.0)
                    warm = state.get("learning") or {}
                    learning.add_sample("kizashi_watch_learning_remaining_steps", labels, float(
                        max(0, warm.get("needed", 0) - warm.get("seen", 0))))
        yield from (score, threshold, firing, learning, value, lag, count, n_firing, exported,
                    predicted)

        ticks = family("kizashi_watch_ticks", "Ticks run", "counter")
        ticks.add_sample("kizashi_watch_ticks_total", {}, health.get("ticks", 0))
        points = family("kizashi_watch_points", "Points scored", "counter")
        points.add_sample("kizashi_watch_points_total", {}, health.get("points", 0))
        duration = family("kizashi_watch_tick_duration_seconds", "Duration of the last tick")
        duration.add_sample("kizashi_watch_tick_duration_seconds", {},
                            health.get("tick_seconds", 0.0))
        up = family("kizashi_watch_source_up", "1 when the source answered the last query")
        errors = family("kizashi_watch_source_errors", "Failed queries per source", "counter")
        for source, ok in health.get("source_up", {}).items():
            up.add_sample("kizashi_watch_source_up", {"source": source}, 1.0 if ok else 0.0)
            errors.add_sample("kizashi_watch_source_errors_total", {"source": source},
                              health.get("source_errors", {}).get(source, 0))
        infinite = family("kizashi_watch_infinite_values",
                          "Infinite values from the source, taken as missing", "counter")
        for watch, n in health.get("infinite_values", {}).items():
            infinite.add_sample("kizashi_watch_infinite_values_total", {"watch": watch}, n)
        persist = family("kizashi_watch_persist_errors",
                         "Writes to the state file that failed (full disk, I/O error)", "counter")
        persist.add_sample("kizashi_watch_persist_errors_total", {},
                           health.get("persist_errors", 0))
        notes = family("kizashi_watch_notifications", "Alert notifications", "counter")
        for result, key in (("sent", "notifications_sent"), ("failed", "notifications_failed")):
            for sink, n in health.get(key, {}).items():
                notes.add_sample("kizashi_watch_notifications_total",
                                 {"sink": sink, "result": result}, n)
        yield from (ticks, points, duration, up, errors, infinite, persist, notes)
        from kizashi.watch.remote_write import remote_write_families

        yield from remote_write_families(health.get("remote_write"))
        yield from _cost(snap, health)


def render_metrics(snapshot: Snapshot, limit: int | None = None) -> bytes:
    """The text exposition of a snapshot."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot, limit))
    return generate_latest(registry)


def _exported(body: dict[str, Any], limit: int | None) -> list[dict[str, Any]]:
    """The series of a watch whose per-series samples are exported: all of them up to
    ``limit`` (None: no limit), else the ``limit`` most anomalous (firing first)."""
    table = body.get("table")
    if table is None:
        series = body.get("series", [])
        return series if limit is None else series[:limit]
    if limit is None or len(table) <= limit:
        return [table.row(j) for j in range(len(table))]
    return [table.row(j) for j in table.ranking()[:limit].tolist()]


def _cost(snap: dict[str, Any], health: dict[str, Any]) -> Iterator[Any]:
    """Build info, the tick-duration histogram and what the daemon costs per series."""
    from prometheus_client.core import HistogramMetricFamily, Metric

    import kizashi

    info = Metric("kizashi_watch_build", "kizashi's version (the value is 1)", "info")
    shard = health.get("shard", [0, 1])
    info.add_sample("kizashi_watch_build_info", {
        "version": kizashi.__version__, "python": platform.python_version(),
        "shard": f"{shard[0]}/{shard[1]}"}, 1.0)
    yield info
    bounds, counts = health.get("tick_buckets"), health.get("tick_counts")
    if bounds and counts:
        cumulative = list(itertools.accumulate(counts))
        buckets = [(f"{b:g}", float(c)) for b, c in zip(bounds, cumulative, strict=False)]
        buckets.append(("+Inf", float(cumulative[-1])))
        yield HistogramMetricFamily("kizashi_watch_tick_seconds", "Duration of the ticks",
                                    buckets=buckets, sum_value=health.get("tick_sum", 0.0))
    n = sum(len(w["table"]) if w.get("table") is not None else len(w.get("series", []))
            for w in snap.get("watches", {}).values())
    for name, doc, total in (
            ("kizashi_watch_state_bytes", "Bytes of the state file and its WAL",
             health.get("state_bytes")),
            ("kizashi_watch_resident_memory_bytes", "Resident memory of the daemon",
             health.get("resident_bytes"))):
        if total is None:
            continue
        metric = Metric(name, doc, "gauge")
        metric.add_sample(name, {}, float(total))
        yield metric
        per = Metric(name.replace("_bytes", "_bytes_per_series"), doc + ", per series", "gauge")
        per.add_sample(name.replace("_bytes", "_bytes_per_series"), {},
                       float(total) / max(n, 1))
        yield per


def _add(metric: Any, name: str, labels: dict[str, str], value: float | None) -> None:
    if value is not None:
        metric.add_sample(name, labels, float(value))
