"""Sharding by series hash: the shards partition the series, and N shards together score
and alert exactly as one daemon."""

from __future__ import annotations

import numpy as np
import pytest
from watch_servers import Clock

from kizashi.cli.watch import _with_shard
from kizashi.watch.config import parse_config, parse_shard
from kizashi.watch.shards import shard_mask, shard_of, shard_paths
from kizashi.watch.sources import PrometheusSource, Samples
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

T0 = 1_700_000_000.0
NAMES = [f"node{k}" for k in range(40)]
#: (series, first step of its incident, steps): incidents at different times
INCIDENTS = {"node3": (50, 8), "node17": (70, 5), "node22": (50, 12), "node31": (90, 6),
             "node38": (100, 9)}


def value(name: str, k: int) -> float:
    noise = ((k * 7919 + sum(map(ord, name)) * 104729) % 1000) / 1000.0
    start, steps = INCIDENTS.get(name, (-1, 0))
    return 10.0 + noise + (40.0 if start <= k < start + steps else 0.0)


class Source(PrometheusSource):
    def __init__(self) -> None:
        super().__init__("http://scripted", retries=0)

    def _samples(self, times: np.ndarray) -> Samples:
        values = np.array([[value(n, round(t - T0)) for n in NAMES] for t in times])
        return Samples(times, [{"instance": n, "job": "node"} for n in NAMES],
                       values.reshape(times.size, len(NAMES)))

    def instant(self, query: str, t: float) -> Samples:
        return self._samples(np.array([t]))

    def range(self, query: str, start: float, end: float, step: float) -> Samples:
        return self._samples(start + step * np.arange(round((end - start) / step) + 1))


CONFIG = """
interval: 1s
listen: off
sources: {prometheus: {type: prometheus, url: "http://scripted"}}
watches:
  - name: m
    query: up
    detectors:
      - {name: sigma, detector: threshold, params: {window: 30, k: 5.0, min_periods: 10},
         min_duration: 2s, resolve_after: 2s}
"""


def run(shard: str, until: int) -> WatchStore:
    config = parse_config(CONFIG + f"shard: {shard}\n")
    store, clock = WatchStore(":memory:"), Clock(T0)
    watcher = Watcher(config, store, clock=clock, sources={"prometheus": Source()})
    for _ in range(until):
        clock.t += 1.0
        watcher.tick()
    return store


def alerts(store: WatchStore) -> list[tuple[str, float, float | None, str]]:
    return sorted((a["labels"]["instance"], a["starts_at"], a["ends_at"], a["status"])
                  for a in store.alerts())


def scores(store: WatchStore) -> dict[str, np.ndarray]:
    out = {}
    for series in store.all_series():
        part = store.points(series["id"])["sigma"]
        out[series["labels"]["instance"]] = np.c_[part["t"], part["score"]]
    return out


@pytest.mark.parametrize("n", [2, 3])
def test_shards_together_alert_and_score_exactly_as_one_daemon(n):
    one = run("0/1", 130)
    parts = [run(f"{i}/{n}", 130) for i in range(n)]
    want = alerts(one)
    assert {a[0] for a in want} == set(INCIDENTS)           # every incident paged once
    assert sorted(a for p in parts for a in alerts(p)) == want
    joined: dict[str, np.ndarray] = {}
    for part in parts:
        mine = scores(part)
        assert not set(mine) & set(joined)                  # no series on two shards
        joined.update(mine)
    expected = scores(one)
    assert set(joined) == set(expected) == set(NAMES)
    for name in NAMES:
        assert np.array_equal(joined[name], expected[name], equal_nan=True), name


def test_shards_partition_any_set_of_series():
    labels = [{"instance": f"n{k}", "job": "j"} for k in range(997)]
    for n in (1, 2, 5, 16):
        masks = np.array([shard_mask(labels, (i, n)) for i in range(n)])
        assert (masks.sum(axis=0) == 1).all()               # each series on exactly one
        for j in (0, 500, 996):
            assert masks[shard_of(labels[j], n), j]


def test_shard_flags_and_default_paths(tmp_path):
    assert parse_shard("0/1", "x") == (0, 1)
    for bad in ("2/2", "-1/2", "1", "a/b", "1/0"):
        with pytest.raises(ValueError, match="shard"):
            parse_shard(bad, "--shard")
    assert shard_paths("w.sqlite", None, (0, 2)) == ("w.shard-0-of-2.sqlite", None)
    config = parse_config(CONFIG.replace("listen: off", "listen: 127.0.0.1:9464")
                          + f"storage: {tmp_path}/w.sqlite\n")
    one = _with_shard(config, "1/2", None, None)
    assert (one.shard, one.storage, one.listen) == ((1, 2), f"{tmp_path}/w.shard-1-of-2.sqlite",
                                                    "127.0.0.1:9465")
    mine = _with_shard(config, "1/2", "/x/s.sqlite", "127.0.0.1:7000")
    assert (mine.storage, mine.listen) == ("/x/s.sqlite", config.listen)
    assert _with_shard(config, None, None, None) is config
