"""Warnings ahead in the daemon (a watch's ``predict:``): a series filling at a known rate warns
before it reaches its limit with the ETA of the straight line, a steady one never does; the
probability is on /metrics; restarts and failed writes change nothing; bad blocks are refused.

Expectations come from the series' definition: ``fill`` rises 1 %/h from 5 % at ``T0``, so a
6 h horizon first sees the 100 % limit at ``T0 + 89 h`` and the line reaches it at ``T0 + 95 h``.
"""

from __future__ import annotations

import sqlite3

import pytest
from watch_servers import FunctionSource

from kizashi.prediction.predictor import RESOLVE_SECONDS
from kizashi.watch.alerts import alertmanager_alert, iso
from kizashi.watch.config import parse_config
from kizashi.watch.exporter import render_metrics
from kizashi.watch.reload import plan_reload
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

H = 3600.0
STEP = 300.0
T0 = 1_800_000_000.0
DROP = T0 + 92 * H          # the filling area is cleaned up (97 % → 5 %)


def value(name: str, t: float) -> float:
    if name == "fill":
        return 5.0 + (t - T0) / H if t < DROP else 5.0
    return 50.0 + (round(t / STEP) * 7919 % 100) / 100.0       # steady, a little noise


CONFIG = """
interval: 5m
listen: off
storage: "{storage}"
initial_backfill: 86h
max_backfill: 86h
sources: {{p: {{type: prometheus, url: "http://127.0.0.1:9"}}}}
watches:
  - name: disk
    query: fs_used_pct
    detectors: [{{detector: static_threshold, params: {{high: 1000}}}}]
    predict: {{horizon: 6h, limit: 100}}
"""


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def make(path, clock: Clock) -> Watcher:
    config = parse_config(CONFIG.format(storage=path))
    return Watcher(config, WatchStore(config.storage), clock=clock,
                   sources={"p": FunctionSource(value, ["fill", "flat"])})


def run_until(watcher: Watcher, clock: Clock, until: float) -> None:
    while clock.t < until - 1e-6:
        clock.t += STEP
        watcher.tick()


def warnings(store: WatchStore) -> list[dict]:
    return [a for a in store.alerts() if a["detector"] == "predict"]


@pytest.mark.slow
def test_a_filling_series_warns_ahead_with_the_eta_of_its_line(tmp_path):
    pytest.importorskip("fastapi", reason="the dashboard needs the web extras")
    from fastapi.testclient import TestClient

    from kizashi.watch.web import create_app

    clock = Clock(T0 + 86 * H)
    watcher = make(str(tmp_path / "s.sqlite"), clock)
    watcher.tick()                                    # 86 h of backfill: the predictor learns
    assert warnings(watcher.store) == []
    run_until(watcher, clock, T0 + 90 * H)
    (alert,) = warnings(watcher.store)
    assert alert["labels"] == {"instance": "fill"} and alert["status"] == "firing"
    assert T0 + 89 * H < alert["starts_at"] <= T0 + 89 * H + 2 * STEP
    notes = alert["annotations"]
    assert notes["kind"] == "warning" and notes["eta"] == iso(T0 + 95 * H)
    assert (notes["limit"], notes["horizon"]) == ("100", "6h")
    assert 0.25 <= float(notes["probability"]) <= 1.0
    body = alertmanager_alert(alert, "", {}, now=clock.t, resend=60.0)
    assert body["labels"]["alertname"] == "KizashiWarning"
    assert body["labels"]["severity"] == "warning" and body["labels"]["detector"] == "predict"
    assert body["annotations"]["eta"] == iso(T0 + 95 * H)
    # /metrics: the probability of each series, the filling one over the cutoff
    snap = watcher.snapshot()
    table = snap["watches"]["disk"]["table"]
    probability = dict(zip([labels["instance"] for labels in table.labels],
                           snap["watches"]["disk"]["predictions"]["probability"], strict=True))
    assert probability["fill"] >= 0.25 and probability["flat"] < 0.01
    text = render_metrics(watcher.snapshot).decode()
    for name in ("fill", "flat"):
        line = (f'kizashi_predicted_anomaly_probability{{horizon="6h",instance="{name}",'
                f'watch="disk"}} ')
        (sample,) = [s for s in text.splitlines() if s.startswith(line)]
        assert float(sample[len(line):]) == pytest.approx(probability[name])
    # cleaned up at DROP: the warning ends after RESOLVE_SECONDS under the cutoff
    run_until(watcher, clock, DROP + RESOLVE_SECONDS + H)
    (alert,) = warnings(watcher.store)
    assert alert["status"] == "resolved"
    assert DROP + RESOLVE_SECONDS - STEP <= alert["ends_at"] <= DROP + RESOLVE_SECONDS + H
    assert not any(a["labels"] == {"instance": "flat"} for a in watcher.store.alerts())
    # the dashboard and its API show the watch and its warning
    client = TestClient(create_app(watcher.store.path, watcher.snapshot, interval=STEP))
    status = client.get("/api/status").json()["watches"]["disk"]["predictions"]
    assert status["horizon"] == "6h" and len(status["probability"]) == 2
    assert [a["detector"] for a in client.get("/api/alerts").json()].count("predict") == 1
    for page in ("/", "/alerts", f"/series/{alert['series_id']}"):
        assert client.get(page).status_code == 200, page


