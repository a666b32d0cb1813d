"""The remote_write sink: every processed step (backfill included) reaches the receiver with the
series' labels; outages, rejections and restarts lose nothing and send nothing twice.

Expected scores come from replaying the known values through a fresh detector and decider
one step at a time (independent of the daemon's blocks); forecast bands from the rolling
window's definition (mean of the previous ``window`` values).
"""

from __future__ import annotations

import json
import math
import time
import urllib.parse

import numpy as np
import pytest
from watch_servers import FakeHttp, FunctionSource, http_get, need, start_prometheus, wait_for

from kizashi.detectors.registry import create
from kizashi.engine.decider import Decider
from kizashi.engine.stream import DetectorStream
from kizashi.watch.config import parse_config
from kizashi.watch.exporter import render_metrics
from kizashi.watch.prompb import decode_write_request
from kizashi.watch.remote_write import RemoteWriteQueue
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

NAMES = ["n1", "n2"]
WINDOW, K, MIN_PERIODS = 20, 4.0, 5
BACKFILL = 40


def value(name: str, t: float) -> float:
    k = round(t)
    base = 10.0 + ((k * 7919 + ord(name[-1]) * 104729) % 1000) / 1000.0
    return base + (30.0 if name == "n2" and k % 60 in (50, 51, 52, 53) else 0.0)


class LabelledSource(FunctionSource):
    """Series with a metric name and a clashing ``watch`` label, as Prometheus gives them."""

    def _samples(self, timestamps):
        samples = super()._samples(timestamps)
        samples.labels = [{"__name__": "node_load1", "instance": n, "job": "node",
                           "watch": "theirs"} for n in self.names]
        return samples


def config_text(url: str, storage: str, extra: str = "") -> str:
    return f"""
interval: 1s
listen: off
storage: "{storage}"
initial_backfill: {BACKFILL}s
sources: {{prometheus: {{type: prometheus, url: "http://127.0.0.1:9"}}}}
watches:
  - name: load
    query: node_load1
    detectors:
      - {{name: sigma, detector: threshold, params: {{window: {WINDOW}, k: {K},
          min_periods: {MIN_PERIODS}}}, min_duration: 2s, resolve_after: 2s}}
remote_write:
  url: "{url}"
  labels: {{cluster: test}}
  min_backoff: 1s
{extra}"""


def make_watcher(url: str, tmp_path, now: float, extra: str = "") -> Watcher:
    config = parse_config(config_text(url, str(tmp_path / "state.sqlite"), extra))
    source = LabelledSource(value, NAMES)
    return Watcher(config, WatchStore(config.storage), clock=lambda: now,
                   sources={"prometheus": source})


def expected(times: np.ndarray) -> tuple[np.ndarray, Decider]:
    detector = create("threshold", window=WINDOW, k=K, min_periods=MIN_PERIODS)
    stream = DetectorStream(detector, Decider.for_detector(detector, min_steps=2,
                                                           resolve_steps=2), block=1)
    return stream.process(np.array([[value(n, t) for n in NAMES] for t in times]), times)


def received(server: FakeHttp) -> dict[tuple[str, str], list[tuple[int, float]]]:
    """(metric, instance) → samples, over every request, in arrival order."""
    out: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for method, path, _, body in list(server.requests):
        if method == "POST" and path == "/write":
            for labels, samples in decode_write_request(body):
                out.setdefault((labels["__name__"], labels["instance"]), []).extend(samples)
    return out


@pytest.fixture
def receiver():
    mode = {"status": 204}
    server = FakeHttp(lambda method, path, query, body: (mode["status"], b""))
    server.mode = mode
    yield server
    server.close()


