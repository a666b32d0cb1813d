"""The daemon as a real process with predictions on (a watch's ``predict:``), killed with
SIGKILL before, at and after the moment its warning starts: the prediction state and the
warnings end as those of one unbroken run, with one warning, never lost nor repeated.

The predictor learns for about a day and a half of steps (``docs/prediction.md``), so the
state file is first seeded in-process (40 h of 10 s steps backfilled up to a moment a little
ahead of the wall clock); the daemon then goes on from it in real time. ``fill`` is a straight
line that reaches its limit (100) at ``cross``: with a 2-minute horizon its warning starts at
the step ``cross − 110 s`` (the first where the line's ETA is strictly within the horizon).
"""

from __future__ import annotations

import math
import shutil
import time

import numpy as np
import pytest
from watch_servers import (
    Clock,
    FakeHttp,
    kizashi_watch,
    prometheus_handler,
    wait_for,
    write_config,
)

from kizashi.state import states_equal
from kizashi.watch.config import parse_config
from kizashi.watch.predictions import PREDICT
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

STEP = 10.0
HORIZON = 120.0
#: seconds of wall clock the in-process seeding may take (it ends at a step this far ahead)
SEED_AHEAD = 100.0
#: the warning starts this long after the seeded state's last step
WARN_AFTER = 40.0
RATE = 0.0005  # % per second: 28 % to 100 % over the 40 h of history

CONFIG = """
interval: 10s
storage: {state}
listen: "off"
initial_backfill: 40h
max_backfill: 41h
sources:
  prometheus: {{type: prometheus, url: "{prom}", timeout: 5s, retries: 1, backoff: 100ms}}
watches:
  - name: disk
    query: fs_used_pct
    detectors: [{{name: static, detector: static_threshold, params: {{high: 1000}}}}]
    predict: {{horizon: 2m, limit: 100}}
alerts:
  webhook: {{url: "{sink}/hook"}}
"""


def progress(path) -> float:
    store = WatchStore(str(path), readonly=True)
    try:
        return store.progress("disk") or 0.0
    finally:
        store.close()


def warnings(store: WatchStore) -> list[tuple]:
    return [(a["labels"], a["status"], a["starts_at"], a["ends_at"], a["annotations"])
            for a in store.alerts() if a["detector"] == PREDICT]


@pytest.mark.slow
def test_sigkill_with_predictions_loses_and_repeats_no_warning(tmp_path):
    seeded_to = (math.floor(time.time() / STEP) * STEP) + SEED_AHEAD
    cross = seeded_to + WARN_AFTER + HORIZON          # fill reaches 100 here
    # the step its warning starts: the first with the limit strictly within the horizon (at
    # cross − HORIZON the line meets it exactly at the horizon: margin 0, under the cutoff)
    warn_at = cross - HORIZON + STEP

    def value(name: str, t: float) -> float:
        if name == "fill":
            return 100.0 - RATE * (cross - t)
        return 50.0 + (round(t / STEP) * 7919 % 100) / 100.0

    prom = FakeHttp(prometheus_handler(value, ["fill", "flat"]))
    sink = FakeHttp(lambda method, path, query, body: (200, b"{}"))
    try:
        run_and_check(tmp_path, prom.url, sink, seeded_to, warn_at, value)
    finally:
        prom.close()
        sink.close()


def run_and_check(tmp_path, prom_url: str, sink: FakeHttp, seeded_to: float, warn_at: float,
                  value) -> None:
    state = tmp_path / "state.sqlite"
    text = CONFIG.format(state=state, prom=prom_url, sink=sink.url)
    config_path = write_config(tmp_path / "watch.yaml", text)
    log = tmp_path / "daemon.log"
    # 1. seed: the predictor learns 40 h, up to `seeded_to` (ahead of the wall clock)
    config = parse_config(text)
    seeding = Watcher(config, WatchStore(config.storage), clock=Clock(seeded_to))
    seeding.tick()
    assert seeding.store.progress("disk") == seeded_to
    probability = seeding.snapshot()["watches"]["disk"]["predictions"]["probability"]
    assert all(0.0 <= p < 0.1 for p in probability), probability  # learnt, not warning
    seeding.store.close()
    shutil.copyfile(state, tmp_path / "replay.sqlite")
    if time.time() > warn_at - 25.0:
        pytest.skip("seeding took longer than the schedule allows on this machine")

    # 2. the daemon, killed around the warning's start and restarted each time
    daemon = kizashi_watch([str(config_path)], log)
    kills = 0
    try:
        for at in (-14.5, 2.3, 12.1, 31.9):   # between steps, at the warning's step, after
            time.sleep(max(0.0, warn_at + at - time.time()))
            daemon.kill9()
            kills += 1
            time.sleep(1.5 + kills % 2 * 10.0)   # down for part of a step, or for a step
            daemon = kizashi_watch([str(config_path)], log)
        wait_for(lambda: progress(state) >= warn_at + 50.0, 60.0,
                 "the daemon to go on after the last restart")
        assert daemon.alive(), daemon.output()
        assert daemon.stop() == 0, daemon.output()
    finally:
        daemon.stop()
    output = log.read_text()
    assert kills == 4 and "Traceback" not in output, output

    store = WatchStore(str(state))
    last = store.progress("disk")
    # 3. one warning, for `fill`, from its step on, still firing (it resolves 2 h later)
    got = warnings(store)
    assert len(got) == 1, got
    labels, status, starts_at, ends_at, notes = got[0]
    assert labels == {"instance": "fill"} and status == "firing" and ends_at is None
    assert warn_at <= starts_at <= warn_at + STEP
    assert notes["kind"] == "warning" and notes["horizon"] == "2m"
    # the receiver heard it fire: one warning, however often a kill made it resend
    fired = {(m["id"], m["status"], m["starts_at"]) for m in sink.posts("/hook")}
    assert len(fired) == 1 and next(iter(fired))[1] == "firing", fired

    # 4. the same as one unbroken run over the same steps (the seeded state, stepped in-process)
    config = parse_config(text.replace(str(state), str(tmp_path / "replay.sqlite")))
    clock = Clock(seeded_to)
    unbroken = Watcher(config, WatchStore(config.storage), clock=clock)
    while clock.t < last:
        clock.t += STEP
        unbroken.tick()
    assert unbroken.store.progress("disk") == last
    assert warnings(unbroken.store) == got
    assert states_equal(unbroken.store.load_tree("disk", PREDICT),
                        store.load_tree("disk", PREDICT))
    want = unbroken.snapshot()["watches"]["disk"]["predictions"]["probability"]
    assert want[0] >= 0.1 and np.isfinite(want).all()
