"""Seeded log lines of the demo centre, with the batch daemon's restart loop written in them.

Every node logs job starts and ends; during the ``daemon-restart-loop`` incident of
:func:`kizashi.data.cluster.generate_cluster` the node's LSF slave daemon
(``sbatchd``) is restarted by the master (``mbatchd``) several times per step —
and the loop starts ``lead_steps`` before its CPU and restart-count metrics show
it, as KEK's first incident did. Lines are ``iso`` formatted
(:mod:`kizashi.data.logs`).

>>> from kizashi.data.cluster import generate_cluster
>>> telemetry = generate_cluster(n_nodes=4, days=8, seed=1)
>>> lines = generate_cluster_logs(telemetry, seed=1)
>>> sum("sbatchd restarted" in line for line in lines) > 100
True
"""

from __future__ import annotations

import numpy as np

from kizashi.data.cluster import STEP_SECONDS, ClusterTelemetry

__all__ = ["LOOP_LEAD_STEPS", "generate_cluster_logs", "loop_start"]

#: Steps (5 min) the restart loop shows in the logs before the metrics move.
LOOP_LEAD_STEPS = 12


def loop_start(telemetry: ClusterTelemetry, lead_steps: int = LOOP_LEAD_STEPS) -> int | None:
    """The step the restart loop starts in the logs (None without that incident)."""
    for incident in telemetry.incidents:
        if incident.name == "daemon-restart-loop":
            return max(incident.start - lead_steps, 0)
    return None


def generate_cluster_logs(telemetry: ClusterTelemetry, seed: int = 0, rate: float = 0.3,
                          lead_steps: int = LOOP_LEAD_STEPS) -> list[str]:
    """Log lines (time order) of every node of ``telemetry``: ``rate`` job lines per node
    and step, and the restart loop (see the module docs)."""
    rng = np.random.default_rng(seed)
    frame = telemetry.frame
    start = frame.timestamps[0].astype("datetime64[s]").astype(np.int64)
    nodes = [e for e in dict.fromkeys(frame.entities) if e.startswith("node")]
    events: list[tuple[float, str]] = []
    n = frame.n_times
    for node in nodes:
        counts = rng.poisson(rate, n)
        steps = np.repeat(np.arange(n), counts)
        seconds = start + steps * STEP_SECONDS + rng.uniform(0, STEP_SECONDS, steps.size)
        jobs = rng.integers(1000, 99999, steps.size)
        kinds = rng.random(steps.size)
        for t, job, kind in zip(seconds.tolist(), jobs.tolist(), kinds.tolist(), strict=True):
            text = (f"sbatchd[{job % 7000 + 300}]: job {job} started on {rng.integers(1, 65)} "
                    f"slots" if kind < 0.5 else f"res[{job % 5000 + 200}]: job {job} finished, "
                    f"exit status {0 if kind < 0.97 else rng.integers(1, 3)}")
            events.append((t, f"{node} {text}"))
    loop = next((i for i in telemetry.incidents if i.name == "daemon-restart-loop"), None)
    if loop is not None:
        node = loop.series[0][0]
        first = loop_start(telemetry, lead_steps)
        for step in range(first, loop.end + 1):
            for k in range(int(rng.integers(4, 8))):  # about one a minute
                t = start + step * STEP_SECONDS + rng.uniform(0, STEP_SECONDS)
                pid = int(rng.integers(2000, 30000))
                events.append((t, f"{node} sbatchd[{pid}]: sbatchd restarted by mbatchd, "
                                  f"previous instance exited with code {k % 2 + 1}"))
    events.sort()
    return [f"{np.datetime64(int(t), 's')}Z {text}" for t, text in events]