def test_backfill_writes_every_step_with_the_series_labels(tmp_path, receiver):
    now = 1_800_000_000.0               # the incident of n2 (steps 30..33) is in the backfill
    watcher = make_watcher(f"{receiver.url}/write", tmp_path, now)
    watcher.tick()
    times = now - BACKFILL + np.arange(BACKFILL + 1)
    out = expected(times)
    got = received(receiver)
    for j, name in enumerate(NAMES):
        level = out.decision.level[:, j]
        scored = np.isfinite(level)
        assert scored.sum() == BACKFILL + 1 - MIN_PERIODS       # warm-up steps have no score
        want = list(zip((times[scored] * 1000).astype(int).tolist(), level[scored].tolist(),
                        strict=True))
        assert got[("kizashi_anomaly_score", name)] == want
        firing = got[("kizashi_anomaly_firing", name)]
        assert [t for t, _ in firing] == (times * 1000).astype(int).tolist()
        assert [v for _, v in firing] == out.decision.active[:, j].astype(float).tolist()
        assert {v for _, v in got[("kizashi_anomaly_threshold", name)]} == {K}
        # the band: the mean of the previous WINDOW values, ± K standard deviations
        values = np.array([value(name, t) for t in times])
        forecast = dict(got[("kizashi_forecast", name)])
        lower, upper = dict(got[("kizashi_forecast_lower", name)]), dict(
            got[("kizashi_forecast_upper", name)])
        assert len(forecast) == BACKFILL + 1 - MIN_PERIODS
        for i in range(MIN_PERIODS, BACKFILL + 1):
            if j == 1 and out.decision.protect[:i, j].any():
                break                    # the daemon protected the window from the incident
            t = int(times[i] * 1000)
            window = values[max(0, i - WINDOW):i]
            assert forecast[t] == pytest.approx(window.mean(), rel=1e-12)
            assert upper[t] - forecast[t] == pytest.approx(forecast[t] - lower[t], rel=1e-9)
            assert (upper[t] - forecast[t]) / K == pytest.approx(window.std(), rel=1e-9)
    assert out.decision.active[:, 1].any() and not out.decision.active[:, 0].any()
    # the labels: the series' own, its metric name moved, the clash prefixed (and so the
    # series' id added: another series may hold exported_watch as its own), kizashi's added
    labels = decode_write_request(receiver.requests[0][3])[0][0]
    assert labels.pop("kizashi_series_id").isdigit()
    assert labels == {"__name__": "kizashi_anomaly_score", "instance": "n1", "job": "node",
                      "metric_name": "node_load1", "exported_watch": "theirs", "watch": "load",
                      "detector": "sigma", "cluster": "test"}
    method, path, _, _ = receiver.requests[0]
    assert (method, path) == ("POST", "/write")
    stats = watcher.snapshot()["health"]["remote_write"]
    total = sum(len(s) for s in got.values())
    assert stats["samples"] == {"sent": total, "rejected": 0, "dropped": 0}
    assert stats["queue_samples"] == 0
    text = render_metrics(watcher.snapshot).decode()
    assert f'kizashi_watch_remote_write_samples_total{{result="sent"}} {float(total)}' in text


def test_live_steps_write_the_band_expected_before_each_step(tmp_path, receiver):
    """After the backfill each tick is one live step (the watcher's sliced fast path): its
    score and its band (from the state before the step learns it) are written too."""
    now = 1_800_000_000.0
    clock = {"t": now}
    config = parse_config(config_text(f"{receiver.url}/write", str(tmp_path / "s.sqlite")))
    watcher = Watcher(config, WatchStore(config.storage), clock=lambda: clock["t"],
                      sources={"prometheus": LabelledSource(value, NAMES)})
    watcher.tick()
    live = 6
    for _ in range(live):
        clock["t"] += 1.0
        watcher.tick()
        assert watcher.runs[0].detectors[0].hints is not None   # the live step ran
    times = now - BACKFILL + np.arange(BACKFILL + 1 + live)
    out = expected(times)
    got = received(receiver)
    values = np.array([value("n1", t) for t in times])
    forecast = dict(got[("kizashi_forecast", "n1")])
    upper = dict(got[("kizashi_forecast_upper", "n1")])
    score = dict(got[("kizashi_anomaly_score", "n1")])
    for i in range(BACKFILL + 1, BACKFILL + 1 + live):
        t = int(times[i] * 1000)
        window = values[i - WINDOW:i]
        assert forecast[t] == pytest.approx(window.mean(), rel=1e-12)
        assert (upper[t] - forecast[t]) / K == pytest.approx(window.std(), rel=1e-9)
        assert score[t] == out.decision.level[i, 0]
    # n2 (its window holds the protected incident) gets a band at every live step too
    stamps = {int(t * 1000) for t in times[BACKFILL + 1:]}
    assert stamps <= set(dict(got[("kizashi_forecast_lower", "n2")]))


