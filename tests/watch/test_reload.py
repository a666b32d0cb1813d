"""Reloading the config: the plan (which watches start, stop, restart or stay) for every kind of
change, its application to a running watcher, and SIGHUP to a real ``kizashi watch`` process."""

from __future__ import annotations

import json
import logging
import math
import signal
import time

import numpy as np
import pytest
from watch_servers import (
    Clock,
    FakeHttp,
    FunctionSource,
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
from kizashi.state import copy_state
from kizashi.watch.config import parse_config
from kizashi.watch.reload import plan_reload, reload_watcher
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

BASE = """
interval: 1s
listen: off
storage: ":memory:"
sources:
  p: {type: prometheus, url: "http://127.0.0.1:9"}
  q: {type: prometheus, url: "http://127.0.0.1:10"}
watches:
  - name: a
    query: qa
    detectors: [{name: s, detector: threshold, params: {window: 20, min_periods: 5}}]
  - name: b
    query: qb
    detectors:
      - {name: s, detector: threshold, params: {window: 20, min_periods: 5}}
      - {name: hi, detector: static_threshold, params: {high: 0.5}, min_duration: 1s}
  - name: c
    query: qc
    detectors: [{name: hi, detector: static_threshold, params: {high: 0.5}, min_duration: 1s}]
"""

#: (edit of BASE, watch b's fate, the change named)
WATCH_EDITS = [
    (("query: qb", "query: qb2"), "query changed"),
    (("    query: qb\n", "    query: qb\n    source: q\n"), "source changed"),
    (("name: s, detector: threshold, params: {window: 20, min_periods: 5}}\n      - {name: hi",
      "name: s, detector: threshold, params: {window: 30, min_periods: 5}}\n      - {name: hi"),
     "detector s changed (its learned state restarts)"),
    (("params: {high: 0.5}, min_duration: 1s}\n  - name: c",
      "params: {high: 0.5}, min_duration: 3s}\n  - name: c"),
     "detector hi's decision rule changed"),
    (("params: {high: 0.5}, min_duration: 1s}\n  - name: c",
      "params: {high: 0.5}, min_duration: 1s, cutoff: 2.0}\n  - name: c"),
     "detector hi's decision rule changed"),
    (("      - {name: hi, detector: static_threshold, params: {high: 0.5}, min_duration: 1s}\n"
      "  - name: c", "  - name: c"), "detector hi removed"),
    (("    detectors:\n      - {name: s,",
      "    detectors:\n      - {name: z, detector: threshold}\n      - {name: s,"),
     "detector z added"),
]


def edited(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.mark.parametrize("edit, change", WATCH_EDITS)
def test_a_changed_watch_restarts_naming_the_change_and_the_others_stay(edit, change):
    plan = plan_reload(parse_config(BASE), parse_config(edited(*edit)))
    assert plan.restart == ("b",) and plan.changes == {"b": [change]}
    assert plan.keep == ("a", "c") and plan.start == () and plan.stop == ()
    assert not plan.alerts_changed and not plan.remote_write_changed and plan.ignored == ()


def test_added_and_removed_watches_start_and_stop():
    new = BASE.split("  - name: c")[0] + "  - {name: d, query: qd}\n"
    plan = plan_reload(parse_config(BASE), parse_config(new))
    assert (plan.start, plan.stop, plan.restart, plan.keep) == (("d",), ("c",), (), ("a", "b"))
    assert plan.summary() == "started d; stopped c; 2 kept as they were"


def test_renaming_a_watch_is_a_stop_and_a_start():
    plan = plan_reload(parse_config(BASE), parse_config(edited("name: a\n", "name: a2\n")))
    assert (plan.start, plan.stop, plan.keep) == (("a2",), ("a",), ("b", "c"))


def test_reordering_watches_changes_nothing():
    parts = BASE.split("  - name: ")
    reordered = parts[0] + "  - name: " + "  - name: ".join(reversed(parts[1:]))
    plan = plan_reload(parse_config(BASE), parse_config(reordered.rstrip("\n") + "\n"))
    assert plan.restart == () and set(plan.keep) == {"a", "b", "c"}


def test_a_new_interval_restarts_every_watch():
    plan = plan_reload(parse_config(BASE), parse_config(edited("interval: 1s", "interval: 2s")))
    assert plan.restart == ("a", "b", "c") and plan.keep == ()
    assert plan.changes["a"] == ["interval changed from 1 s to 2 s"]


@pytest.mark.parametrize("edit, field, value", [
    (('url: "http://127.0.0.1:9"', 'url: "http://127.0.0.1:11"'), "sources", ("p",)),
    (('url: "http://127.0.0.1:9"}', 'url: "http://127.0.0.1:9", bearer_token: t}'), "sources",
     ("p",)),
    (("watches:", "alerts: {webhook: {url: 'http://127.0.0.1:12/h'}}\nwatches:"),
     "alerts_changed", True),
    (("watches:", "remote_write: {url: 'http://127.0.0.1:12/w'}\nwatches:"),
     "remote_write_changed", True),
    (('storage: ":memory:"', 'storage: "/tmp/other.sqlite"'), "ignored", ("storage",)),
    (("listen: off", "listen: 127.0.0.1:9999"), "ignored", ("listen",)),
    (("listen: off", "listen: off\ntoken: abc"), "ignored", ("token",)),
    (("listen: off", "listen: off\nlog_format: json"), "ignored", ("log_format",)),
    (("listen: off", "listen: off\nshard: 1/4"), "ignored", ("shard",)),
    (("listen: off", "listen: off\nmetrics_series: 10"), "ignored", ()),
])
def test_other_changes_keep_every_watch(edit, field, value):
    plan = plan_reload(parse_config(BASE), parse_config(edited(*edit)))
    assert plan.keep == ("a", "b", "c") and plan.restart == plan.start == plan.stop == ()
    assert getattr(plan, field) == value


def test_an_identical_config_keeps_everything():
    plan = plan_reload(parse_config(BASE), parse_config(BASE))
    assert plan == type(plan)(start=(), stop=(), restart=(), keep=("a", "b", "c"))


# --------------------------------------------------------------- applied to a watcher
def level(name: str, t: float) -> float:
    return 10.0 + ((round(t) * 7919 + ord(name[-1]) * 104729) % 1000) / 1000.0


def running(tmp_path, text: str = BASE) -> tuple[Watcher, Clock]:
    text = text.replace('storage: ":memory:"', f'storage: "{tmp_path / "s.sqlite"}"')
    config = parse_config(text)
    clock = Clock(1_800_000_000.0)
    source = FunctionSource(level, ["x", "y"])
    watcher = Watcher(config, WatchStore(config.storage), clock=clock,
                      sources={"p": source, "q": source})
    for _ in range(10):
        watcher.tick()
        clock.t += 1
    return watcher, clock


def test_apply_keeps_unchanged_watches_exactly_and_restarts_changed_detectors(tmp_path, caplog):
    new_text = edited("window: 20, min_periods: 5}}\n      - {name: hi",
                      "window: 30, min_periods: 5}}\n      - {name: hi")
    new_text = new_text.split("  - name: c")[0] + "  - {name: d, query: qd}\n"
    watcher, clock = running(tmp_path)
    a_run = watcher.runs[0]
    a_state = copy_state(a_run.detectors[0].detector.state_)
    b_hi_state = copy_state(watcher.runs[1].detectors[1].decider.state_)
    c_alerts = [x for x in watcher.store.alerts(status="firing") if x["watch"] == "c"]
    assert len(c_alerts) == 2                               # c's two series fire from the start
    caplog.set_level(logging.INFO, "kizashi.watch")
    plan = reload_watcher(watcher, lambda: parse_config(new_text.replace(
        'storage: ":memory:"', f'storage: "{tmp_path / "s.sqlite"}"')))
    assert plan is not None
    assert plan.summary() == "started d; stopped c; restarted b; 1 kept as they were"
    assert [r.spec.name for r in watcher.runs] == ["a", "b", "d"]
    assert watcher.runs[0] is a_run                          # a: the same run, untouched
    assert _equal(a_run.detectors[0].detector.state_, a_state)
    b = watcher.runs[1]
    assert b.detectors[0].detector.window == 30
    # b's changed detector starts afresh, its unchanged one keeps its learned state
    assert b.detectors[0].detector.state_["window"]["count"].tolist() == [0, 0]
    assert _equal(b.detectors[1].decider.state_, b_hi_state)
    assert "reload: watch b restarts: detector s changed (its learned state restarts)" in \
        caplog.text
    # c stopped: its incidents resolved (and the message queued), its series inactive
    for alert in c_alerts:
        row = watcher.store.alert(alert["id"])
        assert row["status"] == "resolved" and row["ends_at"] == clock.t - 1
    # every watch goes on ticking; a's scores are those of one unbroken run
    for _ in range(5):
        watcher.tick()
        clock.t += 1
    assert watcher.snapshot()["watches"].keys() == {"a", "b", "d"}
    times = 1_800_000_000.0 + np.arange(15)
    detector = create("threshold", window=20, min_periods=5)
    stream = DetectorStream(detector, Decider.for_detector(detector), block=1)
    expected = stream.process(np.array([[level(n, t) for n in "xy"] for t in times]), times)
    for j in range(2):
        stored = watcher.store.points(a_run.columns[j])["s"]
        assert np.array_equal(stored["t"], times)
        assert np.array_equal(stored["score"], expected.decision.level[:, j], equal_nan=True)


def test_a_config_that_does_not_load_changes_nothing(tmp_path, caplog):
    watcher, _ = running(tmp_path)
    config, runs, sources = watcher.config, list(watcher.runs), dict(watcher.sources)

    def broken():
        return parse_config(BASE.replace("window: 20", "window: -3"), "new.yaml")

    caplog.set_level(logging.ERROR, "kizashi.watch")
    assert reload_watcher(watcher, broken) is None
    assert watcher.config is config and watcher.runs == runs and watcher.sources == sources
    assert "reload refused, still running the previous config: new.yaml:" in caplog.text


def test_a_watch_whose_model_cannot_load_refuses_the_whole_reload(tmp_path, caplog):
    watcher, _ = running(tmp_path)
    config, runs = watcher.config, list(watcher.runs)
    new = parse_config(BASE.replace('storage: ":memory:"', f'storage: "{tmp_path / "s.sqlite"}"')
                       + "  - {name: e, query: qe}\n")

    def load_fails(spec):
        raise ValueError(f"model for {spec.name} vanished")

    watcher._load = load_fails
    caplog.set_level(logging.ERROR, "kizashi.watch")
    assert reload_watcher(watcher, lambda: new) is None
    assert watcher.config is config and watcher.runs == runs
    assert "model for e vanished" in caplog.text


def _equal(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


# ------------------------------------------------------------------ a real process
STEP = 0.5
PROCESS_CONFIG = """
interval: 500ms
storage: "{state}"
listen: "127.0.0.1:{port}"
sources:
  prometheus: {{type: prometheus, url: "{prom}", timeout: 1s, retries: 0}}
watches:
{watches}
"""
WATCH_A = ("  - {name: a, query: qa, detectors: [{name: s, detector: threshold,\n"
           "      params: {window: 20, k: 3.5, min_periods: 5}}]}\n")
WATCH_B = ("  - {{name: b, query: qb, detectors: [{{name: s, detector: threshold,\n"
           "      params: {{window: 20, k: {k}, min_periods: 5}}}}]}}\n")
WATCH_C = "  - {name: c, query: qc}\n"
WATCH_D = "  - {name: d, query: qd}\n"


def value(name: str, t: float) -> float:
    return 10.0 + ((round(t / STEP) * 7919 + ord(name) * 104729) % 1000) / 1000.0


@pytest.mark.slow
def test_sighup_reloads_a_running_daemon(tmp_path):
    prom = FakeHttp(prometheus_handler(value, ["x"]))
    port = free_port()
    state = tmp_path / "state.sqlite"

    def write(watches: str) -> None:
        write_config(tmp_path / "watch.yaml", PROCESS_CONFIG.format(
            state=state, port=port, prom=prom.url, watches=watches))

    def watches() -> dict:
        return json.loads(http_get(f"http://127.0.0.1:{port}/api/status"))["watches"]

    write(WATCH_A + WATCH_B.format(k=3.5) + WATCH_C)
    daemon = kizashi_watch([str(tmp_path / "watch.yaml")], tmp_path / "daemon.log")
    try:
        wait_for(lambda: set(watches()) == {"a", "b", "c"} and all(
            w["series"] for w in watches().values()), 30, "three watches with series")
        time.sleep(2.0)
        write(WATCH_A + WATCH_B.format(k=6.0) + WATCH_D)    # b changed, c gone, d new
        daemon.popen.send_signal(signal.SIGHUP)
        wait_for(lambda: set(watches()) == {"a", "b", "d"} and watches()["d"]["series"], 15,
                 "the reloaded watches")
        wait_for(lambda: watches()["b"]["series"][0]["detectors"]["s"]["threshold"] == 6.0, 15,
                 "b's new cutoff")
        time.sleep(1.5)
        (tmp_path / "watch.yaml").write_text("watches: [{name: broken")   # not YAML
        daemon.popen.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload refused" in daemon.output(), 10, "the refusal in the log")
        time.sleep(1.0)
        assert set(watches()) == {"a", "b", "d"} and daemon.alive()
    finally:
        code = daemon.stop()
        prom.close()
    output = daemon.output()
    assert code == 0, output
    assert "Traceback" not in output, output
    assert "reload: watch b restarts: detector s changed (its learned state restarts)" in output
    assert "reloaded " in output and "started d; stopped c; restarted b; 1 kept" in output
    assert "reload refused, still running the previous config" in output
    # a ran through both reloads with the scores of one unbroken run (its state kept exactly)
    store = WatchStore(str(state))
    series = {s["watch"]: s["id"] for s in store.all_series()}
    points = store.points(series["a"])["s"]
    t = points["t"]
    assert np.allclose(np.diff(t), STEP) and t[-1] - t[0] > 4.0
    detector = create("threshold", window=20, k=3.5, min_periods=5)
    stream = DetectorStream(detector, Decider.for_detector(detector), block=1)
    expected = stream.process(np.array([[value("x", ti)] for ti in t]), t)
    assert np.array_equal(points["score"], expected.decision.level[:, 0], equal_nan=True)
    # b's points before the reload have the old cutoff, after it the new one
    thresholds = store.points(series["b"])["s"]["threshold"]
    assert thresholds[0] == 3.5 and thresholds[-1] == 6.0
    assert set(np.unique(thresholds[np.isfinite(thresholds)])) == {3.5, 6.0}


@pytest.mark.parametrize("edit, detector, threshold", [
    (("window: 20, min_periods: 5}}\n      - {name: hi",
      "window: 20, min_periods: 5, k: 7.5}}\n      - {name: hi"), 0, 7.5),
    (("params: {high: 0.5}, min_duration: 1s}\n  - name: c",
      "params: {high: 0.5}, min_duration: 1s, cutoff: 2.5}\n  - name: c"), 1, 2.5),
])
def test_a_restarted_detector_takes_the_new_cutoff_not_the_saved_one(tmp_path, edit, detector,
                                                                     threshold):
    watcher, _ = running(tmp_path)
    before = watcher.runs[1].detectors[detector].thresholds
    assert np.all(before != threshold)
    storage = f'storage: "{tmp_path / "s.sqlite"}"'
    assert reload_watcher(watcher, lambda: parse_config(
        edited(*edit).replace('storage: ":memory:"', storage))) is not None
    assert watcher.runs[1].detectors[detector].thresholds.tolist() == [threshold] * 2
    watcher.tick()
    series = watcher.runs[1].columns[0]
    name = watcher.runs[1].detectors[detector].spec.name
    assert watcher.store.points(series)[name]["threshold"][-1] == threshold


def test_a_reload_adds_sinks_and_new_sources_without_touching_the_watches(tmp_path):
    from kizashi.watch.prompb import decode_write_request

    receiver = FakeHttp(lambda method, path, query, body: (204, b""))
    try:
        watcher, _ = running(tmp_path)
        runs = list(watcher.runs)
        storage = f'storage: "{tmp_path / "s.sqlite"}"'
        new = edited("watches:", f"remote_write: {{url: '{receiver.url}/w'}}\n"
                     f"alerts: {{webhook: {{url: '{receiver.url}/hook'}}}}\nwatches:")
        new = new.replace('q: {type: prometheus, url: "http://127.0.0.1:10"}',
                          'q: {type: prometheus, url: "http://127.0.0.1:10"}\n'
                          '  r: {type: prometheus, url: "http://127.0.0.1:13"}')
        plan = reload_watcher(watcher, lambda: parse_config(new.replace(
            'storage: ":memory:"', storage)))
        assert plan is not None and plan.sources == ("r",)
        assert plan.alerts_changed and plan.remote_write_changed
        assert watcher.runs == runs and all(a is b for a, b in zip(watcher.runs, runs,
                                                                   strict=True))
        assert set(watcher.sources) == {"p", "q", "r"}
        assert watcher.notifier.sinks == ["webhook"]
        assert watcher.snapshot()["health"]["source_up"] == {"p": True, "q": True, "r": True}
        watcher.tick()
        written = [labels["watch"] for _, path, _, body in receiver.requests if path == "/w"
                   for labels, _ in decode_write_request(body)]
        assert set(written) == {"a", "b", "c"}
    finally:
        receiver.close()
