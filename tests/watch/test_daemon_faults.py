"""The daemon as a real process against fake servers: SIGKILL at any moment, and bad answers.

A scripted Prometheus serves values that are a function of time, so the test
knows every value the daemon should have seen, and can replay them through a
fresh detector to check that the stored scores are those of one unbroken run.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from watch_servers import (
    FakeHttp,
    free_port,
    http_get,
    kizashi_watch,
    prometheus_handler,
    wait_for,
    write_config,
)

from kizashi.detectors.registry import create
from kizashi.engine.decider import Decider
from kizashi.engine.stream import DetectorStream
from kizashi.watch.alerts import iso
from kizashi.watch.store import WatchStore

STEP = 0.5
NAMES = ["a", "b", "c"]


def scripted(anomaly_start: float | dict[str, float]):
    """Values as a function of time; ``anomaly_start`` may be ``{"at": t}``, set later."""
    def value(name: str, t: float) -> float:
        at = anomaly_start["at"] if isinstance(anomaly_start, dict) else anomaly_start
        k = round(t / STEP)
        noise = ((k * 7919 + ord(name) * 104729) % 1000) / 1000.0
        spike = 50.0 if name == "b" and at <= t < at + 3.0 else 0.0
        return 10.0 + noise + spike
    return value


CONFIG = """
interval: 500ms
storage: {state}
listen: {listen}
sources:
  prometheus: {{type: prometheus, url: "{prom}", timeout: 1s, retries: 1, backoff: 100ms,
                max_bytes: 1000000}}
watches:
  - name: m
    query: up
    detectors:
      - {{name: sigma, detector: threshold, params: {{window: 40, k: 3.5, min_periods: 10}},
          min_duration: 1s, resolve_after: 1s}}
alerts:
  alertmanager: {{url: "{sink}", resend_interval: 1h}}
  webhook: {{url: "{sink}/hook"}}
