"""A new watch's disk filling in its first hours (``predict: {warmup_trend: true}``, the
default): a ``warning`` alert with the ETA of its trend line, marked as such, long before the
forecasters have learnt; with ``warmup_trend: false`` nothing is said until the disk is full;
bad keys are refused.

Expectations from the series' definition: ``fill`` rises 12 %/h from 20 % at ``T0``, so it is
full at ``T0 + 6 h 40 min``; its line, 6 h ahead, reaches 100 % from the start, so it warns as
soon as it has 2 h of rows (the watch starts at ``T0 + 1 h`` with 1 h of backfill), with the
ETA ``T0 + 24 000 s``. ``flat`` sits at 50 % and never warns.
"""

from __future__ import annotations

import pytest
from watch_servers import Clock, FunctionSource, disk_predict_config, run_until

from kizashi.watch.alerts import alertmanager_alert, iso, webhook_payload
from kizashi.watch.config import parse_config
from kizashi.watch.exporter import render_metrics
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

H = 3600.0
STEP = 300.0
T0 = 1_800_000_000.0
FULL = T0 + 24_000.0


def value(name: str, t: float) -> float:
    if name == "fill":
        return min(20.0 + 12.0 * (t - T0) / H, 100.0)
    return 50.0 + (round(t / STEP) * 7919 % 100) / 100.0


def make(path: str, clock: Clock, trend: bool | None) -> Watcher:
    """The disk watch with ``warmup_trend`` as given (None: the key left out, the default)."""
    text = disk_predict_config(path, backfill="1h")
    if trend is not None:
        text = text.replace("limit: 100}", f"limit: 100, warmup_trend: {str(trend).lower()}}}")
    trend = True if trend is None else trend
    config = parse_config(text)
    assert config.watches[0].predict.warmup_trend is trend
    return Watcher(config, WatchStore(config.storage), clock=clock,
                   sources={"p": FunctionSource(value, ["fill", "flat"])})


def warnings(store: WatchStore) -> list[dict]:
    return [a for a in store.alerts() if a["detector"] == "predict"]


@pytest.mark.parametrize("trend", [True, None])
def test_a_disk_filling_in_a_new_watch_warns_from_its_trend_line(tmp_path, trend):
    clock = Clock(T0 + H)
    watcher = make(str(tmp_path / "s.sqlite"), clock, trend=trend)
    run_until(watcher, clock, T0 + 2 * H - STEP)
    assert warnings(watcher.store) == []             # under 2 h of rows: no line yet
    run_until(watcher, clock, T0 + 2.5 * H)
    (alert,) = warnings(watcher.store)
    assert alert["labels"] == {"instance": "fill"} and alert["status"] == "firing"
    assert T0 + 2 * H - STEP <= alert["starts_at"] <= T0 + 2 * H + STEP
    notes = alert["annotations"]
    assert notes["kind"] == "warning" and notes["basis"] == "warmup_trend"
    assert notes["prediction"] == "time_to_limit" and notes["limit"] == "100"
    assert notes["eta"] == iso(FULL) and notes["probability"] == ""
    assert "warm-up trend" in notes["summary"] and "no probability" in notes["note"]
    assert alert["score"] is None                     # no probability to store
    # /metrics: no probability while learning, for either series
    text = render_metrics(watcher.snapshot).decode()
    assert not [s for s in text.splitlines()
                if s.startswith("kizashi_predicted_anomaly_probability{")]
    snap = watcher.snapshot()["watches"]["disk"]["predictions"]
    assert sorted(snap["warning"]) == [False, True]
    assert all(p is None for p in snap["probability"])
    eta = [e for e, w in zip(snap["eta"], snap["warning"], strict=True) if w]
    assert eta == [FULL]
    # Alertmanager and the webhook carry the same annotations
    body = alertmanager_alert(alert, "", {}, now=clock.t, resend=60.0)
    assert body["labels"]["alertname"] == "KizashiWarning"
    assert body["annotations"]["basis"] == "warmup_trend" and body["annotations"]["eta"] == \
        iso(FULL)
    assert webhook_payload(alert, "firing", "", {})["annotations"] == notes