def test_an_outage_queues_samples_and_a_restart_sends_them_once(tmp_path, receiver):
    now = 1_800_000_000.0
    receiver.mode["status"] = 503
    watcher = make_watcher(f"{receiver.url}/write", tmp_path, now)
    watcher.tick()                                          # the receiver fails: all queued
    stats = watcher.snapshot()["health"]["remote_write"]
    assert stats["samples"]["sent"] == 0 and stats["failures"] == 1
    queued = stats["queue_samples"]
    assert queued > 0 and len(receiver.requests) == 1
    watcher.tick()                                          # backing off: not even tried
    assert len(receiver.requests) == 1
    # the daemon is killed (nothing closed); a new one on the same state and queue files
    receiver.mode["status"] = 204
    receiver.requests.clear()                               # (the one that failed)
    later = make_watcher(f"{receiver.url}/write", tmp_path, now + 3)
    later.tick()
    got = received(receiver)
    score = [t for t, _ in got[("kizashi_anomaly_score", "n1")]]
    # one copy of every step: the queued backfill, then the 3 new steps, in time order
    assert score == sorted(set(score))
    times = now - BACKFILL + np.arange(BACKFILL + 4)
    assert score == (times[MIN_PERIODS:] * 1000).astype(int).tolist()
    stats = later.snapshot()["health"]["remote_write"]
    assert stats["samples"]["sent"] == sum(len(s) for s in got.values()) > queued
    assert stats["queue_samples"] == 0


def test_a_rejected_request_is_dropped_and_counted_and_the_rest_goes_on(tmp_path, receiver):
    now = 1_800_000_000.0
    answers = iter([400, 204, 204, 204, 204, 204, 204, 204])
    server = FakeHttp(lambda method, path, query, body: (next(answers), b"out of order sample"))
    try:
        watcher = make_watcher(f"{server.url}/write", tmp_path, now,
                               extra="  max_samples_per_send: 100\n")
        watcher.tick()
        stats = watcher.snapshot()["health"]["remote_write"]
        requests = [decode_write_request(body) for _, _, _, body in server.requests]
        sizes = [sum(len(s) for _, s in r) for r in requests]
        assert all(n <= 100 for n in sizes) and len(sizes) > 2
        assert stats["samples"]["rejected"] == sizes[0]
        assert stats["samples"]["sent"] == sum(sizes[1:])
        assert stats["queue_samples"] == 0 and "out of order" in stats["last_error"]
    finally:
        server.close()


@pytest.mark.parametrize("sizes", [[10] * 5, [1, 2, 3, 50], [30, 30, 30], [100]])
def test_the_queue_keeps_the_newest_requests_within_its_bound(sizes):
    queue = RemoteWriteQueue(":memory:", max_bytes=60)
    dropped = 0
    for i, size in enumerate(sizes):
        dropped += queue.put([(i + 1, bytes(size))])
    kept, total = [], 0
    for i in reversed(range(len(sizes))):          # newest first while they fit
        if total + sizes[i] > 60:                  # the bound is strict
            break
        kept.insert(0, i)
        total += sizes[i]
    assert queue.requests == len(kept) and queue.bytes == sum(sizes[i] for i in kept)
    assert dropped == sum(i + 1 for i in range(len(sizes)) if i not in kept)
    assert (queue.oldest() or (0, 0))[1] == (kept[0] + 1 if kept else 0)