"""


@pytest.fixture
def sink():
    server = FakeHttp(lambda method, path, query, body: (200, b"{}"))
    yield server
    server.close()


def test_sigkill_and_restart_lose_no_point_and_repeat_no_alert(tmp_path, sink):
    anomaly = {"at": math.inf}  # set once the first daemon answers: its start-up varies
    value = scripted(anomaly_start=anomaly)
    prom = FakeHttp(prometheus_handler(value, NAMES))
    state = tmp_path / "state.sqlite"
    config = write_config(tmp_path / "watch.yaml", CONFIG.format(
        state=state, listen="off", prom=prom.url, sink=sink.url))
    log = tmp_path / "daemon.log"
    kills = 0

    def queried_since(count: int) -> bool:
        return len(prom.requests) > count

    try:
        daemon = kizashi_watch([str(config)], log)
        wait_for(lambda: queried_since(0), 60, "the daemon's first query")
        start = math.ceil(time.time())
        anomaly["at"] = start + 11.0
        # kill -9 at awkward moments: warm-up, just before, inside and after the incident
        for at in (3.0, 7.3, 12.2, 13.4, 16.1):
            time.sleep(max(0.0, start + at - time.time()))
            daemon.kill9()
            kills += 1
            time.sleep(1.2)                        # down for a few steps: they get backfilled
            daemon = kizashi_watch([str(config)], log)
        time.sleep(max(0.0, start + 21.0 - time.time()))
        # the last daemon is up and ticking (not still starting) before it is stopped
        asked = len(prom.requests)
        wait_for(lambda: queried_since(asked), 60, "the last daemon's query")
        assert daemon.alive(), daemon.output()
        assert daemon.stop() == 0, daemon.output()
    finally:
        daemon.stop()
        prom.close()
    output = log.read_text()
    assert kills == 5 and "Traceback" not in output, output

    store = WatchStore(str(state))
    # 1. every step from the first to the last was processed exactly once, for every series
    points = {sid: store.points(sid)["sigma"] for sid in (1, 2, 3)}
    t = points[1]["t"]
    assert np.allclose(np.diff(t), STEP) and t[-1] - t[0] > 18.0
    for part in points.values():
        assert np.array_equal(part["t"], t)
    # 2. ... with the scores of one unbroken run (exact state round trip through kill -9)
    detector = create("threshold", window=40, k=3.5, min_periods=10)
    # min_duration and resolve_after of 1 s are 2 steps of 0.5 s
    stream = DetectorStream(detector, Decider.for_detector(detector, min_steps=2,
                                                           resolve_steps=2), block=1)
    labels = [store.series(sid)["labels"]["instance"] for sid in (1, 2, 3)]
    expected = stream.process(np.array([[value(n, ti) for n in labels] for ti in t]), t)
    assert np.isnan(expected.decision.level[:10]).all()  # warm-up: no score yet, not 0
    for j, sid in enumerate((1, 2, 3)):
        assert np.array_equal(points[sid]["score"], expected.decision.level[:, j],
                              equal_nan=True)
    # 3. one incident, one alert, fired and resolved once
    alerts = store.alerts()
    assert [(a["labels"]["instance"], a["status"]) for a in alerts] == [("b", "resolved")]
    firing = {(json.dumps(a["labels"], sort_keys=True), a["startsAt"])
              for post in sink.posts("/api/v2/alerts") for a in post}
    assert len(firing) == 1, firing
    resolved_at = iso(alerts[0]["ends_at"])
    assert any(a["endsAt"] == resolved_at for post in sink.posts("/api/v2/alerts") for a in post)
    hooks = {(m["id"], m["status"]) for m in sink.posts("/hook")}
    assert hooks == {(alerts[0]["id"], "firing"), (alerts[0]["id"], "resolved")}


def test_daemon_survives_malformed_huge_and_failing_answers(tmp_path, sink):
    good = prometheus_handler(lambda n, t: 10.0 + (int(t / STEP) % 7) / 10, NAMES)
    mode = {"now": "garbage"}
    huge = b'{"status":"success","data":{"resultType":"vector","result":[' + b" " * 3_000_000

    def handler(method, path, query, body):
        if mode["now"] == "garbage":
            return 200, b"\x00\xff not json at all"
        if mode["now"] == "huge":
            return 200, huge
        if mode["now"] == "error":
            return 500, b'{"status":"error","error":"query processing would load too many samples"}'
        return good(method, path, query, body)

    prom = FakeHttp(handler)
    port = free_port()
    state = tmp_path / "state.sqlite"
    config = write_config(tmp_path / "watch.yaml", CONFIG.format(
        state=state, listen=f"127.0.0.1:{port}", prom=prom.url, sink=sink.url))
    daemon = kizashi_watch([str(config)], tmp_path / "daemon.log")
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    try:
        for bad in ("garbage", "huge", "error"):
            mode["now"] = bad
            before = _metric(metrics_url, 'kizashi_watch_source_errors_total{source="prometheus"}',
                             wait=True)
            wait_for(lambda before=before: _metric(
                metrics_url, 'kizashi_watch_source_errors_total{source="prometheus"}')
                >= before + 2, 15, f"{bad} errors")
            assert _metric(metrics_url, 'kizashi_watch_source_up{source="prometheus"}') == 0.0
            assert daemon.alive()
        mode["now"] = "good"
        wait_for(lambda: _metric(metrics_url, 'kizashi_watch_source_up{source="prometheus"}')
                 == 1.0, 15, "source up again")
        wait_for(lambda: _metric(metrics_url, 'kizashi_watch_lag_seconds{watch="m"}') < 2.0, 15,
                 "the daemon to catch up")
    finally:
        assert daemon.stop() == 0
        prom.close()
    output = daemon.output()
    for message in ("response is not JSON", "larger than max_bytes", "HTTP 500: query processing"):
        assert message in output, output
    assert "Traceback" not in output
    store = WatchStore(str(state))
    assert store.alerts() == []                                  # no fake anomalies
    t = store.points(1)["sigma"]["t"]
    assert np.allclose(np.diff(t), STEP)                          # the outage was backfilled


def _metric(url: str, name: str, wait: bool = False) -> float:
    def read() -> float | None:
        for line in http_get(url).decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return None

    value = wait_for(lambda: read() is not None, 20, f"{name} on {url}") if wait else None
    value = read()
    if value is None:
        raise AssertionError(f"{name} not found on {url}")
    return value