@pytest.mark.slow
def test_a_restart_and_a_failed_write_predict_as_one_unbroken_run(tmp_path):
    clock = Clock(T0 + 86 * H)
    unbroken = make(str(tmp_path / "a.sqlite"), clock)
    unbroken.tick()
    run_until(unbroken, clock, T0 + 90 * H)
    want = unbroken.snapshot()["watches"]["disk"]["predictions"]

    clock = Clock(T0 + 86 * H)
    path = str(tmp_path / "b.sqlite")
    watcher = make(path, clock)
    watcher.tick()
    run_until(watcher, clock, T0 + 88 * H)
    watcher.store.close()
    watcher = make(path, clock)                       # a restart
    save_tree, failed = watcher.store.save_tree, []

    def failing_once(watch, detector, tree, previous=None):
        if detector == "predict" and not failed:
            failed.append(clock.t)
            raise sqlite3.OperationalError("database or disk is full")
        return save_tree(watch, detector, tree, previous)

    watcher.store.save_tree = failing_once
    run_until(watcher, clock, T0 + 90 * H)
    assert failed and watcher.health.persist_errors == 1
    got = watcher.snapshot()["watches"]["disk"]["predictions"]
    assert got == want

    def summary(store: WatchStore) -> list:
        return [(a["labels"], a["starts_at"], a["annotations"]) for a in warnings(store)]

    assert summary(watcher.store) == summary(unbroken.store) != []


BAD = [
    ("predict: 6h", "must be a mapping"),
    ("predict: {horizon: 6h, limt: 90}", "unknown key(s) limt"),
    ("predict: {horizon: 2d}", "at most 1d"),
    ("predict: {horizon: 0s}", "must be positive"),
    ("predict: {horizon: soon}", "predict.horizon"),
    ("predict: {horizon: 1m}", "shorter than the interval"),
    ("predict: {limit: high}", "predict.limit must be a number"),
    ("predict: {limit: .nan}", "finite"),
    ("predict: {limit: true}", "must be a number"),
    ("predict: {cutoff: 1.5}", "probability in (0, 1)"),
    ("predict: {cutoff: 0}", "probability in (0, 1)"),
]


@pytest.mark.parametrize("block, message", BAD)
def test_bad_predict_blocks_are_one_line_errors_naming_the_key(block, message):
    text = f"""
interval: 5m
sources: {{p: {{type: prometheus, url: "http://127.0.0.1:9"}}}}
watches:
  - name: disk
    query: fs_used_pct
    {block}
"""
    with pytest.raises(ValueError, match=r"watches\[disk\]") as error:
        parse_config(text)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_fine_interval_with_a_long_history_and_a_clashing_name_are_refused():
    base = """
interval: {interval}
sources: {{p: {{type: prometheus, url: "http://127.0.0.1:9"}}}}
watches:
  - name: disk
    query: fs_used_pct
    detectors: [{{name: {name}, detector: threshold}}]
    predict: {{horizon: 6h}}
"""
    with pytest.raises(ValueError, match="steps of history per series"):
        parse_config(base.format(interval="1s", name="sigma"))
    with pytest.raises(ValueError, match="clashes with the warnings"):
        parse_config(base.format(interval="5m", name="predict"))
    spec = parse_config(base.format(interval="5m", name="sigma")).watches[0].predict
    assert (spec.horizon, spec.limit, spec.cutoff) == (6 * H, None, 0.25)


def test_a_changed_predict_block_restarts_its_watch_on_reload():
    old = parse_config(CONFIG.format(storage=":memory:"))
    new = parse_config(CONFIG.format(storage=":memory:").replace("limit: 100", "limit: 95"))
    plan = plan_reload(old, new)
    assert plan.restart == ("disk",) and plan.changes == {"disk": ["predict changed"]}
