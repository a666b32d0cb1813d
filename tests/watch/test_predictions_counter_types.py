"""Counters in the watch: their TYPE from a Prometheus source's ``/api/v1/metadata`` (asked
once per new metric name, a server without the endpoint asked again only an hour later),
their name, and their values; a counter by TYPE gets no anomaly-ahead prediction even where
its values alone read as a gauge's."""

from __future__ import annotations

import json

import pytest
from watch_servers import Clock, FakeHttp

from kizashi.prediction.counters import BY_NAME, BY_TYPE, DECLARED_GAUGE, UNKNOWN
from kizashi.watch.config import parse_config
from kizashi.watch.predictions import (
    TYPES_RETRY_SECONDS,
    WatchPredictions,
    parse_predict,
)
from kizashi.watch.sources import PrometheusSource, SourceError
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

STEP = 300.0
T0 = 1_800_000_000.0
H = 3600.0
METADATA = {"requests": [{"type": "counter", "help": "", "unit": ""}],
            "rpc_seconds": [{"type": "histogram", "help": "", "unit": ""}],
            "sessions_total": [{"type": "gauge", "help": "", "unit": ""}]}


def requests_seen(t: float) -> float:
    """A counter of requests: 10 a step, restarted at T0 + 30 h with 40 % of its count left
    (a reset Prometheus reads as any fall, a gauge's fall to the values alone)."""
    steps = round((t - T0) / STEP)
    restart = round(30 * H / STEP)
    return 10.0 * steps if steps < restart else 0.4 * 10.0 * restart + 10.0 * (steps - restart)


def handler(types: dict | None, series: list[str]):
    def handle(method, path, query, body):
        def sample(name, t):
            return requests_seen(t) if name == "requests" else 50.0 + (round(t / STEP) % 7)

        if path == "/api/v1/metadata":
            if types is None:
                return 404, b"404 page not found"
            name = query.get("metric")
            data = types if name is None else ({name: types[name]} if name in types else {})
            return 200, json.dumps({"status": "success", "data": data}).encode()
        if path == "/api/v1/query":
            t = float(query["time"])
            result = [{"metric": {"__name__": n, "instance": "a"}, "value": [t, repr(sample(n, t))]}
                      for n in series]
            data = {"resultType": "vector", "result": result}
        elif path == "/api/v1/query_range":
            start, end, step = (float(query[k]) for k in ("start", "end", "step"))
            steps = [start + i * step for i in range(round((end - start) / step) + 1)]
            result = [{"metric": {"__name__": n, "instance": "a"},
                       "values": [[t, repr(sample(n, t))] for t in steps]} for n in series]
            data = {"resultType": "matrix", "result": result}
        else:
            return 404, b'{"status":"error","error":"not found"}'
        return 200, json.dumps({"status": "success", "data": data}).encode()

    return handle


def metadata_asked(server: FakeHttp) -> list[str]:
    return [q.get("metric") for _, p, q, _ in server.requests if p == "/api/v1/metadata"]


def test_the_source_tells_the_type_of_a_metric_and_of_its_family():
    server = FakeHttp(handler(METADATA, []))
    try:
        source = PrometheusSource(server.url, retries=2, sleep=lambda s: None)
        types = source.metric_types(["requests", "rpc_seconds_bucket", "load_count"])
        assert types == {"requests": "counter", "rpc_seconds": "histogram"}
        # one request for every family (a name's family: without its suffix)
        assert metadata_asked(server) == [None]
    finally:
        server.close()


def test_a_server_without_metadata_is_asked_once_then_again_an_hour_later():
    server = FakeHttp(handler(None, []))
    try:
        source = PrometheusSource(server.url, retries=2, sleep=lambda s: None)
        try:
            source.metric_types(["requests"])
            raise AssertionError("a 404 must be a SourceError")
        except SourceError as error:
            assert "404" in str(error)
        assert len(metadata_asked(server)) == 1  # no retries
        predictions = WatchPredictions(parse_predict({}, "cfg"), STEP)
        labels = [{"__name__": "requests_total"}]
        predictions.learn_types(source, labels, now=0.0)
        predictions.learn_types(source, labels, now=TYPES_RETRY_SECONDS - 1)
        assert len(metadata_asked(server)) == 2
        predictions.learn_types(source, labels, now=TYPES_RETRY_SECONDS)
        assert len(metadata_asked(server)) == 3
        assert predictions.counter_hints(labels).tolist() == [BY_NAME]  # its name, still
    finally:
        server.close()


def test_types_set_the_hints_and_each_name_is_asked_once():
    server = FakeHttp(handler(METADATA, []))
    try:
        source = PrometheusSource(server.url, sleep=lambda s: None)
        predictions = WatchPredictions(parse_predict({}, "cfg"), STEP)
        labels = [{"__name__": n} for n in ("requests", "rpc_seconds_count", "sessions_total",
                                            "errors_total", "load")]
        predictions.learn_types(source, labels, now=0.0)
        asked = len(metadata_asked(server))
        predictions.learn_types(source, labels, now=1.0)
        assert len(metadata_asked(server)) == asked
        assert predictions.counter_hints(labels).tolist() == [BY_TYPE, BY_TYPE, DECLARED_GAUGE,
                                                              BY_NAME, UNKNOWN]
    finally:
        server.close()


def _watch(tmp_path, url: str) -> tuple[Watcher, Clock]:
    config = parse_config(f"""
interval: 5m
listen: off
storage: "{tmp_path / 's.sqlite'}"
initial_backfill: 3d
max_backfill: 3d
sources: {{p: {{type: prometheus, url: "{url}", retries: 0}}}}
watches:
  - name: app
    query: '{{instance="a"}}'
    detectors: [{{detector: static_threshold, params: {{high: 1.0e+12}}}}]
    predict: {{horizon: 6h}}
""")
    clock = Clock(T0 + 72 * H)
    return Watcher(config, WatchStore(config.storage), clock=clock), clock


def _probabilities(watcher: Watcher) -> dict[str, float | None]:
    body = watcher.snapshot()["watches"]["app"]
    names = [labels["__name__"] for labels in body["table"].labels]
    return dict(zip(names, body["predictions"]["probability"], strict=True))


@pytest.mark.slow
def test_a_counter_by_type_gets_no_anomaly_ahead_where_its_values_read_as_a_gauge(tmp_path):
    """``requests`` (no counter name) fell to 40 % at a restart: by its values a gauge, and
    predicted against its band; with its TYPE from the metadata, a counter: none."""
    for types, expected_none in ((METADATA, True), (None, False)):
        server = FakeHttp(handler(types, ["requests", "load"]))
        try:
            where = tmp_path / ("typed" if types else "untyped")
            where.mkdir()
            watcher, clock = _watch(where, server.url)
            watcher.tick()
            clock.t += STEP
            watcher.tick()
            got = _probabilities(watcher)
            assert (got["requests"] is None) == expected_none, (types is not None, got)
            assert got["load"] is not None  # a gauge: predicted either way
            # one request for both names (then none: nothing new); without metadata, one
            # refused request, then an hour's wait
            assert len(metadata_asked(server)) == 1
        finally:
            server.close()
