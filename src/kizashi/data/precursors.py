"""Seeded scenarios for *prediction*: failures whose precursors build up, and look-alikes.

A centre's nodes report a handful of saturating metrics every ``step_seconds``
for ``days`` days. Some series **fail**: a precursor starts at a known row and
grows until the series reaches its limit at a known row (the failure), after
which the node recovers. Others are **look-alikes**: they look like the start
of a failure — they rise, sit high, or cycle up to near the limit — but never
reach it. A good predictor warns during a failure's precursor, early, and never
on a look-alike.

Failures (``kind``; metric; limit):

``memory_leak``
    ``mem_used_pct`` (100): a steady leak over 12–48 h on top of the daily
    rhythm, ending in an OOM kill that frees the memory.
``filesystem_filling``
    ``fs_used_pct`` (100): a runaway writer filling faster and faster
    (power 2–3 in time) over 6–36 h; cleaned an hour after it is full.
``thermal_drift``
    ``cpu_temp_c`` (:data:`LIMITS`, 90 °C): a failing fan, the temperature
    drifting to the trip point over 8–30 h; the node powers off and cools.
``staircase_leak``
    ``conntrack_used_pct`` (100): a table filling in steps (batches of leaked
    entries every 20–120 min) over 12–36 h.

Look-alikes (never reach their limit):

``growth_stops``
    ``fs_used_pct`` rises for 4–16 h (a data copy) and stops at 80–93 %.
``nightly_cleanup``
    ``scratch_used_pct`` fills during the day to 75–93 % and is emptied at
    03:00 every night.
``log_rotation``
    ``log_used_pct`` grows and drops at the daily rotation (00:00), peaks
    55–90 %.
``high_steady``
    ``mem_used_pct`` sitting at 90–96 % with little noise.
``noisy_near_limit``
    ``cpu_temp_c`` wandering (AR noise) around 78–82 °C under a 90 °C trip.
``daily_cycle``
    ``cpu_temp_c`` with a wide daily rhythm peaking at 84–88 °C.

Plus ``normal`` series far from any limit. Every series starts with at least
``min_history_days`` of normal behaviour before any precursor.

>>> scenario = generate_precursors(seed=1, days=4)
>>> scenario.frame.n_times, len(scenario.failures) > 0, len(scenario.lookalikes) > 0
(1152, True, True)
>>> f = scenario.failures[0]
>>> j = scenario.frame.keys.index((f.entity, f.metric))
>>> bool(scenario.frame.values[f.failure, j] >= scenario.limit(f.metric))
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kizashi.data.frame import SeriesFrame

__all__ = ["FAILURE_KINDS", "LIMITS", "LOOKALIKE_KINDS", "Failure", "PrecursorScenario",
           "default_limit", "generate_precursors", "make_series"]

START = np.datetime64("2026-04-06T00:00:00", "ns")  # a Monday
#: Limits of the scenario's metrics that do not end in ``_pct`` (those default to 100).
LIMITS = {"cpu_temp_c": 90.0}
FAILURE_KINDS = ("memory_leak", "filesystem_filling", "thermal_drift", "staircase_leak")
LOOKALIKE_KINDS = ("growth_stops", "nightly_cleanup", "log_rotation", "high_steady",
                   "noisy_near_limit", "daily_cycle")
HOUR = 3600.0


def default_limit(metric: str, limits: dict[str, float] | None = None) -> float | None:
    """The limit of ``metric``: given in ``limits``, else 100 for ``*_pct``, else None.

    >>> default_limit("fs_used_pct"), default_limit("cpu_temp_c", LIMITS), default_limit("load")
    (100.0, 90.0, None)
    """
    if limits and metric in limits:
        return float(limits[metric])
    return 100.0 if metric.endswith("_pct") else None


@dataclass(frozen=True)
class Failure:
    """A failing series: its precursor starts at row ``precursor_start`` and it
    reaches its limit at row ``failure``."""

    entity: str
    metric: str
    kind: str
    precursor_start: int
    failure: int


@dataclass(frozen=True, eq=False)
class PrecursorScenario:
    """The generated frame, the failures, the look-alikes ``(entity, metric, kind)``,
    and the limits of metrics not ending in ``_pct``."""

    frame: SeriesFrame
    failures: tuple[Failure, ...]
    lookalikes: tuple[tuple[str, str, str], ...]
    limits: dict[str, float]
    step_seconds: float

    def limit(self, metric: str) -> float | None:
        """The limit of ``metric`` in this scenario."""
        return default_limit(metric, self.limits)

    def failure_ahead(self, horizon_steps: int) -> np.ndarray:
        """Boolean ``(T, S)``: True where the series fails within the next
        ``horizon_steps`` steps (rows ``failure - horizon_steps … failure - 1``)."""
        truth = np.zeros(self.frame.values.shape, dtype=bool)
        keys = self.frame.keys
        for f in self.failures:
            truth[max(f.failure - horizon_steps, 0): f.failure, keys.index((f.entity, f.metric))] \
                = True
        return truth


@dataclass
class _Clock:
    n: int
    step: float
    rng: np.random.Generator
    #: (shortest, longest) precursor in hours for every failure kind; None: each kind's own
    precursor_hours: tuple[float, float] | None = None

    @property
    def hours(self) -> np.ndarray:
        return np.arange(self.n) * self.step / HOUR

    @property
    def per_hour(self) -> float:
        return HOUR / self.step

    def daily(self, peak_hour: float) -> np.ndarray:
        """A daily rhythm in [-1, 1] peaking at ``peak_hour``."""
        return np.cos(2 * np.pi * (self.hours - peak_hour) / 24.0)

    def ar(self, phi: float, sd: float) -> np.ndarray:
        """AR(1) noise with marginal standard deviation ``sd``."""
        from scipy.signal import lfilter

        shocks = self.rng.normal(0, sd * np.sqrt(1 - phi ** 2), self.n)
        return lfilter([1.0], [1.0, -phi], shocks)

    def noise(self, sd: float) -> np.ndarray:
        return self.rng.normal(0, sd, self.n)


def _failure_rows(clock: _Clock, lo_h: float, hi_h: float, first: int) -> tuple[int, int]:
    """(precursor start, failure) rows: a precursor of lo_h–hi_h hours after ``first``
    (the clock's ``precursor_hours`` instead, when set)."""
    if clock.precursor_hours is not None:
        lo_h, hi_h = clock.precursor_hours
    length = int(clock.rng.uniform(lo_h, hi_h) * clock.per_hour)
    latest = clock.n - int(2 * clock.per_hour)
    start = int(clock.rng.integers(first, max(latest - length, first + 1)))
    return start, min(start + length, latest)


def _first_reach(values: np.ndarray, start: int, limit: float) -> int:
    """The first row from ``start`` on where ``values`` reach ``limit``."""
    return start + int(np.argmax(values[start:] >= limit))


def _memory_leak(c: _Clock, first: int) -> tuple[np.ndarray, tuple[int, int]]:
    base = c.rng.uniform(30, 55) + c.rng.uniform(2, 7) * c.daily(c.rng.uniform(12, 18))
    base = base + c.noise(0.8)
    s, f = _failure_rows(c, 12, 48, first)
    ramp = np.clip((np.arange(c.n) - s) / (f - s), 0, None)
    grown = np.minimum(base + (100.5 - base[f]) * ramp, 100.0)
    f = _first_reach(grown, s, 100.0)
    values = np.where((np.arange(c.n) >= s) & (np.arange(c.n) <= f), grown, base)
    return np.clip(values, 0, 100), (s, f)  # the OOM kill frees the memory after f


def _filesystem_filling(c: _Clock, first: int) -> tuple[np.ndarray, tuple[int, int]]:
    base = c.rng.uniform(40, 70) + 0.02 * c.hours / 24 + c.noise(0.15)
    s, f = _failure_rows(c, 6, 36, first)
    power = c.rng.uniform(2.0, 3.0)
    u = np.clip((np.arange(c.n) - s) / (f - s), 0, 1)
    grown = np.minimum(base + (100.5 - base) * u ** power, 100.0)
    f = _first_reach(grown, s, 100.0)
    values = np.where(np.arange(c.n) >= s, grown, base)
    values[f:f + int(c.per_hour)] = 100.0
    values[f + int(c.per_hour):] = base[f + int(c.per_hour):]  # cleaned an hour later
    return values, (s, f)


def _thermal_drift(c: _Clock, first: int) -> tuple[np.ndarray, tuple[int, int]]:
    limit = LIMITS["cpu_temp_c"]
    base = c.rng.uniform(55, 65) + c.rng.uniform(2, 4) * c.daily(15.0) + c.ar(0.9, 0.6)
    s, f = _failure_rows(c, 8, 30, first)
    u = np.clip((np.arange(c.n) - s) / (f - s), 0, None) ** c.rng.uniform(1.0, 1.5)
    grown = base + (limit + 0.5 - base[f]) * u
    f = _first_reach(grown, s, limit)
    values = np.where(np.arange(c.n) >= s, grown, base)
    off = int(c.rng.uniform(1, 3) * c.per_hour)  # powered off, cooling, then back
    values[f + 1:f + 1 + off] = 30.0 + c.noise(0.5)[f + 1:f + 1 + off]
    values[f + 1 + off:] = base[f + 1 + off:]
    return values, (s, f)


def _staircase_leak(c: _Clock, first: int) -> tuple[np.ndarray, tuple[int, int]]:
    base = c.rng.uniform(20, 40) + c.rng.uniform(1, 4) * c.daily(14.0) + c.noise(0.5)
    s, f = _failure_rows(c, 12, 36, first)
    level = np.zeros(c.n)
    row = s
    while row < f:
        level[row:] += c.rng.uniform(0.5, 1.5)
        row += int(c.rng.uniform(1 / 3, 2) * c.per_hour)
    grown = np.minimum(base + level * (100.5 - base[f]) / level[f], 100.0)
    f = _first_reach(grown, s, 100.0)
    values = np.where((np.arange(c.n) >= s) & (np.arange(c.n) <= f), grown, base)
    return values, (s, f)  # the table is flushed after f


def _growth_stops(c: _Clock, first: int) -> np.ndarray:
    base = c.rng.uniform(35, 60)
    s = int(c.rng.integers(first, c.n - int(30 * c.per_hour)))
    length = int(c.rng.uniform(4, 16) * c.per_hour)
    top = c.rng.uniform(80, 93)
    u = np.clip((np.arange(c.n) - s) / length, 0, 1)
    shape = 1 - (1 - u) ** c.rng.uniform(1.0, 2.0)  # linear to decelerating
    return base + (top - base) * shape + c.noise(0.15)


def _nightly_cleanup(c: _Clock, first: int) -> np.ndarray:
    since = (c.hours - 3.0) % 24.0  # hours since the 03:00 cleanup
    day = ((c.hours - 3.0) // 24.0).astype(int)
    low = c.rng.uniform(5, 20)
    peaks = c.rng.uniform(75, 93, day.max() + 2)[day + 1]
    shape = (since / 24.0) ** c.rng.uniform(0.8, 1.6, day.max() + 2)[day + 1]
    return low + (peaks - low) * shape + c.noise(0.3)


def _log_rotation(c: _Clock, first: int) -> np.ndarray:
    since = c.hours % 24.0
    day = (c.hours // 24.0).astype(int)
    low = c.rng.uniform(10, 25)
    peaks = c.rng.uniform(55, 90, day.max() + 1)[day]
    busy = 0.5 + 0.5 * np.clip(np.sin(2 * np.pi * (since - 6) / 24.0), 0, 1)  # logs by day
    total = np.cumsum(busy)
    day_start = np.searchsorted(day, day)  # first row of each row's day
    growth = total - total[day_start] + busy[day_start]
    full_day = np.cumsum(busy[: round(24 * c.per_hour)])[-1]
    return low + (peaks - low) * growth / full_day + c.noise(0.2)


def _high_steady(c: _Clock, first: int) -> np.ndarray:
    return c.rng.uniform(90, 96) + c.noise(0.3)


def _noisy_near_limit(c: _Clock, first: int) -> np.ndarray:
    values = c.rng.uniform(78, 82) + c.ar(0.97, 1.5) + c.noise(0.4)
    return np.minimum(values, LIMITS["cpu_temp_c"] - 1.0)


def _daily_cycle(c: _Clock, first: int) -> np.ndarray:
    peak = c.rng.uniform(84, 88)
    amplitude = c.rng.uniform(8, 14)
    return peak - amplitude + amplitude * c.daily(c.rng.uniform(13, 17)) + c.noise(0.5)


def _normal(c: _Clock, first: int) -> np.ndarray:
    return c.rng.uniform(20, 60) + c.rng.uniform(2, 10) * c.daily(14.0) + c.ar(0.95, 1.5)


_FAILURES: dict[str, tuple[str, Callable]] = {
    "memory_leak": ("mem_used_pct", _memory_leak),
    "filesystem_filling": ("fs_used_pct", _filesystem_filling),
    "thermal_drift": ("cpu_temp_c", _thermal_drift),
    "staircase_leak": ("conntrack_used_pct", _staircase_leak),
}
_LOOKALIKES: dict[str, tuple[str, Callable]] = {
    "growth_stops": ("fs_used_pct", _growth_stops),
    "nightly_cleanup": ("scratch_used_pct", _nightly_cleanup),
    "log_rotation": ("log_used_pct", _log_rotation),
    "high_steady": ("mem_used_pct", _high_steady),
    "noisy_near_limit": ("cpu_temp_c", _noisy_near_limit),
    "daily_cycle": ("cpu_temp_c", _daily_cycle),
}


def make_series(kind: str, n: int, step_seconds: float = 300.0, seed: int = 0,
                first_row: int = 0) -> tuple[np.ndarray, tuple[int, int] | None]:
    """One series of ``kind`` (a failure or look-alike kind, or ``normal``): its values
    and, for a failure, ``(precursor start, failure)`` rows (the precursor starts at or
    after ``first_row``).

    >>> values, (start, failure) = make_series("memory_leak", 2000, seed=3, first_row=500)
    >>> bool(values[failure] >= 100 > values[:failure].max()), start >= 500
    (True, True)
    """
    clock = _Clock(n, step_seconds, np.random.default_rng(seed))
    if kind in _FAILURES:
        values, rows = _FAILURES[kind][1](clock, first_row)
        return values, rows
    if kind in _LOOKALIKES:
        return _LOOKALIKES[kind][1](clock, first_row), None
    if kind == "normal":
        return _normal(clock, first_row), None
    raise ValueError(f"unknown series kind {kind!r}; known: "
                     f"{', '.join((*FAILURE_KINDS, *LOOKALIKE_KINDS, 'normal'))}")


def generate_precursors(seed: int = 0, days: int = 8, step_seconds: float = 300.0,
                        per_kind: int = 3, n_normal: int = 6,
                        min_history_days: float = 1.5,
                        precursor_hours: tuple[float, float] | None = None
                        ) -> PrecursorScenario:
    """Generate a prediction scenario (see the module docs); deterministic in ``seed``.

    ``per_kind`` series of every failure and look-alike kind, ``n_normal``
    normal series, each on its own node (``node001`` …). ``precursor_hours``
    (shortest, longest) replaces every failure kind's own precursor length
    (faster or slower failures than the defaults).
    """
    if days < 3 or min_history_days >= days - 1.5:
        raise ValueError("need at least 3 days, and 1.5 days after min_history_days")
    if step_seconds <= 0 or step_seconds > HOUR:
        raise ValueError("step_seconds must be in (0, 3600]")
    if precursor_hours is not None and not 0 < precursor_hours[0] <= precursor_hours[1]:
        raise ValueError("precursor_hours must be (shortest, longest) with 0 < shortest ≤ longest")
    rng = np.random.default_rng(seed)
    n = int(days * 86400 / step_seconds)
    first = int(min_history_days * 86400 / step_seconds)
    plan = [(kind, True) for kind in FAILURE_KINDS for _ in range(per_kind)]
    plan += [(kind, False) for kind in LOOKALIKE_KINDS for _ in range(per_kind)]
    plan += [("normal", False)] * n_normal
    order = rng.permutation(len(plan))
    columns, entities, metrics = [], [], []
    failures, lookalikes = [], []
    for node, index in enumerate(order):
        kind, fails = plan[index]
        clock = _Clock(n, step_seconds, np.random.default_rng([seed, int(index)]),
                       precursor_hours)
        entity = f"node{node + 1:03d}"
        if fails:
            metric, make = _FAILURES[kind]
            values, (start, failure) = make(clock, first)
            failures.append(Failure(entity, metric, kind, start, failure))
        elif kind == "normal":
            metric, values = "mem_used_pct", _normal(clock, first)
        else:
            metric, make = _LOOKALIKES[kind]
            values = make(clock, first)
            lookalikes.append((entity, metric, kind))
        columns.append(values)
        entities.append(entity)
        metrics.append(metric)
    values = np.column_stack(columns)
    stamps = START + (np.arange(n) * step_seconds * 1e9).astype("timedelta64[ns]")
    frame = SeriesFrame(stamps, values, tuple(entities), tuple(metrics),
                        name=f"precursor scenario seed {seed}")
    return PrecursorScenario(frame, tuple(failures), tuple(lookalikes), dict(LIMITS),
                             float(step_seconds))
