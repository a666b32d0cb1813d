"""Families of failures and look-alikes that the prediction scenario does not hold.

:func:`kizashi.data.precursors.generate_precursors` (and its variants in
:mod:`kizashi.data.precursor_variants`) has four failure kinds and six look-alikes.
A predictor tuned there may have learnt *those* shapes. The families here are other
shapes of the same classes — failures whose precursor builds for hours to days, and
series that look like one but never reach their limit — each parameterised and drawn
from a seed, so the benchmark (``python benchmarks/prediction.py --families``) can
check the lead over ``predict_linear`` on shapes nothing was tuned on.

Failures (metric; limit):

``sawtooth_creep``
    ``log_used_pct`` (100): a rotation sawtooth (period 4–12 h) whose peaks creep up
    1–3 points a cycle until one crosses.
``ripple_fill``
    ``fs_used_pct`` (100): a steady fill to the limit over 5–8 days, with a ±5 % ripple
    of 6 h and a ±2 % daily one.
``gc_leak``
    ``heap_used_pct`` (100): a leak over 12–48 h under a garbage-collector sawtooth
    (period 15–60 min, 6–14 points deep); the OOM when a peak reaches the limit.
``fraction_fill``
    ``gpu_mem_used_ratio`` (a 0–1 share, limit 0.95 given): a leak over 12–36 h.
``power_rise_3h``
    ``fs_used_pct`` (100): flat for days, then ``b + (100.5 − b)·(τ/D)^p`` with
    ``D`` = 2–3 h and ``p`` = 2–3.

Look-alikes (never at their limit, except the one spike of ``outlier_spike``):

``sawtooth_under``
    ``log_used_pct``: a rotation sawtooth (period 4–12 h) whose peaks sit at 93–98 %.
``leak_restarted``
    ``mem_used_pct``: a leak over 12–36 h that a restart ends at 85–93 %, twice.
``steps_plateau``
    ``conntrack_used_pct``: 3–6 steps up, 1–4 h apart, to a plateau of 82–93 %.
``diurnal_touch``
    ``cpu_util_pct``: a daily rhythm whose peak touches 90–98 % every day.
``fraction_steady``
    ``gpu_mem_used_ratio``: steady at 0.85–0.92 (limit 0.95) with a small daily rhythm.
``counter``
    ``disk_written_bytes_total``: a monotone counter (bytes written), no limit.
``outlier_spike``
    ``mem_used_pct``: 40–60 % with one sample at 101–110 % (a bad scrape): the spike is at
    the limit, so a warning that *starts at it* is not false; any other is.

Plus ``normal`` series. :func:`generate_families` puts ``per_family`` series of every
family in one frame; ``irregular=True`` also jitters each timestamp by up to ±30 % of
the step and drops 3 % of the rows (each failure's own row kept).

>>> scenario = generate_families(seed=1, days=5)
>>> len(scenario.failures), len(scenario.lookalikes), scenario.limits["gpu_mem_used_ratio"]
(15, 21, 0.95)
>>> all(scenario.frame.values[f.failure, scenario.frame.keys.index((f.entity, f.metric))]
...     >= scenario.limit(f.metric) for f in scenario.failures)
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kizashi.data.frame import SeriesFrame
from kizashi.data.precursors import (
    START,
    Failure,
    PrecursorScenario,
    _Clock,
    _first_reach,
)

__all__ = ["FAILURE_FAMILIES", "FAMILY_LIMITS", "LOOKALIKE_FAMILIES", "FamilyScenario",
           "generate_families", "leak_after_restart", "make_family_series"]

#: Limits of the families' metrics not ending in ``_pct`` (a counter has none).
FAMILY_LIMITS = {"gpu_mem_used_ratio": 0.95}
FAILURE_FAMILIES = ("sawtooth_creep", "ripple_fill", "gc_leak", "fraction_fill",
                    "power_rise_3h")
LOOKALIKE_FAMILIES = ("sawtooth_under", "leak_restarted", "steps_plateau", "diurnal_touch",
                      "fraction_steady", "counter", "outlier_spike")


@dataclass(frozen=True, eq=False)
class FamilyScenario(PrecursorScenario):
    """A :class:`~kizashi.data.precursors.PrecursorScenario` whose look-alikes may touch
    their limit at known rows: ``spikes`` ``(entity, metric, row)``; a warning that starts
    at such a row is the series at its limit, not a false warning."""

    spikes: tuple[tuple[str, str, int], ...] = ()


def _sawtooth(c: _Clock, period_h: float, phase_h: float) -> tuple[np.ndarray, np.ndarray]:
    """(share of the current cycle gone by in [0, 1), index of the cycle) per row."""
    cycles = (c.hours + phase_h) / period_h
    return cycles % 1.0, np.floor(cycles).astype(int)


def _sawtooth_creep(c: _Clock, first: int) -> tuple[np.ndarray, tuple[int, int]]:
    period = c.rng.uniform(4, 12)
    share, cycle = _sawtooth(c, period, c.rng.uniform(0, period))
    low = c.rng.uniform(20, 35)
    # from the cycle holding row `first + 1.5 days` on, each peak is 1–3 points higher,
    # at least enough for one to cross 2 h before the end
    at = min(first + int(36 * c.per_hour), c.n - 1)
    peak0 = c.rng.uniform(84, 90)
    cycles_left = cycle[c.n - 1 - int(2 * c.per_hour)] - cycle[at]
    creep = max(c.rng.uniform(1, 3), (101.0 - peak0) / max(cycles_left - 1, 1))
    peaks = peak0 + creep * np.clip(cycle - cycle[at], 0, None)
    values = low + (peaks - low) * share + c.noise(0.2)
    f = _first_reach(values, at, 100.0)
    if values[f] < 100.0:  # pragma: no cover - the creep crosses within days
        raise ValueError("sawtooth_creep did not reach its limit")
    start = int(np.flatnonzero(cycle == cycle[at])[0])  # the creep's first cycle
    values[f + 1:] = np.minimum(values[f + 1:], low + (peak0 - low) * share[f + 1:])
    return values, (start, f)


def _sawtooth_under(c: _Clock, first: int) -> np.ndarray:
    period = c.rng.uniform(4, 12)
    share, cycle = _sawtooth(c, period, c.rng.uniform(0, period))
    low = c.rng.uniform(20, 35)
    peaks = c.rng.uniform(93, 98, cycle.max() + 1)[cycle]
    return np.minimum(low + (peaks - low) * share + c.noise(0.2), 99.5)


def _ripple_fill(c: _Clock, first: int) -> tuple[np.ndarray, tuple[int, int]]:
    rows = np.arange(c.n)
    f_at = int(c.n - c.rng.uniform(0.3, 1.2) * 24 * c.per_hour)
    days = c.rng.uniform(5, 8)
    s = max(f_at - int(days * 24 * c.per_hour), 0)
    base = c.rng.uniform(35, 50)
    trend = base + (100.0 - base) * np.clip((rows - s) / (f_at - s), 0, None)
    ripple = 5.0 * np.sin(2 * np.pi * (c.hours / 6.0 + c.rng.uniform(0, 1)))
    daily = 2.0 * c.daily(c.rng.uniform(10, 18))
    values = trend + ripple + daily + c.noise(0.2)
    f = _first_reach(values, s, 100.0)
    values[f + 1:] = base + ripple[f + 1:] + daily[f + 1:]  # cleaned up after the failure
    return values, (s, f)


def _gc_leak(c: _Clock, first: int) -> tuple[np.ndarray, tuple[int, int]]:
    rows = np.arange(c.n)
    period = c.rng.uniform(0.25, 1.0)
    depth = c.rng.uniform(6, 14)
    share, _ = _sawtooth(c, period, c.rng.uniform(0, period))
    floor = c.rng.uniform(30, 45) + c.noise(0.3)
    length = int(c.rng.uniform(12, 48) * c.per_hour)
    latest = c.n - int(2 * c.per_hour)
    s = int(c.rng.integers(first, max(latest - length, first + 1)))
    peak_floor = 100.5 - depth  # the floor at which a peak reaches the limit
    leak = (peak_floor - floor[s]) * np.clip((rows - s) / length, 0, None)
    values = floor + leak + depth * share
    f = _first_reach(values, s, 100.0)
    values = np.where(rows <= f, np.minimum(values, 100.0), floor + depth * share)  # OOM
    return values, (s, f)


def _fraction_fill(c: _Clock, first: int) -> tuple[np.ndarray, tuple[int, int]]:
    limit = FAMILY_LIMITS["gpu_mem_used_ratio"]
    rows = np.arange(c.n)
    base = c.rng.uniform(0.3, 0.5) + c.rng.uniform(0.01, 0.04) * c.daily(14.0) \
        + c.noise(0.005)
    length = int(c.rng.uniform(12, 36) * c.per_hour)
    latest = c.n - int(2 * c.per_hour)
    s = int(c.rng.integers(first, max(latest - length, first + 1)))
    grown = base + (limit + 0.005 - base[min(s + length, c.n - 1)]) * np.clip(
        (rows - s) / length, 0, None)
    f = _first_reach(grown, s, limit)
    values = np.where((rows >= s) & (rows <= f), grown, base)
    return values, (s, f)


def _power_rise_3h(c: _Clock, first: int) -> tuple[np.ndarray, tuple[int, int]]:
    rows = np.arange(c.n)
    base = c.rng.uniform(40, 55)
    length = int(c.rng.uniform(2, 3) * c.per_hour)
    latest = c.n - int(2 * c.per_hour)
    s = int(c.rng.integers(first + int(24 * c.per_hour), latest - length))
    u = np.clip((rows - s) / length, 0, 1)
    values = base + (100.5 - base) * u ** c.rng.uniform(2.0, 3.0) + c.noise(0.15)
    f = _first_reach(values, s, 100.0)
    values[f + int(c.per_hour):] = base + c.noise(0.15)[f + int(c.per_hour):]
    return np.minimum(values, 100.0), (s, f)


def _leak_restarted(c: _Clock, first: int) -> np.ndarray:
    rows = np.arange(c.n)
    base = c.rng.uniform(30, 50) + c.rng.uniform(2, 5) * c.daily(c.rng.uniform(12, 18))
    values = base + c.noise(0.5)
    start = first
    for _ in range(2):
        length = int(c.rng.uniform(12, 36) * c.per_hour)
        if start + length >= c.n - int(6 * c.per_hour):
            break
        top = c.rng.uniform(85, 93)
        ramp = np.clip((rows - start) / length, 0, 1)
        inside = (rows >= start) & (rows < start + length)
        values = np.where(inside, values + (top - base[start + length]) * ramp, values)
        start = start + length + int(c.rng.uniform(12, 36) * c.per_hour)  # restart, later
    return values


def _steps_plateau(c: _Clock, first: int) -> np.ndarray:
    base = c.rng.uniform(30, 45)
    top = c.rng.uniform(82, 93)
    n_steps = int(c.rng.integers(3, 7))
    level = np.full(c.n, base)
    row = int(c.rng.integers(first, c.n - int(36 * c.per_hour)))
    for rise in np.diff(np.r_[0, np.sort(c.rng.uniform(0, 1, n_steps - 1)), 1]) * (top - base):
        level[row:] += rise
        row += int(c.rng.uniform(1, 4) * c.per_hour)
    return level + c.noise(0.3)


def _diurnal_touch(c: _Clock, first: int) -> np.ndarray:
    trough = c.rng.uniform(30, 50)
    peak_hour = c.rng.uniform(13, 17)
    day = np.floor((c.hours - peak_hour + 12) / 24).astype(int)
    peaks = c.rng.uniform(90, 98, day.max() + 2)[day + 1]
    shape = (1 + c.daily(peak_hour)) / 2  # 0 … 1, 1 at the peak
    return np.minimum(trough + (peaks - trough) * shape + c.noise(0.5), 99.5)


def _fraction_steady(c: _Clock, first: int) -> np.ndarray:
    return c.rng.uniform(0.85, 0.92) + 0.01 * c.daily(c.rng.uniform(10, 18)) + c.noise(0.003)


def _counter(c: _Clock, first: int) -> np.ndarray:
    rate = c.rng.uniform(2e6, 5e7) * (1.2 + c.daily(c.rng.uniform(10, 18)))  # bytes/s
    written = rate * c.step * np.exp(c.noise(0.3))
    return c.rng.uniform(1e11, 1e13) + np.cumsum(written)


def _outlier_spike(c: _Clock, first: int) -> np.ndarray:
    values = c.rng.uniform(40, 60) + c.rng.uniform(1, 4) * c.daily(14.0) + c.noise(0.5)
    values[int(c.rng.integers(first, c.n - int(12 * c.per_hour)))] = c.rng.uniform(101, 110)
    return values


def _normal(c: _Clock, first: int) -> np.ndarray:
    return c.rng.uniform(20, 60) + c.rng.uniform(2, 10) * c.daily(14.0) + c.ar(0.95, 1.5)


_FAILURES: dict[str, tuple[str, Callable]] = {
    "sawtooth_creep": ("log_used_pct", _sawtooth_creep),
    "ripple_fill": ("fs_used_pct", _ripple_fill),
    "gc_leak": ("heap_used_pct", _gc_leak),
    "fraction_fill": ("gpu_mem_used_ratio", _fraction_fill),
    "power_rise_3h": ("fs_used_pct", _power_rise_3h),
}
_LOOKALIKES: dict[str, tuple[str, Callable]] = {
    "sawtooth_under": ("log_used_pct", _sawtooth_under),
    "leak_restarted": ("mem_used_pct", _leak_restarted),
    "steps_plateau": ("conntrack_used_pct", _steps_plateau),
    "diurnal_touch": ("cpu_util_pct", _diurnal_touch),
    "fraction_steady": ("gpu_mem_used_ratio", _fraction_steady),
    "counter": ("disk_written_bytes_total", _counter),
    "outlier_spike": ("mem_used_pct", _outlier_spike),
}


def make_family_series(family: str, n: int, step_seconds: float = 300.0, seed: int = 0,
                       first_row: int = 0) -> tuple[str, np.ndarray, tuple[int, int] | None]:
    """One series of ``family`` (or ``normal``): its metric, its values and, for a failure,
    ``(precursor start, failure)`` rows.

    >>> metric, values, (start, failure) = make_family_series("ripple_fill", 2304, seed=2)
    >>> metric, bool(values[failure] >= 100 > values[start:failure].max())
    ('fs_used_pct', True)
    """
    clock = _Clock(n, step_seconds, np.random.default_rng(seed))
    if family in _FAILURES:
        metric, make = _FAILURES[family]
        values, rows = make(clock, first_row)
        return metric, values, rows
    if family in _LOOKALIKES:
        metric, make = _LOOKALIKES[family]
        return metric, make(clock, first_row), None
    if family == "normal":
        return "mem_used_pct", _normal(clock, first_row), None
    raise ValueError(f"unknown scenario family {family!r}; known: "
                     f"{', '.join((*FAILURE_FAMILIES, *LOOKALIKE_FAMILIES, 'normal'))}")


def generate_families(seed: int = 0, days: int = 8, step_seconds: float = 300.0,
                      per_family: int = 3, n_normal: int = 3, min_history_days: float = 1.5,
                      families: tuple[str, ...] | None = None,
                      irregular: bool = False) -> FamilyScenario:
    """``per_family`` series of each family (all by default) and ``n_normal`` normal ones,
    each on its own node; deterministic in ``seed`` (see the module docs)."""
    if days < 3 or min_history_days >= days - 1.5:
        raise ValueError("need at least 3 days, and 1.5 days after min_history_days")
    chosen = families or (*FAILURE_FAMILIES, *LOOKALIKE_FAMILIES)
    n = int(days * 86400 / step_seconds)
    first = int(min_history_days * 86400 / step_seconds)
    plan = [kind for kind in chosen for _ in range(per_family)] + ["normal"] * n_normal
    order = np.random.default_rng(seed).permutation(len(plan))
    columns, entities, metrics, failures, lookalikes, spikes = [], [], [], [], [], []
    for node, index in enumerate(order):
        kind = plan[index]
        entity = f"node{node + 1:03d}"
        metric, values, rows = make_family_series(kind, n, step_seconds,
                                                  seed=[seed, int(index), 15], first_row=first)
        if rows is not None:
            failures.append(Failure(entity, metric, kind, *rows))
        elif kind != "normal":
            lookalikes.append((entity, metric, kind))
            if kind == "outlier_spike":
                spikes.append((entity, metric, int(np.argmax(values))))
        columns.append(values)
        entities.append(entity)
        metrics.append(metric)
    stamps = START + (np.arange(n) * step_seconds * 1e9).astype("timedelta64[ns]")
    frame = SeriesFrame(stamps, np.column_stack(columns), tuple(entities), tuple(metrics),
                        name=f"precursor families seed {seed}")
    scenario = FamilyScenario(frame, tuple(failures), tuple(lookalikes), dict(FAMILY_LIMITS),
                              float(step_seconds), tuple(spikes))
    return _irregular(scenario, seed) if irregular else scenario


def _irregular(scenario: FamilyScenario, seed: int) -> FamilyScenario:
    """Each timestamp moved by up to ±30 % of the step, and 3 % of the rows dropped (each
    failure's and spike's own row kept)."""
    rng = np.random.default_rng([seed, 17])
    frame = scenario.frame
    n = frame.n_times
    keep = rng.random(n) >= 0.03
    keep[[f.failure for f in scenario.failures] + [row for _, _, row in scenario.spikes]] = True
    rows = np.flatnonzero(keep)
    jitter = rng.uniform(-0.3, 0.3, n) * scenario.step_seconds * 1e9
    stamps = frame.timestamps + jitter.astype("timedelta64[ns]")

    def new_row(old: int) -> int:
        return int(np.searchsorted(rows, old))

    frame = dataclasses.replace(frame, timestamps=stamps[rows], values=frame.values[rows],
                                name=f"{frame.name}, irregular")
    failures = tuple(dataclasses.replace(f, precursor_start=new_row(f.precursor_start),
                                         failure=new_row(f.failure))
                     for f in scenario.failures)
    spikes = tuple((e, m, new_row(r)) for e, m, r in scenario.spikes)
    return dataclasses.replace(scenario, frame=frame, failures=failures, spikes=spikes)


def leak_after_restart(seed: int = 7, days: int = 8) -> tuple[SeriesFrame, list[tuple[int, int]]]:
    """A leak (12, 24 or 36 h) to 85, 89 or 93 % that a restart ends (``leak_restarted``),
    then, 12 or 24 h later, the same leak again, this time to 100 % (an OOM, and a fresh
    start): 18 ``mem_used_pct`` series of 5-minute rows, and per series the rows where
    its second leak starts and crosses 100. The failure a cycle gate must not hold back
    because of one earlier restart.

    >>> frame, spans = leak_after_restart()
    >>> frame.values.shape, len(spans)
    ((2304, 18), 18)
    >>> start, crossing = spans[0]
    >>> bool(frame.values[crossing, 0] >= 100 > frame.values[crossing - 1, 0])
    True
    """
    rng = np.random.default_rng(seed)
    n, per_hour = days * 288, 12
    columns, spans = [], []
    for hours in (12, 24, 36):
        for top in (85.0, 89.0, 93.0):
            for gap in (12, 24):
                t = np.arange(n)
                v = 40 + 3 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 0.5, n)
                first, length = 2 * 288, hours * per_hour
                rate = (top - 40) / length
                v[first:first + length] += rate * np.arange(length)
                second = first + length + gap * per_hour
                v[second:] += rate * np.arange(n - second)
                crossing = second + int(np.argmax(v[second:] >= 100))
                v[crossing + 1:] = 40 + rng.normal(0, 0.5, n - crossing - 1)  # OOM, restart
                columns.append(v)
                spans.append((second, crossing))
    stamps = START + (np.arange(n) * 300).astype("timedelta64[s]")
    frame = SeriesFrame(timestamps=stamps, values=np.array(columns).T,
                        entities=tuple(f"node{i:02d}" for i in range(len(columns))),
                        metrics=("mem_used_pct",) * len(columns))
    return frame, spans
