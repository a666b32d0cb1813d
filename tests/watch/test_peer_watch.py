"""The ``peers`` detector in ``kizashi watch``: groups from each series' labels (``peers_by``),
series joining mid-run, a restart, and shards that keep a peers watch whole."""

from __future__ import annotations

import numpy as np
import pytest
from watch_servers import Clock

from kizashi.detectors.registry import create
from kizashi.engine.decider import Decider
from kizashi.engine.stream import DetectorStream
from kizashi.watch.config import parse_config
from kizashi.watch.sources import PrometheusSource, Samples
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

T0 = 1_700_000_000.0
#: rack a idles near 10, rack b computes near 50; n9 (rack a) joins at step 40
RACK = {**{f"n{k}": "a" for k in range(5)}, **{f"n{k}": "b" for k in range(5, 9)}, "n9": "a"}
JOINS = {"n9": 40}
#: n2 sits at 30 for steps 60..74: far from its rack's 10, yet between the two racks
ODD, ODD_FROM, ODD_STEPS = "n2", 60, 15


def value(name: str, k: int) -> float:
    noise = ((k * 7919 + int(name[1:]) * 104729) % 1000) / 1000.0 - 0.5
    base = 10.0 if RACK[name] == "a" else 50.0
    if name == ODD and ODD_FROM <= k < ODD_FROM + ODD_STEPS:
        base = 30.0
    return base + noise


class RackSource(PrometheusSource):
    """node_load1 of ten nodes in two racks, as Prometheus answers it."""

    def __init__(self) -> None:
        super().__init__("http://scripted", retries=0)

    def _samples(self, times: np.ndarray) -> Samples:
        k0 = round(times[0] - T0) if times.size else 0
        names = [n for n in RACK if JOINS.get(n, 0) <= k0]
        labels = [{"__name__": "node_load1", "instance": n, "rack": RACK[n]} for n in names]
        values = np.array([[value(n, round(t - T0)) if JOINS.get(n, 0) <= round(t - T0)
                            else np.nan for n in names] for t in times])
        return Samples(times, labels, values.reshape(times.size, len(names)))

    def instant(self, query: str, t: float) -> Samples:
        return self._samples(np.array([t]))

    def range(self, query: str, start: float, end: float, step: float) -> Samples:
        return self._samples(start + step * np.arange(round((end - start) / step) + 1))


def config(peers_by: str | None = "rack", shard: str | None = None) -> str:
    by = "" if peers_by is None else f", peers_by: {peers_by}"
    return f"""
interval: 1s
listen: off
sources: {{prometheus: {{type: prometheus, url: "http://scripted"}}}}
watches:
  - name: load
    query: node_load1
    detectors:
      - {{detector: peers, params: {{halflife: 20}}, cutoff: 4, calibration: none,
         min_duration: 2s, resolve_after: 2s{by}}}
""" + ("" if shard is None else f"shard: {shard}\n")


def run(store: WatchStore, clock: Clock, until: float, text: str) -> Watcher:
    watcher = Watcher(parse_config(text), store, clock=clock, sources={"prometheus": RackSource()})
    while clock.t < until:
        clock.t += 1.0
        watcher.tick()
    return watcher


def test_a_node_odd_within_its_rack_alerts_once_though_between_the_racks():
    store, clock = WatchStore(":memory:"), Clock(T0)
    run(store, clock, T0 + 100, config())
    alerts = store.alerts()
    assert [(a["labels"]["instance"], a["status"]) for a in alerts] == [(ODD, "resolved")]
    (alert,) = alerts
    assert T0 + ODD_FROM <= alert["starts_at"] <= T0 + ODD_FROM + 2
    assert T0 + ODD_FROM + ODD_STEPS <= alert["ends_at"] <= T0 + ODD_FROM + ODD_STEPS + 3


def test_without_peers_by_the_whole_watch_is_one_group():
    """All ten nodes as one group: the median sits in rack a, so rack b stands out."""
    store, clock = WatchStore(":memory:"), Clock(T0)
    run(store, clock, T0 + 30, config(peers_by=None))
    firing = {a["labels"]["instance"] for a in store.alerts()}
    assert firing == {n for n, rack in RACK.items() if rack == "b"}


def test_the_watch_scores_as_the_detector_given_each_series_group(tmp_path):
    """Across restarts and a joining node: the scores of one unbroken stream whose
    ``groups`` parameter names each series' rack."""
    path = str(tmp_path / "state.sqlite")
    clock = Clock(T0)
    for stop in (T0 + 25, T0 + 45, T0 + 63, T0 + 100):
        store = WatchStore(path)
        run(store, clock, stop, config())
        store.close()
    store = WatchStore(path)
    times = np.arange(T0 + 1, clock.t + 1)
    names = list(RACK)                      # the store's order: n9 joined last
    rows = np.array([[value(n, round(t - T0)) if JOINS.get(n, 0) <= round(t - T0) else np.nan
                      for n in names] for t in times])
    detector = create("peers", halflife=20, groups=[RACK[n] for n in names])
    decider = Decider.for_detector(detector, calibration="none", cutoff=4.0, min_steps=2,
                                   resolve_steps=2)
    # n9 is absent (NaN) before it joins: a missing value neither scores nor learns
    want = DetectorStream(detector, decider, block=1).process(rows, times).decision.level
    by_instance = {s["labels"]["instance"]: s["id"] for s in store.all_series()}
    for j, name in enumerate(names):
        got = store.points(by_instance[name])["peers"]
        keep = np.isin(times, got["t"])
        np.testing.assert_array_equal(got["score"], want[keep, j], err_msg=name)
    assert [a["labels"]["instance"] for a in store.alerts()] == [ODD]


@pytest.mark.parametrize("n", [2, 3])
def test_shards_keep_a_peers_watch_whole_on_one_shard(n):
    alone = WatchStore(":memory:")
    run(alone, Clock(T0), T0 + 100, config())
    stores = [WatchStore(":memory:") for _ in range(n)]
    for i, store in enumerate(stores):
        run(store, Clock(T0), T0 + 100, config(shard=f"{i}/{n}"))
    holding = [i for i, store in enumerate(stores) if store.all_series()]
    assert len(holding) == 1
    (whole,) = holding
    assert len(stores[whole].all_series()) == len(RACK)
    assert ([(a["labels"], a["starts_at"], a["ends_at"]) for a in stores[whole].alerts()]
            == [(a["labels"], a["starts_at"], a["ends_at"]) for a in alone.alerts()])


def test_peers_by_on_a_detector_of_one_series_is_refused():
    text = config().replace("detector: peers, params: {halflife: 20}", "detector: threshold")
    with pytest.raises(ValueError, match=r"peers_by: only for a detector that compares"):
        parse_config(text)
