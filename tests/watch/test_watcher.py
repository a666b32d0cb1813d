"""The tick loop with a scripted in-process source and a fake clock: vectorised scoring,
series appearing and ageing out, alerts once per incident, outages, restarts."""

from __future__ import annotations

import numpy as np
import pytest
from watch_servers import Clock

from kizashi.detectors.registry import create
from kizashi.engine.decider import Decider
from kizashi.engine.stream import DetectorStream
from kizashi.watch.config import parse_config
from kizashi.watch.sources import PrometheusSource, Samples, SourceError
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

T0 = 1_700_000_000.0


def signal(name: str, t: float) -> float:
    """Deterministic noisy series; series 'b' has a spike in [T0+60, T0+66)."""
    k = round(t)
    noise = ((k * 7919 + sum(map(ord, name)) * 104729) % 1000) / 1000.0
    base = 10.0 + noise
    if name == "b" and T0 + 60 <= t < T0 + 66:
        base += 50.0
    return base


class ScriptedSource(PrometheusSource):
    """Answers like Prometheus from a function; counts calls; can be switched off."""

    def __init__(self, names: list[str]):
        super().__init__("http://scripted", retries=0)
        self.names = list(names)
        self.down = False
        self.calls: list[tuple[str, float, float]] = []

    def _samples(self, timestamps: np.ndarray) -> Samples:
        if self.down:
            raise SourceError("source 'prometheus': unreachable: connection refused")
        labels = [{"instance": n} for n in self.names]
        values = np.array([[signal(n, t) for n in self.names] for t in timestamps])
        return Samples(timestamps, labels, values.reshape(timestamps.size, len(self.names)))

    def instant(self, query: str, t: float) -> Samples:
        self.calls.append(("instant", t, t))
        return self._samples(np.array([t]))

    def range(self, query: str, start: float, end: float, step: float) -> Samples:
        self.calls.append(("range", start, end))
        return self._samples(start + step * np.arange(round((end - start) / step) + 1))


CONFIG = """
interval: 1s
listen: off
series_ttl: 5s
sources: {prometheus: {type: prometheus, url: "http://scripted"}}
watches:
  - name: m
    query: up
    detectors:
      - {detector: threshold, params: {window: 30, k: 5.0, min_periods: 10},
         min_duration: 2s, resolve_after: 2s}
"""


def make(store: WatchStore, source: ScriptedSource, clock: Clock,
         text: str = CONFIG) -> Watcher:
    return Watcher(parse_config(text), store, clock=clock, sources={"prometheus": source})


def run_ticks(watcher: Watcher, clock: Clock, until: float) -> None:
    while clock.t < until:
        clock.t += 1.0
        watcher.tick()


def test_one_vectorised_update_per_step_and_one_alert_per_incident():
    store, clock, source = WatchStore(":memory:"), Clock(T0), ScriptedSource(["a", "b", "c"])
    watcher = make(store, source, clock)
    calls = []
    detector = watcher.runs[0].detectors[0].detector
    original = detector.update_many
    detector.update_many = lambda rows, t=None: calls.append(np.shape(rows)) or original(rows, t)
    run_ticks(watcher, clock, T0 + 90)
    # every step learned once, all series at once (protected steps: one more call, scored only)
    assert sum(shape[0] for shape in calls) >= 90 and {shape[1] for shape in calls} == {3}
    alerts = store.alerts()
    assert len(alerts) == 1
    (alert,) = alerts
    assert alert["labels"] == {"instance": "b"} and alert["status"] == "resolved"
    assert alert["starts_at"] == T0 + 60               # the first step above the cutoff
    assert T0 + 62 < alert["ends_at"] <= T0 + 70
    status = watcher.snapshot()["watches"]["m"]
    assert [s["labels"]["instance"] for s in status["series"]] == ["a", "b", "c"]


def test_new_series_join_and_vanished_series_age_out():
    store, clock, source = WatchStore(":memory:"), Clock(T0), ScriptedSource(["a"])
    watcher = make(store, source, clock)
    run_ticks(watcher, clock, T0 + 20)
    source.names = ["a", "c"]
    run_ticks(watcher, clock, T0 + 40)
    run = watcher.runs[0]
    assert [run.labels[s]["instance"] for s in run.columns] == ["a", "c"]
    state = run.detectors[0].detector.state_
    assert state["n_series"] == 2
    assert state["window"]["count"].tolist() == [30, 20]      # 'a' kept its history
    source.names = ["c"]
    run_ticks(watcher, clock, T0 + 50)                        # 'a' unseen for > series_ttl
    assert [run.labels[s]["instance"] for s in run.columns] == ["c"]
    assert run.detectors[0].detector.state_["window"]["count"].tolist() == [30]
    assert [s["active"] for s in store.all_series()] == [False, True]


