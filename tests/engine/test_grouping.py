"""Incident grouping: one event across many nodes is one incident."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.engine.batch import Incident, score_frame
from kizashi.engine.grouping import group_incidents


def cluster(n_nodes: int, metrics=("cpu_util", "gpfs_latency")):
    entities = tuple(f"n{i:02d}" for i in range(n_nodes) for _ in metrics)
    names = tuple(m for _ in range(n_nodes) for m in metrics)
    return entities, names


@pytest.mark.parametrize("n_nodes", [3, 24, 100])
def test_many_node_event_is_one_incident(n_nodes):
    entities, metrics = cluster(n_nodes)
    rng = np.random.default_rng(n_nodes)
    alerts = [Incident(j, 1000 + int(rng.integers(0, 4)), 1030 + int(rng.integers(0, 10)), 5.0)
              for j in range(len(entities))]
    groups = group_incidents(alerts, entities, metrics)
    assert len(groups) == 1
    group = groups[0]
    assert len(group.members) == 2 * n_nodes and len(group.entities) == n_nodes
    assert group.summary == f"cpu_util and gpfs_latency on {n_nodes}/{n_nodes} nodes"
    assert group.start == min(a.start for a in alerts) and group.end == max(a.end for a in alerts)


def test_two_unrelated_events_are_two_incidents():
    entities, metrics = cluster(8)
    hang = [Incident(j, 100, 120, 5.0) for j in range(1, 16, 2)]      # latency on all nodes
    loop = [Incident(4, 900, 950, 3.0), Incident(5, 903, 940, 2.0)]   # both metrics of n02
    groups = group_incidents(hang + loop, entities, metrics)
    assert [g.summary for g in groups] == ["gpfs_latency on 8/8 nodes",
                                           "cpu_util and gpfs_latency on n02"]


def test_overlap_alone_does_not_chain_events():
    # a long alert on one node; an unrelated alert starting much later during it
    entities, metrics = cluster(2)
    alerts = [Incident(0, 0, 1000, 1.0), Incident(3, 500, 510, 1.0)]
    assert len(group_incidents(alerts, entities, metrics, window=6)) == 2
    assert len(group_incidents(alerts, entities, metrics, window=600)) == 1


def test_label_keys_split_groups():
    entities, metrics = cluster(6)
    labels = {f"n{i:02d}": {"rack": "r1" if i < 3 else "r2", "job": "j7"} for i in range(6)}
    alerts = [Incident(j, 50, 60, 1.0) for j in range(0, 12, 2)]     # cpu on all 6 nodes
    by_rack = group_incidents(alerts, entities, metrics, entity_labels=labels, by=("rack",))
    assert [g.summary for g in by_rack] == ["cpu_util on 3/3 nodes (rack=r1)",
                                            "cpu_util on 3/3 nodes (rack=r2)"]
    by_job = group_incidents(alerts, entities, metrics, entity_labels=labels, by=("job",))
    assert [g.summary for g in by_job] == ["cpu_util on 6/6 nodes (job=j7)"]
    with pytest.raises(ValueError, match="'partition'"):
        group_incidents(alerts, entities, metrics, entity_labels=labels, by=("partition",))


def test_every_alert_lands_in_exactly_one_group():
    rng = np.random.default_rng(3)
    entities, metrics = cluster(10)
    alerts = []
    for _ in range(200):
        start = int(rng.integers(0, 5000))
        alerts.append(Incident(int(rng.integers(0, 20)), start, start + int(rng.integers(0, 50)),
                               1.0))
    groups = group_incidents(alerts, entities, metrics)
    members = [m for g in groups for m in g.members]
    assert sorted(members, key=id) == sorted(alerts, key=id)
    for g in groups:
        assert max(m.start for m in g.members) - g.start <= 6


def test_from_the_engine_a_filesystem_hang_is_one_incident():
    rng = np.random.default_rng(0)
    n, n_nodes = 600, 12
    values = rng.normal(3.0, 0.2, (n, n_nodes))
    values[400:410] *= 40                      # every node's latency explodes at once
    from kizashi.data.frame import SeriesFrame

    frame = SeriesFrame.from_arrays(np.arange(n) * 60.0, values)
    frame = SeriesFrame(frame.timestamps, values, tuple(f"n{i}" for i in range(n_nodes)),
                        ("gpfs_latency",) * n_nodes)
    result = score_frame(frame, "threshold", {"window": 100, "k": 5.0})
    assert len(result.incidents) >= n_nodes
    groups = group_incidents(result.incidents, result.entities, result.metrics)
    assert len(groups) == 1 and groups[0].summary == f"gpfs_latency on {n_nodes}/{n_nodes} nodes"
