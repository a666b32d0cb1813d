"""A seeded computing-centre scenario: weeks of telemetry, many nodes, incidents with ground truth.

Closer to a real centre than :mod:`kizashi.data.cluster` (the demo's month), for
measuring how often a detector raises a *false* alarm, not only whether it
catches incidents:

* ``n_nodes`` worker nodes, each reporting CPU utilisation (%), memory used (%),
  filesystem (GPFS-like) response time (ms) and restarts of its batch (LSF-like)
  daemon per 5-minute step; the batch system reports pending jobs;
* a **daily** rhythm (busy office hours), a **weekly** one (quiet weekends),
  **holidays** (weekdays that look like a Sunday) and a **quiet season** (from
  about 55 % of the run activity drops by 40 % over two days, as when people
  come and go in April);
* jobs: each node's load moves between job levels at random times (hours
  apart), so level changes of one node are normal;
* incidents of the kinds KEK's operators named, and single-node faults, at
  seeded times after the first ``learn_days`` (nothing overlaps):

  ========================  ====================================================
  ``daemon-restart-loop``   one node's batch daemon restarts 1–3 times a step for
                            3–8 h; its CPU falls idle
  ``filesystem-delay``      4–8 nodes' filesystem responses 5–8× slower, 1–3 h
  ``tape-staging-wait``     pending jobs climb by 300–500 over 6–12 h while every
                            node's CPU idles
  ``filesystem-hang``       every node's filesystem stalls (150–300×), CPUs stop,
                            30–60 min
  ``memory-leak``           one node's memory climbs to ~98 % over 6–24 h, then
                            the process is killed
  ``runaway-process``       one node's CPU pinned near 100 % for 4–12 h
  ========================  ====================================================

Each :class:`CentreIncident` names the series on which it must be **caught**
(``series``) and every series it legitimately disturbs (``affected``: an alert
there is explained, not false). :func:`kizashi.evaluation.centre.score_centre`
counts incidents caught and false-alarm runs per week.

>>> centre = generate_centre(n_nodes=6, weeks=3, seed=1)
>>> centre.frame.n_series, centre.frame.n_times, len(centre.incidents)
(25, 6048, 6)
>>> sorted({i.kind for i in centre.incidents}) == sorted(INCIDENT_KINDS)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kizashi.data.cluster import assemble_centre_frame, node_name
from kizashi.data.frame import SeriesFrame

__all__ = ["INCIDENT_KINDS", "CentreIncident", "CentreScenario", "generate_centre"]

START = np.datetime64("2026-03-02T00:00:00", "ns")  # a Monday
STEP_SECONDS = 300
STEPS_PER_DAY = 86400 // STEP_SECONDS
STEPS_PER_HOUR = STEPS_PER_DAY // 24
METRICS = ("cpu_util", "mem_used_pct", "fs_latency_ms", "daemon_restarts")
INCIDENT_KINDS = ("daemon-restart-loop", "filesystem-delay", "tape-staging-wait",
                  "filesystem-hang", "memory-leak", "runaway-process")


@dataclass(frozen=True)
class CentreIncident:
    """An injected incident: its kind, rows ``start``–``end`` (inclusive) and its series."""

    kind: str
    description: str
    start: int
    end: int
    series: tuple[tuple[str, str], ...]  #: where it must be caught (any one of them)
    affected: tuple[tuple[str, str], ...]  #: every series it disturbs (alerts there are true)


@dataclass(frozen=True, eq=False)
class CentreScenario:
    """The telemetry (labels mark the ``series`` of each incident), incidents and calendar."""

    frame: SeriesFrame
    incidents: tuple[CentreIncident, ...]
    holidays: tuple[int, ...]  #: day numbers (0 = the first Monday)
    quiet_season_start: int  #: row where the quiet season begins
    learn_days: int  #: days before the first incident (false alarms are counted after them)
    utc_offset_hours: float = 0.0  #: the centre's local time is UTC plus this

    @property
    def timezone(self) -> str:
        """The local time's offset as ``+HH:MM`` (the day profile's ``timezone``)."""
        minutes = round(self.utc_offset_hours * 60)
        sign = "-" if minutes < 0 else "+"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    @property
    def weeks_scored(self) -> float:
        """Weeks over which false alarms are counted (the run after ``learn_days``)."""
        return (self.frame.n_times - self.learn_days * STEPS_PER_DAY) / (7 * STEPS_PER_DAY)


def generate_centre(n_nodes: int = 24, weeks: int = 8, seed: int = 0, incidents: bool = True,
                    per_kind: int | None = None, learn_days: int = 10, *, noise: float = 1.0,
                    quiet_start: float = 0.55, quiet_days: float | None = None,
                    quiet_drop: float = 0.4, extra_holidays: tuple[int, ...] = (),
                    utc_offset_hours: float = 0.0) -> CentreScenario:
    """Generate ``weeks`` of 5-minute telemetry of ``n_nodes`` nodes (see the module docs).

    ``per_kind`` incidents of each kind are injected (default: one per kind for
    runs of under 6 weeks, else two). The keyword-only arguments make variants
    (:mod:`kizashi.data.centre_variants`); their defaults give the scenario above,
    draw for draw:

    * ``noise`` multiplies every metric's noise (its spread, not its rhythm);
    * the quiet season starts at the day ``quiet_start`` of the way through the
      run, lowers activity by ``quiet_drop`` over two days and, with
      ``quiet_days``, ends that many days later (activity comes back over two days);
    * ``extra_holidays``: more day numbers (0 = the first Monday) that look like a
      Sunday, besides the drawn ones;
    * ``utc_offset_hours``: the centre's local time is UTC plus this; its rhythms
      and days off follow local time while the timestamps stay UTC (day numbers
      are local days).
    """
    if n_nodes < 4:
        raise ValueError(f"need at least 4 nodes, got {n_nodes}")
    if weeks < 2 or learn_days < 1 or learn_days >= 7 * weeks - 2:
        raise ValueError("need at least 2 weeks and a learning period shorter than the run")
    if not (noise >= 0 and 0 <= quiet_start <= 1 and 0 <= quiet_drop < 1):
        raise ValueError("need noise >= 0, quiet_start in [0, 1] and quiet_drop in [0, 1)")
    if quiet_days is not None and quiet_days < 2:
        raise ValueError(f"a quiet season lasts at least 2 days, got {quiet_days}")
    if abs(utc_offset_hours) > 14:
        raise ValueError(f"a UTC offset is within ±14 hours, got {utc_offset_hours}")
    rng = np.random.default_rng(seed)
    days = 7 * weeks
    n = days * STEPS_PER_DAY
    step = np.arange(n)
    local = step + round(utc_offset_hours * STEPS_PER_HOUR)  # local time, in steps
    day = local // STEPS_PER_DAY
    hour = (local % STEPS_PER_DAY) / STEPS_PER_HOUR
    weekday = day % 7
    workdays = np.flatnonzero(np.arange(days) % 7 < 5)
    holidays = tuple(sorted(int(d) for d in rng.choice(workdays[workdays >= 7],
                                                       size=max(1, weeks // 3),
                                                       replace=False)))
    holidays = tuple(sorted(set(holidays) | {int(d) for d in extra_holidays}))
    off = (weekday >= 5) | np.isin(day, holidays)
    daily = 0.55 + 0.45 * np.clip(np.sin((hour - 7.0) / 24.0 * 2 * np.pi) * 1.5, -1, 1)
    daily = 0.55 + 0.45 * (daily - 0.1) / 0.9
    activity = daily * np.where(off, 0.6, 1.0)
    quiet_row = int(days * quiet_start) * STEPS_PER_DAY
    ramp = 2 * STEPS_PER_DAY
    season = 1.0 - quiet_drop * np.clip((local - quiet_row) / ramp, 0.0, 1.0)
    if quiet_days is not None:
        back = quiet_row + int(quiet_days * STEPS_PER_DAY)
        season = season + quiet_drop * np.clip((local - back) / ramp, 0.0, 1.0)
    activity = activity * season

    jobs = _job_levels(rng, n, n_nodes)
    base = rng.uniform(60, 85, n_nodes)
    cpu = base * activity[:, None] * jobs
    cpu = cpu + noise * rng.normal(0, 2.5, (n, n_nodes)) + noise * _ar_noise(rng, n, n_nodes,
                                                                           0.95, 1.0)
    mem = rng.uniform(25, 45, n_nodes) + 25 * activity[:, None] * jobs
    mem = mem + noise * _ar_noise(rng, n, n_nodes, 0.99, 0.4) + noise * rng.normal(0, 0.8,
                                                                           (n, n_nodes))
    latency = rng.uniform(2.0, 4.0, n_nodes) * (1 + 0.5 * activity[:, None] * jobs)
    latency = latency * np.exp(noise * rng.normal(0, 0.12, (n, n_nodes)))
    restarts = (rng.random((n, n_nodes)) < 0.0015).astype(float)
    queue = (150 * activity + noise * _ar_noise(rng, n, 1, 0.99, 3.0)[:, 0]
             + noise * rng.normal(0, 5.0, n))

    events: list[CentreIncident] = []
    if incidents:
        count = per_kind if per_kind is not None else (1 if weeks < 6 else 2)
        kinds = [k for k in INCIDENT_KINDS for _ in range(count)]
        rng.shuffle(kinds)
        lengths = {"daemon-restart-loop": (3, 8), "filesystem-delay": (1, 3),
                   "tape-staging-wait": (6, 12), "filesystem-hang": (0.5, 1.0),
                   "memory-leak": (6, 24), "runaway-process": (4, 12)}
        slots = _slots(rng, len(kinds), learn_days * STEPS_PER_DAY, n - STEPS_PER_DAY)
        for kind, at in zip(kinds, slots, strict=True):
            low, high = lengths[kind]
            length = int(rng.uniform(low, high) * STEPS_PER_HOUR)
            start, end = int(at), int(at) + length - 1
            node = int(rng.integers(n_nodes))
            events.append(_inject(kind, rng, start, end, node, n_nodes, cpu, mem, latency,
                                  restarts, queue))

    cpu = np.clip(cpu, 0.0, 100.0)
    mem = np.clip(mem, 0.0, 100.0)
    queue = np.maximum(queue, 0.0)
    node_metrics = dict(zip(METRICS, (cpu, mem, latency, restarts), strict=True))
    timestamps = START + (step * STEP_SECONDS).astype("timedelta64[s]")
    frame = assemble_centre_frame(timestamps, node_metrics, queue, events,
                                  f"centre seed {seed}")
    events.sort(key=lambda e: e.start)
    return CentreScenario(frame, tuple(events), holidays, quiet_row, learn_days,
                          utc_offset_hours)


def _inject(kind: str, rng: np.random.Generator, start: int, end: int, node: int,
            n_nodes: int, cpu: np.ndarray, mem: np.ndarray, latency: np.ndarray,
            restarts: np.ndarray, queue: np.ndarray) -> CentreIncident:
    """Change the arrays in place for one incident and describe it."""
    span = slice(start, end + 1)
    length = end - start + 1
    name = node_name(node)
    every_cpu = tuple((node_name(i), "cpu_util") for i in range(n_nodes))
    if kind == "daemon-restart-loop":
        restarts[span, node] = rng.integers(1, 4, length)
        cpu[span, node] *= 0.25
        return CentreIncident(kind, f"batch daemon restarting in a loop on {name}", start, end,
                              ((name, "daemon_restarts"),),
                              ((name, "daemon_restarts"), (name, "cpu_util"),
                               (name, "mem_used_pct")))
    if kind == "filesystem-delay":
        size = int(rng.integers(4, 9))
        group = sorted(int(g) for g in rng.choice(n_nodes, size=min(size, n_nodes),
                                                  replace=False))
        latency[span, group] *= rng.uniform(5, 8, (length, len(group)))
        keys = tuple((node_name(g), "fs_latency_ms") for g in group)
        return CentreIncident(kind, f"filesystem responses delayed on {len(group)} nodes",
                              start, end, keys, keys)
    if kind == "tape-staging-wait":
        ramp = np.linspace(0, 1, length)
        queue[span] += rng.uniform(300, 500) * ramp
        cpu[span] *= (1 - 0.5 * ramp)[:, None]
        return CentreIncident(kind, "jobs waiting on tape staging: queue grows, CPUs idle",
                              start, end, (("batch", "pending_jobs"),),
                              (("batch", "pending_jobs"), *every_cpu))
    if kind == "filesystem-hang":
        latency[span] *= rng.uniform(150, 300, (length, n_nodes))
        cpu[span] = rng.uniform(1, 4, (length, n_nodes))
        keys = tuple((node_name(i), "fs_latency_ms") for i in range(n_nodes))
        return CentreIncident(kind, "filesystem hang: every node stalls", start, end, keys,
                              keys + every_cpu)
    if kind == "memory-leak":
        ramp = np.linspace(0, 1, length)
        mem[span, node] = mem[span, node] + (98.0 - mem[span, node]) * ramp ** 1.5
        return CentreIncident(kind, f"memory leak on {name}", start, end,
                              ((name, "mem_used_pct"),), ((name, "mem_used_pct"),))
    if kind == "runaway-process":
        cpu[span, node] = rng.uniform(96, 100, length)
        return CentreIncident(kind, f"runaway process pins the CPU of {name}", start, end,
                              ((name, "cpu_util"),), ((name, "cpu_util"),))
    raise ValueError(f"unknown incident kind {kind!r}")


#: Room each incident needs: the longest one (24 h) and a quiet hour after it.
ROOM = 25 * STEPS_PER_HOUR


def _slots(rng: np.random.Generator, k: int, first: int, last: int) -> np.ndarray:
    """``k`` sorted start rows in ``[first, last)``, one per equal stretch (none overlap)."""
    edges = np.linspace(first, last, k + 1)
    width = edges[1] - edges[0]
    if width < ROOM:
        raise ValueError(f"{k} incidents do not fit in the run: make it longer or inject fewer")
    return (edges[:-1] + rng.uniform(0, 1, k) * (width - ROOM)).astype(int)


def _job_levels(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Per node, a load level in [0.7, 1.0] that changes at random, hours apart."""
    out = np.empty((n, k))
    for j in range(k):
        changes = np.flatnonzero(rng.random(n) < 1.0 / (8 * STEPS_PER_HOUR))
        levels = rng.uniform(0.7, 1.0, changes.size + 1)
        out[:, j] = levels[np.searchsorted(changes, np.arange(n), side="right")]
    return out


def _ar_noise(rng: np.random.Generator, n: int, k: int, phi: float, sigma: float) -> np.ndarray:
    """AR(1) noise (slow wander), vectorised over columns."""
    from scipy.signal import lfilter

    return lfilter([1.0], [1.0, -phi], rng.normal(0, sigma, (n, k)), axis=0)
