"""Warnings ahead in the daemon (a watch's ``predict:``): a series filling at a known rate warns
before it reaches its limit with the ETA of the straight line, a steady one never does; the
probability is on /metrics; restarts and failed writes change nothing; bad blocks are refused.

Expectations come from the series' definition: ``fill`` rises 1 %/h from 5 % at ``T0``, so a
6 h horizon first sees the 100 % limit at ``T0 + 89 h`` and the line reaches it at ``T0 + 95 h``.
"""

from __future__ import annotations

import sqlite3

import pytest
from watch_servers import (
    Clock,
    FunctionSource,
    disk_predict_config,
    disk_predict_watcher,
    run_until,
)

from kizashi.prediction.predictor import DEFAULT_CUTOFF, RESOLVE_SECONDS
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




def make(path, clock: Clock) -> Watcher:
    return disk_predict_watcher(path, clock, value, ["fill", "flat"])


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
    # it starts once the line's ETA (95 h) is within the 6 h horizon: at 89 h, where the
    # forecast meets the limit exactly at the horizon, or a step or two later
    assert T0 + 89 * H <= alert["starts_at"] <= T0 + 89 * H + 2 * STEP
    notes = alert["annotations"]
    # the line meets 100 % exactly at a step: rounding may put the first step at or over it
    # there or one step later
    etas = (iso(T0 + 95 * H), iso(T0 + 95 * H + STEP))
    assert notes["kind"] == "warning" and notes["eta"] in etas
    assert (notes["limit"], notes["horizon"]) == ("100", "6h")
    assert DEFAULT_CUTOFF <= float(notes["probability"]) <= 1.0
    body = alertmanager_alert(alert, "", {}, now=clock.t, resend=60.0)
    assert body["labels"]["alertname"] == "KizashiWarning"
    assert body["labels"]["severity"] == "warning" and body["labels"]["detector"] == "predict"
    assert body["annotations"]["eta"] == notes["eta"]
    # /metrics: the probability of each series, the filling one over the cutoff
    snap = watcher.snapshot()
    table = snap["watches"]["disk"]["table"]
    probability = dict(zip([labels["instance"] for labels in table.labels],
                           snap["watches"]["disk"]["predictions"]["probability"], strict=True))
    assert probability["fill"] >= DEFAULT_CUTOFF and probability["flat"] < 0.01
    text = render_metrics(watcher.snapshot).decode()
    for name in ("fill", "flat"):
        line = (f'kizashi_predicted_anomaly_probability{{horizon="6h",instance="{name}",'
                f'watch="disk"}} ')
        (sample,) = [s for s in text.splitlines() if s.startswith(line)]
        assert float(sample[len(line):]) == pytest.approx(probability[name])
    # the series page's forecast: the line ahead over the horizon (5 % + 1 %/h), a narrow band
    client = TestClient(create_app(watcher.store.path, watcher.snapshot, interval=STEP))
    forecast = client.get(f"/api/series/{alert['series_id']}/forecast").json()
    last = watcher.snapshot()["watches"]["disk"]["last_t"]
    assert forecast["t"] == [last + STEP * k for k in range(1, 73)]
    assert forecast["forecast"] == pytest.approx([5.0 + (t - T0) / H for t in forecast["t"]],
                                                 abs=1e-6)
    assert all(lo <= f <= hi and hi - lo < 0.01 for lo, f, hi in zip(
        forecast["lower"], forecast["forecast"], forecast["upper"], strict=True))
    assert (forecast["kind"], forecast["limit"], forecast["warning"]) == ("time_to_limit", 100,
                                                                         True)
    assert forecast["eta"] in (T0 + 95 * H, T0 + 95 * H + STEP)
    assert client.get("/api/series/999/forecast").status_code == 404
    page = client.get(f"/series/{alert['series_id']}").text
    assert "/forecast" in page and "forecast-legend" in page
    assert "forecasts" not in client.get("/api/status").json()["watches"]["disk"]
    # cleaned up at DROP: the warning ends after RESOLVE_SECONDS under the cutoff
    run_until(watcher, clock, DROP + RESOLVE_SECONDS + H)
    (alert,) = warnings(watcher.store)
    assert alert["status"] == "resolved"
    assert DROP + RESOLVE_SECONDS - STEP <= alert["ends_at"] <= DROP + RESOLVE_SECONDS + H
    assert not any(a["labels"] == {"instance": "flat"} for a in watcher.store.alerts())
    # the dashboard and its API show the watch and its warning
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


CREEP = T0 + 60 * H        # "creep" starts to accelerate away from its level


def latency(name: str, t: float) -> float:
    """Two series without a limit: ``steady`` stays at 50 ± 0.5; ``creep`` too until CREEP,
    then rises by 0.5·(hours since)²."""
    noise = (round(t / STEP) * 7919 % 100) / 100.0 - 0.5
    if name == "creep" and t > CREEP:
        return 50.0 + noise + 0.5 * ((t - CREEP) / H) ** 2
    return 50.0 + noise


AHEAD = """
interval: 5m
listen: off
storage: "{storage}"
initial_backfill: 50h
max_backfill: 50h
sources: {{p: {{type: prometheus, url: "http://127.0.0.1:9"}}}}
watches:
  - name: lat
    query: latency_ms
    detectors: [{{detector: static_threshold, params: {{high: 1000000}}}}]
    predict: {{horizon: 6h}}
"""


