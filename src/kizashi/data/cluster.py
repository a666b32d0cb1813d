"""Seeded telemetry of a small computing centre, with the incidents KEK's operators saw.

The centre has ``n_nodes`` worker nodes, each reporting CPU utilisation (%),
filesystem (GPFS-like) response time (ms) and restarts of its batch daemon per
interval, and a batch system reporting the number of pending jobs. Utilisation
follows a daily and weekly rhythm, and a *quiet season* — the weeks around the
start of April, when people arrive and leave — lowers it for the last weeks.

Incidents (each with its affected series and time span):

* a batch (LSF-like) daemon restarting in a loop on one node;
* filesystem responses delayed on a group of nodes;
* jobs waiting on tape staging: the queue grows while CPUs fall idle;
* a filesystem hang: every node's response time explodes, CPUs stall.

>>> telemetry = generate_cluster(n_nodes=4, days=3, seed=1, incidents=False)
>>> telemetry.frame.n_series, telemetry.frame.n_times
(13, 864)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kizashi.data.frame import SeriesFrame

START = np.datetime64("2026-03-09T00:00:00", "ns")  # a Monday
STEP_SECONDS = 300
STEPS_PER_DAY = 86400 // STEP_SECONDS


@dataclass(frozen=True)
class Incident:
    """An injected incident: what, where (series keys) and when (inclusive row span)."""

    name: str
    description: str
    series: tuple[tuple[str, str], ...]
    start: int
    end: int


@dataclass(frozen=True, eq=False)
class ClusterTelemetry:
    """The generated frame (labels mark incident rows), the incidents, and the quiet season."""

    frame: SeriesFrame
    incidents: tuple[Incident, ...]
    quiet_season: tuple[int, int]


def node_name(i: int) -> str:
    return f"node{i + 1:02d}"


def generate_cluster(n_nodes: int = 32, days: int = 35, seed: int = 0,
                     incidents: bool = True) -> ClusterTelemetry:
    """Generate ``days`` of 5-minute telemetry for ``n_nodes`` nodes (see the module docs)."""
    if n_nodes < 4 or days < 1:
        raise ValueError("need at least 4 nodes and 1 day")
    rng = np.random.default_rng(seed)
    n = days * STEPS_PER_DAY
    step = np.arange(n)
    hour = (step % STEPS_PER_DAY) * 24.0 / STEPS_PER_DAY
    weekday = (step // STEPS_PER_DAY) % 7
    daily = 0.75 + 0.25 * np.clip(np.sin((hour - 7.0) / 24.0 * 2 * np.pi) * 1.6, -1, 1)
    weekly = np.where(weekday >= 5, 0.7, 1.0)
    quiet_start, quiet_ramp = int(days * 0.55 * STEPS_PER_DAY), 2 * STEPS_PER_DAY
    season = 1.0 - 0.45 * np.clip((step - quiet_start) / quiet_ramp, 0.0, 1.0)

    base = rng.uniform(55, 80, n_nodes)
    cpu = base * (daily * weekly * season)[:, None]
    cpu = cpu + rng.normal(0, 3.0, (n, n_nodes)) + _ar_noise(rng, n, n_nodes, 0.97, 1.2)
    latency = rng.uniform(2.0, 4.0, n_nodes) * (1 + 0.4 * (cpu / 100.0))
    latency = latency * np.exp(rng.normal(0, 0.12, (n, n_nodes)))
    restarts = (rng.random((n, n_nodes)) < 0.0015).astype(float)
    queue = 120 * daily * weekly * season + _ar_noise(rng, n, 1, 0.99, 4.0)[:, 0]
    queue = np.maximum(queue + rng.normal(0, 6.0, n), 0.0)

    events: list[Incident] = []
    if incidents:
        day = STEPS_PER_DAY
        def at(fraction: float, hour: int) -> int:  # hour of the day at a fraction of the run
            return int(fraction * days) * day + hour * (day // 24)

        loop_node = n_nodes // 5
        a0, a1 = at(0.62, 10), at(0.62, 16)
        restarts[a0:a1 + 1, loop_node] = rng.integers(1, 4, a1 - a0 + 1)
        cpu[a0:a1 + 1, loop_node] *= 0.25
        events.append(Incident(
            "daemon-restart-loop", f"batch daemon restarting in a loop on "
            f"{node_name(loop_node)}",
            ((node_name(loop_node), "daemon_restarts"), (node_name(loop_node), "cpu_util")),
            a0, a1))

        group = range(n_nodes // 4, n_nodes // 2)
        b0, b1 = at(0.70, 13), at(0.70, 15)
        latency[b0:b1 + 1, list(group)] *= rng.uniform(5, 8, (b1 - b0 + 1, len(group)))
        events.append(Incident(
            "filesystem-delay", f"filesystem responses delayed on {node_name(group[0])}–"
            f"{node_name(group[-1])}", tuple((node_name(i), "fs_latency_ms") for i in group),
            b0, b1))

        c0, c1 = at(0.80, 2), at(0.80, 12)
        ramp = np.linspace(0, 1, c1 - c0 + 1)
        queue[c0:c1 + 1] += 450 * ramp
        cpu[c0:c1 + 1] *= (1 - 0.5 * ramp)[:, None]
        events.append(Incident(
            "tape-staging-wait", "jobs waiting on tape staging: queue grows, CPUs idle",
            (("batch", "pending_jobs"),), c0, c1))

        d0, d1 = at(0.88, 20), at(0.88, 20) + 8
        latency[d0:d1 + 1] *= rng.uniform(150, 300, (d1 - d0 + 1, n_nodes))
        cpu[d0:d1 + 1] = rng.uniform(1, 4, (d1 - d0 + 1, n_nodes))
        events.append(Incident(
            "filesystem-hang", "filesystem hang: every node stalls",
            tuple((node_name(i), "fs_latency_ms") for i in range(n_nodes)), d0, d1))

    cpu = np.clip(cpu, 0.0, 100.0)
    node_metrics = {"cpu_util": cpu, "fs_latency_ms": latency, "daemon_restarts": restarts}
    timestamps = START + (step * STEP_SECONDS).astype("timedelta64[s]")
    frame = assemble_centre_frame(timestamps, node_metrics, queue, events, "demo cluster")
    return ClusterTelemetry(frame, tuple(events), (quiet_start, n - 1))


def assemble_centre_frame(timestamps: np.ndarray, node_metrics: dict[str, np.ndarray],
                          queue: np.ndarray, events: Sequence[Any], name: str) -> SeriesFrame:
    """A centre's frame: every node's metrics (``(time, node)`` arrays, node by node in
    the dict's metric order), then the batch queue, labelled where an event's series
    (``event.series`` of ``(entity, metric)`` over rows ``event.start … event.end``) were
    anomalous.

    >>> frame = assemble_centre_frame(np.arange(3).astype("datetime64[m]"),
    ...                               {"cpu_util": np.zeros((3, 2))}, np.ones(3), [], "x")
    >>> frame.entities, frame.metrics
    (('node01', 'node02', 'batch'), ('cpu_util', 'cpu_util', 'pending_jobs'))
    """
    n_nodes = next(iter(node_metrics.values())).shape[1]
    entities = [node_name(i) for i in range(n_nodes) for _ in node_metrics] + ["batch"]
    metrics = [metric for _ in range(n_nodes) for metric in node_metrics] + ["pending_jobs"]
    columns = [data[:, i] for i in range(n_nodes) for data in node_metrics.values()]
    values = np.column_stack([*columns, queue])
    keys = list(zip(entities, metrics, strict=True))
    labels = np.zeros(values.shape, dtype=bool)
    for event in events:
        for key in event.series:
            labels[event.start:event.end + 1, keys.index(key)] = True
    return SeriesFrame(timestamps.astype("datetime64[ns]"), values, tuple(entities),
                       tuple(metrics), labels=labels, name=name)


def _ar_noise(rng: np.random.Generator, n: int, k: int, phi: float, sigma: float) -> np.ndarray:
    """AR(1) noise (slow wander), vectorised over columns."""
    from scipy.signal import lfilter

    shocks = rng.normal(0, sigma, (n, k))
    return lfilter([1.0], [1.0, -phi], shocks, axis=0)