@pytest.mark.parametrize("block, message", [
    ("remote_write: {url: ftp://x}", "remote_write.url must be the receiver's http(s) URL"),
    ("remote_write: {}", "remote_write.url must be"),
    ("remote_write: {url: 'http://x/w', send: [scores]}", "remote_write.send must be a list of"),
    ("remote_write: {url: 'http://x/w', labels: {watch: a}}", "remote_write.labels.watch is set"),
    ("remote_write: {url: 'http://x/w', labels: {'a-b': c}}", "'a-b' is not a valid Prometheus"),
    # the names /metrics and remote write take (export_labels.valid_label_name): a name
    # ending in a line end, reserved __, a leading digit, a dot, none
    *[(f"remote_write: {{url: 'http://x/w', labels: {{{name}: c}}}}", "is not a valid Prometheus")
      for name in ('"job\\n"', "__x", "'1a'", "http.status", "''")],
    ("remote_write: {url: 'http://x/w', min_backoff: 5s, max_backoff: 1s}", "max_backoff must"),
    ("remote_write: {url: 'http://x/w', max_samples_per_send: 0}", "max_samples_per_send must"),
    ("remote_write: {url: 'http://x/w', timeout: -1s}", "remote_write.timeout"),
    ("remote_write: {url: 'http://x/w', bearer_token_file: /nonexistent/t}",
     "remote_write.bearer_token_file: /nonexistent/t is not a readable file"),
    ("remote_write: {url: 'http://x/w', colour: red}", "unknown key(s) remote_write.colour"),
])
def test_bad_remote_write_blocks_are_one_line_errors_naming_the_key(block, message):
    text = config_text("http://x/w", ":memory:").split("remote_write:")[0] + block
    with pytest.raises(ValueError) as error:
        parse_config(text, "w.yaml")
    assert message in str(error.value) and "\n" not in str(error.value)
    assert str(error.value).startswith("w.yaml: ")


@pytest.mark.integration
def test_a_real_prometheus_receives_the_backfilled_scores(tmp_path):
    need("prometheus")
    prom, port = start_prometheus(tmp_path, [], extra=("--web.enable-remote-write-receiver",))
    try:
        now = float(math.floor(time.time()))
        watcher = make_watcher(f"http://127.0.0.1:{port}/api/v1/write", tmp_path, now)
        assert watcher.remote.check() == "ok"           # what `kizashi watch --check` sends
        watcher.tick()
        stats = watcher.snapshot()["health"]["remote_write"]
        assert stats["samples"]["rejected"] == 0 and stats["queue_samples"] == 0, stats

        def series(metric: str) -> list[dict]:
            query = urllib.parse.urlencode({"query": f"{metric}[5m]", "time": f"{now + 1:.3f}"})
            return json.loads(http_get(f"http://127.0.0.1:{port}/api/v1/query?{query}"))[
                "data"]["result"]

        result = wait_for(lambda: len(series("kizashi_anomaly_score")) == 2 and series(
            "kizashi_anomaly_score"), 20, "the scores in Prometheus")
        times = now - BACKFILL + np.arange(BACKFILL + 1)
        out = expected(times)
        store = watcher.store
        for item in result:
            labels = item["metric"]
            j = NAMES.index(labels["instance"])
            assert labels.pop("kizashi_series_id").isdigit()   # its watch label prefixed
            assert labels == {"__name__": "kizashi_anomaly_score", "instance": NAMES[j],
                              "job": "node", "metric_name": "node_load1",
                              "exported_watch": "theirs", "watch": "load", "detector": "sigma",
                              "cluster": "test"}
            t = np.array([float(p[0]) for p in item["values"]])
            v = np.array([float(p[1]) for p in item["values"]])
            level = out.decision.level[:, j]
            scored = np.isfinite(level)
            assert np.array_equal(t, times[scored])
            np.testing.assert_allclose(v, level[scored], rtol=1e-15)  # JSON's 17 digits
            stored = store.points(j + 1)["sigma"]                      # the daemon's own record
            keep = np.isfinite(stored["score"])
            assert np.array_equal(stored["t"][keep], t)
            np.testing.assert_allclose(stored["score"][keep], v, rtol=1e-15)
        for item in series("kizashi_anomaly_firing"):             # 0/1 at every step
            j = NAMES.index(item["metric"]["instance"])
            assert [float(p[1]) for p in item["values"]] == out.decision.active[:, j].tolist()
            assert [float(p[0]) for p in item["values"]] == times.tolist()
        assert len(series("kizashi_forecast_upper")) == 2
    finally:
        prom.stop()


