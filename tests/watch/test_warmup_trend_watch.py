"""A new watch's disk filling in its first hours (``predict: {warmup_trend: true}``): a
``warning`` alert with the ETA of its trend line, marked as such, long before the forecasters
have learnt; without the key nothing is said until the disk is full; bad keys are refused.

Expectations from the series' definition: ``fill`` rises 12 %/h from 20 % at ``T0``, so it is
full at ``T0 + 6 h 40 min``; its line, 6 h ahead, reaches 100 % from the start, so it warns as
soon as it has 2 h of rows (the watch starts at ``T0 + 1 h`` with 1 h of backfill), with the
ETA ``T0 + 24 000 s``. ``flat`` sits at 50 % and never warns.
"""

from __future__ import annotations

import pytest
from watch_servers import Clock, FunctionSource, disk_predict_config, run_until

from kizashi.watch.alerts import iso
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


def make(path: str, clock: Clock, trend: bool) -> Watcher:
    text = disk_predict_config(path, backfill="1h")
    if trend:
        text = text.replace("limit: 100}", "limit: 100, warmup_trend: true}")
    config = parse_config(text)
    assert config.watches[0].predict.warmup_trend is trend
    return Watcher(config, WatchStore(config.storage), clock=clock,
                   sources={"p": FunctionSource(value, ["fill", "flat"])})


def warnings(store: WatchStore) -> list[dict]:
    return [a for a in store.alerts() if a["detector"] == "predict"]


def test_a_disk_filling_in_a_new_watch_warns_from_its_trend_line(tmp_path):
    clock = Clock(T0 + H)
    watcher = make(str(tmp_path / "s.sqlite"), clock, trend=True)
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


def test_without_the_key_the_same_disk_is_not_warned_while_learning(tmp_path):
    clock = Clock(T0 + H)
    watcher = make(str(tmp_path / "s.sqlite"), clock, trend=False)
    run_until(watcher, clock, T0 + 6 * H)
    assert warnings(watcher.store) == []            # learning, and not yet at the limit
    snap = watcher.snapshot()["watches"]["disk"]["predictions"]
    assert snap["warning"] == [False, False] and snap["probability"] == [None, None]


@pytest.mark.parametrize("block, message", [
    ("predict: {warmup_trend: maybe}", "predict.warmup_trend must be true or false"),
    ("predict: {warmup_trend: 1}", "predict.warmup_trend must be true or false"),
    ("predict: {warmup_trnd: true}", "did you mean 'warmup_trend'"),
])
def test_bad_warmup_trend_keys_are_one_line_errors(block, message):
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
