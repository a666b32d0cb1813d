"""A watch's ``predict:`` across a scrape outage (steps at which no series has a value): once
the data is back it predicts as ``kizashi predict`` does on the file without the outage's rows
(the stretch stepped through as the line between its ends), and a restart inside the outage
changes nothing.

The reference is predict_frame on the file of what the watch fetched, outage rows left out
(tests/prediction/test_predictor_gaps.py checks that against the stretch filled in by hand)."""

from __future__ import annotations

import numpy as np
import pytest
from watch_servers import Clock, disk_predict_watcher, run_until

from kizashi.data.frame import SeriesFrame
from kizashi.prediction.predictor import predict_frame
from kizashi.watch.watcher import Watcher

H = 3600.0
STEP = 300.0
T0 = 1_800_000_000.0
OUTAGE = (T0 + 87 * H, T0 + 88 * H)   # the range query has nothing for these 12 steps
NAMES = ("fill", "flat")



def value(name: str, t: float) -> float:
    """``fill`` rises 1 %/h from 5 % at T0 (warning by T0 + 89 h), ``flat`` stays near 50 %."""
    if name == "fill":
        return 5.0 + (t - T0) / H
    return 50.0 + (round(t / STEP) * 7919 % 100) / 100.0


def value_with_outage(name: str, t: float) -> float:
    return float("nan") if OUTAGE[0] <= t < OUTAGE[1] else value(name, t)


def make(path: str, clock: Clock) -> Watcher:
    return disk_predict_watcher(path, clock, value_with_outage, list(NAMES))


@pytest.mark.slow
def test_after_an_outage_the_watch_predicts_as_predict_and_a_restart_in_it_changes_nothing(
        tmp_path):
    clock = Clock(T0 + 86 * H)
    unbroken = make(str(tmp_path / "a.sqlite"), clock)
    unbroken.tick()
    run_until(unbroken, clock, T0 + 87.5 * H)
    during = unbroken.snapshot()["watches"]["disk"]["predictions"]
    run_until(unbroken, clock, T0 + 90 * H)
    want = unbroken.snapshot()["watches"]["disk"]["predictions"]

    clock = Clock(T0 + 86 * H)
    path = str(tmp_path / "b.sqlite")
    watcher = make(path, clock)
    watcher.tick()
    run_until(watcher, clock, OUTAGE[0] - STEP)       # the last step before the outage
    before = watcher.snapshot()["watches"]["disk"]["predictions"]
    assert during == before                           # nothing new while it lasts
    run_until(watcher, clock, T0 + 87.5 * H)          # inside the outage
    watcher.store.close()
    watcher = make(path, clock)                       # a restart (as after kill -9)
    run_until(watcher, clock, T0 + 90 * H)
    assert watcher.snapshot()["watches"]["disk"]["predictions"] == want

    seconds = T0 + STEP * np.arange(round(90 * H / STEP) + 1)
    seconds = seconds[(seconds < OUTAGE[0]) | (seconds >= OUTAGE[1])]
    values = np.array([[value(n, t) for n in NAMES] for t in seconds])
    frame = SeriesFrame.from_arrays(seconds, values, list(NAMES), ["fs_used_pct"] * 2)
    whole = predict_frame(frame, "6h", {"fs_used_pct": 100.0})
    np.testing.assert_allclose(want["probability"], whole.probability[-1], atol=1e-6)
    assert want["warning"] == whole.warning[-1].tolist() == [True, False]
    eta = whole.eta[-1].astype("datetime64[ns]").astype(np.int64) / 1e9
    np.testing.assert_allclose([np.nan if e is None else e for e in want["eta"]],
                               np.where(np.isnat(whole.eta[-1]), np.nan, eta))