PROCESS_CONFIG = """
interval: 500ms
storage: "{state}"
listen: "127.0.0.1:{port}"
sources:
  prometheus: {{type: prometheus, url: "{prom}", timeout: 1s, retries: 0}}
watches:
  - name: m
    query: up
    detectors:
      - {{name: sigma, detector: threshold, params: {{window: 20, k: 3.5, min_periods: 5}}}}
remote_write: {{url: "{receiver}/write", min_backoff: 200ms, max_backoff: 500ms}}
"""


def half_step_value(name: str, t: float) -> float:
    return 10.0 + ((round(t * 2) * 7919 + ord(name) * 104729) % 1000) / 1000.0


@pytest.mark.slow
def test_kill_9_and_receiver_outages_lose_no_sample(tmp_path):
    from watch_servers import free_port, kizashi_watch, prometheus_handler, write_config

    from kizashi.watch.store import WatchStore

    accepted: list[bytes] = []
    mode = {"up": True}

    def receive(method, path, query, body):
        if not mode["up"]:
            return 503, b"down"
        accepted.append(body)
        return 204, b""

    prom = FakeHttp(prometheus_handler(half_step_value, ["a", "b"]))
    receiver = FakeHttp(receive)
    port = free_port()
    state = tmp_path / "state.sqlite"
    config = write_config(tmp_path / "watch.yaml", PROCESS_CONFIG.format(
        state=state, port=port, prom=prom.url, receiver=receiver.url))
    log = tmp_path / "daemon.log"
    metrics = f"http://127.0.0.1:{port}/metrics"

    def metric(name: str) -> float:
        for line in http_get(metrics).decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        raise ValueError(f"no {name} yet")

    sent = 'kizashi_watch_remote_write_samples_total{result="sent"}'
    failures = "kizashi_watch_remote_write_failures_total"
    queued = "kizashi_watch_remote_write_queue_samples"
    try:
        daemon = kizashi_watch([str(config)], log)
        wait_for(lambda: metric(sent) > 0, 60, "samples sent")
        daemon.kill9()                                   # 1. while all is well
        mode["up"] = False
        daemon = kizashi_watch([str(config)], log)
        wait_for(lambda: metric(failures) >= 1 and metric(queued) > 0, 60, "a backlog")
        daemon.kill9()                                   # 2. with a backlog, receiver down
        daemon = kizashi_watch([str(config)], log)
        wait_for(lambda: metric(failures) >= 2, 60, "the receiver still down")
        time.sleep(0.7)
        daemon.kill9()                                   # 3. again
        mode["up"] = True
        daemon = kizashi_watch([str(config)], log)
        wait_for(lambda: metric(sent) > 0, 60, "sending again")
        time.sleep(1.3)
        daemon.kill9()                                   # 4. while it catches up
        daemon = kizashi_watch([str(config)], log)
        wait_for(lambda: metric(sent) > 0 and metric(queued) == 0, 60, "the queue to drain")
        time.sleep(1.2)
        wait_for(lambda: metric(queued) == 0, 30, "the queue to drain again")
    finally:
        code = daemon.stop()
        prom.close()
        receiver.close()
    output = log.read_text()
    assert code == 0, output
    assert "remote_write to" in output and "HTTP 503" in output   # the outage was seen
    assert "Traceback" not in output, output
    got: dict[str, dict[int, float]] = {}
    for body in accepted:
        for labels, samples in decode_write_request(body):
            if labels["__name__"] == "kizashi_anomaly_score":
                seen = got.setdefault(labels["instance"], {})
                for t, v in samples:
                    assert seen.get(t, v) == v               # a copy, if any, is identical
                    seen[t] = v
    store = WatchStore(str(state))
    for row in store.all_series():
        points = store.points(row["id"])["sigma"]
        scored = np.isfinite(points["score"])
        want = dict(zip((points["t"][scored] * 1000).round().astype(int).tolist(),
                        points["score"][scored].tolist(), strict=True))
        assert len(want) > 10 and np.allclose(np.diff(points["t"]), 0.5)   # no gap
        assert got[row["labels"]["instance"]] == want     # every scored step, none invented