def test_outage_marks_source_down_and_backfills_without_alerts():
    store, clock, source = WatchStore(":memory:"), Clock(T0), ScriptedSource(["a", "c"])
    watcher = make(store, source, clock)
    run_ticks(watcher, clock, T0 + 20)
    source.down = True
    run_ticks(watcher, clock, T0 + 35)
    health = watcher.snapshot()["health"]
    assert health["source_up"] == {"prometheus": False} and health["source_errors"]["prometheus"]
    assert store.progress("m") == T0 + 20
    source.down = False
    clock.t += 1.0
    watcher.tick()
    assert source.calls[-1] == ("range", T0 + 21, T0 + 36)    # the gap, in one range query
    assert store.progress("m") == T0 + 36
    times = store.points(1)["threshold"]["t"]
    assert np.array_equal(times, T0 + np.arange(1.0, 37.0))  # no step lost
    assert store.alerts() == []
    assert watcher.snapshot()["health"]["source_up"] == {"prometheus": True}


def test_restart_resumes_exactly_as_an_uninterrupted_run(tmp_path):
    """Stop after each of several ticks, reopen the store: scores equal one unbroken run."""
    path = str(tmp_path / "state.sqlite")
    clock, source = Clock(T0), ScriptedSource(["a", "b"])
    for stop in (T0 + 15, T0 + 40, T0 + 62, T0 + 63, T0 + 90):
        store = WatchStore(path)
        watcher = make(store, source, clock)
        clock.t += 3.0                       # the daemon was down 3 s: backfill
        run_ticks(watcher, clock, stop)
        store.close()
    store = WatchStore(path)
    expected = create("threshold", window=30, k=5.0, min_periods=10)
    times = np.arange(T0 + 4, clock.t + 1)
    rows = np.array([[signal("a", t), signal("b", t)] for t in times])
    unbroken = DetectorStream(expected, Decider.for_detector(expected, min_steps=2,
                                                             resolve_steps=2), block=1)
    want = unbroken.process(rows, times).decision.level
    for j in (0, 1):
        got = store.points(j + 1)["threshold"]
        assert np.array_equal(got["t"], times)
        assert np.array_equal(got["score"], want[:, j], equal_nan=True)
    assert [(a["labels"]["instance"], a["status"]) for a in store.alerts()] == [("b", "resolved")]


def test_changed_detector_parameters_restart_that_detector(tmp_path, caplog):
    path = str(tmp_path / "state.sqlite")
    clock, source = Clock(T0), ScriptedSource(["a"])
    watcher = make(WatchStore(path), source, clock)
    run_ticks(watcher, clock, T0 + 5)
    changed = CONFIG.replace("window: 30", "window: 40")
    watcher = make(WatchStore(path), source, clock, changed)
    assert "starting that detector afresh" in caplog.text
    assert watcher.runs[0].detectors[0].detector.state_["window"]["count"].tolist() == [0]


@pytest.mark.parametrize("restarts", [1, 2])
def test_a_restart_with_a_new_cutoff_stores_the_new_one(tmp_path, restarts):
    """A changed cutoff replaces the saved one, in memory and in the file, also when the next
    ticks are live steps that write only the chunks they change."""
    path = str(tmp_path / "state.sqlite")
    clock, source = Clock(T0), ScriptedSource(["a", "b"])
    old = CONFIG.replace("min_duration: 2s", "cutoff: 3.0, min_duration: 2s")
    store = WatchStore(path)
    run_ticks(make(store, source, clock, old), clock, T0 + 20)
    store.close()
    for _ in range(restarts):   # the second start finds the new cutoff already stored
        store = WatchStore(path)
        watcher = make(store, source, clock, old.replace("cutoff: 3.0", "cutoff: 4.5"))
        assert watcher.runs[0].detectors[0].thresholds.tolist() == [4.5, 4.5]
        run_ticks(watcher, clock, clock.t + 3)
        assert watcher.runs[0].detectors[0].hints is not None   # live steps ran
        store.close()
    columns, state = WatchStore(path).load_state("m", "threshold")
    assert len(columns) == 2 and state["decider"]["threshold"].tolist() == [4.5, 4.5]


def test_quantile_cutoff_uses_each_series_recent_scores():
    # 4 steps: the sawtooth of 'a' crosses its own 0.99 quantile for up to 3 steps at a time,
    # the spike of 'b' lasts 6
    text = CONFIG.replace("min_duration: 2s", "cutoff: q0.99, min_duration: 4s")
    store, clock, source = WatchStore(":memory:"), Clock(T0), ScriptedSource(["a", "b"])
    watcher = make(store, source, clock, text)
    run_ticks(watcher, clock, T0 + 100)
    thresholds = watcher.runs[0].detectors[0].thresholds
    assert np.all(np.isfinite(thresholds)) and np.all(thresholds > 0)
    assert [a["labels"]["instance"] for a in store.alerts()] == ["b"]


@pytest.mark.parametrize("bad", ["sources: {p: {type: kafka}}", "interval: soon"])
def test_bad_config_names_the_key(bad):
    key = bad.split(":")[0] + ":"  # (replaced, not given twice: that is refused on its own)
    original = next(line for line in CONFIG.splitlines() if line.startswith(key))
    with pytest.raises(ValueError, match=r"sources\.p\.type|interval"):
        parse_config(CONFIG.replace(original, bad))