@pytest.mark.slow
def test_a_series_without_a_limit_warns_as_it_leaves_its_normal_band(tmp_path):
    import numpy as np

    from kizashi.data.frame import SeriesFrame
    from kizashi.prediction.envelope import normal_envelope
    from kizashi.prediction.predictor import predict_frame

    clock = Clock(T0 + 50 * H)
    config = parse_config(AHEAD.format(storage=tmp_path / "s.sqlite"))
    watcher = Watcher(config, WatchStore(config.storage), clock=clock,
                      sources={"p": FunctionSource(latency, ["steady", "creep"])})
    watcher.tick()
    run_until(watcher, clock, T0 + 66 * H)
    (alert,) = warnings(watcher.store)
    assert alert["labels"] == {"instance": "creep"}
    notes = alert["annotations"]
    assert notes["kind"] == "warning" and notes["prediction"] == "anomaly_ahead"
    assert "normal band" in notes["summary"] and " to " in notes["band"] and "limit" not in notes
    body = alertmanager_alert(alert, "", {}, now=clock.t, resend=60.0)
    assert body["labels"]["alertname"] == "KizashiWarning"
    # the same series in kizashi predict (batch): the warning starts at the same step
    times = np.arange(T0, clock.t + 1, STEP)
    values = np.array([[latency(n, t) for n in ("steady", "creep")] for t in times])
    frame = SeriesFrame.from_arrays(times, values, ["steady", "creep"], ["latency_ms"] * 2)
    batch = predict_frame(frame, "6h")
    assert batch.kinds == ("envelope", "envelope") and not batch.warning[:, 0].any()
    first = times[np.argmax(batch.warning[:, 1])]
    assert alert["starts_at"] == first
    # only once the creep began, and while it is outside the band it is judged against
    # (this rise leaves its ±0.87 band within 1.25 h: too fast for a warning ahead of it)
    _, upper = normal_envelope(values)
    row = int(np.searchsorted(times, first))
    assert CREEP < first < CREEP + 6 * H and values[row, 1] > upper[row, 1]
    text = render_metrics(watcher.snapshot).decode()
    line = 'kizashi_predicted_anomaly_probability{horizon="6h",instance="creep",watch="lat"} '
    (sample,) = [s for s in text.splitlines() if s.startswith(line)]
    assert float(sample[len(line):]) >= 0.25


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
    ("predict: {anomaly_ahead: maybe}", "anomaly_ahead must be true or false"),
    ("predict: {warmup_trend: maybe}", "predict.warmup_trend must be true or false"),
    ("predict: {warmup_trend: 1}", "predict.warmup_trend must be true or false"),
    ("predict: {warmup_trnd: true}", "did you mean 'warmup_trend'"),
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
    assert (spec.horizon, spec.limit, spec.cutoff) == (6 * H, None, DEFAULT_CUTOFF)


def test_a_changed_predict_block_restarts_its_watch_on_reload():
    old = parse_config(disk_predict_config(":memory:"))
    new = parse_config(disk_predict_config(":memory:").replace("limit: 100", "limit: 95"))
    plan = plan_reload(old, new)
    assert plan.restart == ("disk",) and plan.changes == {"disk": ["predict changed"]}


def test_series_joining_and_leaving_leave_the_others_predictions_as_they_were():
    """Predictions per series are independent: series 2 predicted beside others that come and
    go is predicted exactly as when it is alone, and a series joining late as one missing until
    then (both kinds: a limit, and anomaly ahead)."""
    import numpy as np

    from kizashi.watch.predictions import WatchPredictions, parse_predict

    rng = np.random.default_rng(4)
    t = np.arange(0, 2.5 * 86400, STEP)
    values = 50 + np.cumsum(rng.normal(0, 0.3, (t.size, 3)), axis=0)
    for labels in ({"__name__": "fs_used_pct"}, {"__name__": "latency"}):
        spec = parse_predict({"horizon": "2h"}, "cfg")
        alone, mixed = WatchPredictions(spec, STEP), WatchPredictions(spec, STEP)
        cut = t.size // 2
        a = alone.update([2], [labels], t, values[:, [1]])
        mixed.update([1, 2], [labels, labels], t[:cut], values[:cut, :2])
        b = mixed.update([2, 3], [labels, labels], t[cut:], values[cut:, 1:])
        np.testing.assert_array_equal(b.probability[0], a.probability[0])
        np.testing.assert_array_equal(b.eta_seconds[0], a.eta_seconds[0])
        assert np.isfinite(a.probability[0])                     # learned: a real comparison
        # the newcomer is predicted as a series missing until it joined
        late = values[:, 2].copy()
        late[:cut] = np.nan
        c = WatchPredictions(spec, STEP).update([3], [labels], t, late[:, None])
        np.testing.assert_array_equal(b.probability[1], c.probability[0])
        kinds = mixed.snapshot([2, 3])["kind"]
        assert kinds == ["time_to_limit"] * 2 if labels["__name__"].endswith("_pct") \
            else kinds == ["anomaly_ahead"] * 2