def test_the_dashboard_shows_the_trend_warning_without_a_probability(tmp_path):
    pytest.importorskip("fastapi", reason="the dashboard needs the web extras")
    from fastapi.testclient import TestClient

    from kizashi.watch.web import create_app

    clock = Clock(T0 + H)
    watcher = make(str(tmp_path / "s.sqlite"), clock, trend=True)
    run_until(watcher, clock, T0 + 2.5 * H)
    (alert,) = warnings(watcher.store)
    client = TestClient(create_app(watcher.store.path, watcher.snapshot, interval=STEP))
    forecast = client.get(f"/api/series/{alert['series_id']}/forecast").json()
    assert (forecast["warning"], forecast["probability"], forecast["eta"]) == (True, None, FULL)
    for page in ("/", "/alerts", f"/series/{alert['series_id']}"):
        assert client.get(page).status_code == 200, page


def test_with_the_line_off_the_same_disk_is_not_warned_while_learning(tmp_path):
    clock = Clock(T0 + H)
    watcher = make(str(tmp_path / "s.sqlite"), clock, trend=False)
    run_until(watcher, clock, T0 + 6 * H)
    assert warnings(watcher.store) == []            # learning, and not yet at the limit
    snap = watcher.snapshot()["watches"]["disk"]["predictions"]
    assert snap["warning"] == [False, False] and snap["probability"] == [None, None]


def test_a_restart_goes_on_with_the_same_warning(tmp_path):
    """The line's state is stored with the tick: a watcher restarted from the state file
    keeps the one warning firing (not a second one) and says what an unbroken one says."""
    path = str(tmp_path / "s.sqlite")
    clock = Clock(T0 + H)
    first = make(path, clock, trend=True)
    run_until(first, clock, T0 + 2.5 * H)
    (before,) = warnings(first.store)
    first.store.close()
    again = make(path, clock, trend=True)
    run_until(again, clock, T0 + 3 * H)
    other_clock = Clock(T0 + H)
    unbroken = make(str(tmp_path / "u.sqlite"), other_clock, trend=True)
    run_until(unbroken, other_clock, T0 + 3 * H)
    (after,) = warnings(again.store)
    assert after["id"] == before["id"] and after["status"] == "firing"
    assert again.snapshot()["watches"]["disk"]["predictions"] == \
        unbroken.snapshot()["watches"]["disk"]["predictions"]


def test_series_joining_and_leaving_leave_the_others_trend_lines_as_they_were():
    """Series 2's line beside series that come and go is its line alone; a series joining
    late starts its 2 h of history when it joins."""
    import numpy as np

    from kizashi.watch.predictions import WatchPredictions, parse_predict

    t = T0 + np.arange(0, 6 * H, STEP)
    rise = 20 + 12 * (t - T0) / H
    values = np.column_stack([rise, rise + 5, rise - 5])
    labels = [{"__name__": "fs_used_pct"}] * 2
    spec = parse_predict({"horizon": "6h", "warmup_trend": True}, "cfg")
    alone, mixed = WatchPredictions(spec, STEP), WatchPredictions(spec, STEP)
    cut = int(2.5 * H / STEP)
    a = alone.update([2], labels[:1], t, values[:, [1]])
    mixed.update([1, 2], labels, t[:cut], values[:cut, :2])
    b = mixed.update([2, 3], labels, t[cut:], values[cut:, 1:])
    assert a.warning[0] and b.warning[0]
    np.testing.assert_array_equal(b.eta_seconds[0], a.eta_seconds[0])
    assert mixed.predictor.trend_warning().tolist() == [True, True]  # 6 h: both lines warn
    # a newcomer joining at 2.5 h has its line 2 h later (its rows: 2.5 h to 4.5 h)
    two_hours = int(2 * H / STEP)
    joined = WatchPredictions(spec, STEP)
    joined.update([1], labels[:1], t[:cut], values[:cut, [0]])
    got = joined.update([1, 3], labels, t[cut:cut + two_hours],
                        values[cut:cut + two_hours][:, [0, 2]])
    assert got.warning.tolist() == [True, False]
    got = joined.update([1, 3], labels, t[cut + two_hours:cut + two_hours + 1],
                        values[cut + two_hours:cut + two_hours + 1][:, [0, 2]])
    assert got.warning.tolist() == [True, True]


def test_turning_the_line_off_restarts_the_watch_on_reload():
    from kizashi.watch.reload import plan_reload

    old = parse_config(disk_predict_config(":memory:"))
    new = parse_config(disk_predict_config(":memory:").replace(
        "limit: 100}", "limit: 100, warmup_trend: false}"))
    plan = plan_reload(old, new)
    assert plan.restart == ("disk",) and plan.changes == {"disk": ["predict changed"]}