def test_check_reaches_the_receiver_with_an_empty_request(tmp_path, receiver):
    from kizashi.cli.watch import run_check

    csv = tmp_path / "m.csv"
    csv.write_text("timestamp,a\n1,1.0\n")
    text = f"""
listen: off
storage: "{tmp_path / 's.sqlite'}"
sources: {{lab: {{type: csv, path: "{csv}"}}}}
watches: [{{name: w}}]
remote_write: {{url: "{receiver.url}/write"}}
"""
    assert run_check(parse_config(text))
    method, path, _, body = receiver.requests[-1]
    assert (method, path) == ("POST", "/write") and decode_write_request(body) == []
    receiver.mode["status"] = 401
    assert not run_check(parse_config(text))


def test_steps_processed_again_are_not_queued_again(tmp_path):
    """A tick queued, then its commit failed (or the process died): the steps come again, with
    newer ones, in one block. Only the newer ones may be queued — a receiver refuses a whole
    request holding a step it already has."""
    from kizashi.watch.remote_write import RemoteWriteConfig, RemoteWriter

    path = str(tmp_path / "q.sqlite")

    def block(times):
        n = len(times)
        decision = type("D", (), {"level": np.arange(n, dtype=float)[:, None] + 1,
                                  "threshold": np.full((n, 1), 9.0),
                                  "active": np.zeros((n, 1), bool)})()
        return np.array(times, dtype=float), np.ones((n, 1), bool), decision

    config = RemoteWriteConfig(url="http://127.0.0.1:9/w", queue=path, send=("score",))
    writer = RemoteWriter(config)
    writer.add("w", "d", [{"i": "a"}], *block([10, 11]))
    writer.enqueue()
    writer.close()                              # the process dies before the tick commits
    again = RemoteWriter(config)                # restarted: the queue file remembers
    writer_times, observed, decision = block([10, 11, 12, 13])
    again.add("w", "d", [{"i": "a"}], writer_times, observed, decision)
    again.add("other", "d", [{"i": "a"}], writer_times, observed, decision)   # its own mark
    again.enqueue()
    bodies = []
    while (item := again.queue.oldest()) is not None:
        bodies.append(decode_write_request(item[2]))
        again.queue.remove(item[0])
    samples = [(labels["watch"], s) for body in bodies for labels, s in body]
    assert samples == [("w", [(10000, 1.0), (11000, 2.0)]),
                       ("w", [(12000, 3.0), (13000, 4.0)]),
                       ("other", [(10000, 1.0), (11000, 2.0), (12000, 3.0), (13000, 4.0)])]
    again.discard()
    again.add("w", "d", [{"i": "a"}], *block([12, 13]))   # a failed tick's leftovers
    again.discard()
    again.enqueue()
    assert again.queue.oldest() is None and again.queue.marks == {"w": 13000, "other": 13000}


def test_a_multivariate_model_writes_one_series_with_the_shared_labels():
    from kizashi.watch.remote_write import RemoteWriteConfig, RemoteWriter

    writer = RemoteWriter(RemoteWriteConfig(url="http://127.0.0.1:9/w"))
    labels = [{"__name__": name, "instance": "node1:9100", "job": "node"}
              for name in ("cpu", "mem", "io")]
    level = np.array([[np.nan] * 3, [2.0] * 3, [5.0] * 3])     # one score, repeated per input
    decision = type("D", (), {"level": level, "threshold": np.full((3, 3), 4.0),
                              "active": np.array([[False] * 3, [False] * 3, [True] * 3])})()
    observed = np.array([[True, True, True], [True, False, True], [True, True, True]])
    writer.add("node1", "ae", labels, np.array([1.0, 2.0, 3.0]), observed, decision,
               bands=None, multivariate=True)
    writer.enqueue()
    series = decode_write_request(writer.queue.oldest()[2])
    assert [(s[0]["__name__"], s[1]) for s in series] == [
        ("kizashi_anomaly_score", [(2000, 2.0), (3000, 5.0)]),
        ("kizashi_anomaly_threshold", [(2000, 4.0), (3000, 4.0)]),
        ("kizashi_anomaly_firing", [(2000, 0.0), (3000, 1.0)])]
    assert {frozenset(s[0].items()) for s in series} == {frozenset({
        "__name__": s[0]["__name__"], "instance": "node1:9100", "job": "node",
        "watch": "node1", "detector": "ae"}.items()) for s in series}
