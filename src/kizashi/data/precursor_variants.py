"""Variants of the prediction scenario: the same failures and look-alikes, told differently.

:func:`kizashi.data.precursors.generate_precursors` has one sampling step, one
noise level, limits of 100 % and 90 °C, failures building over 6–48 h, no gaps
and 36 series over 8 days. A predictor tuned there may lean on any of those.
Each variant here changes one of them and rebuilds the ground truth (each
failure's first row at its limit), so the benchmark
(``python benchmarks/prediction.py --variants``) can check that a lead over
``predict_linear`` holds beyond the defaults:

==================  ================================================================
``default``         the scenario as generated
``step_1min``       sampled every minute (8 days)
``step_15min``      sampled every 15 minutes (8 days)
``noisy``           white noise of 3 % of each limit added (look-alikes kept under it)
``bytes``           ``*_pct`` series as bytes (``*_bytes``, limit 1e12); °C as before
``kelvin``          ``cpu_temp_c`` as ``cpu_temp_k`` (limit 363.15 K)
``limit_85``        ``*_pct`` series scaled by 0.85 against a given limit of 85
``fast_2h``         every failure's precursor 1–3 h
``slow_3d``         every failure's precursor 2–4 days (11 days)
``gaps``            2 % of values missing and 3 stretches of 1–3 h with no rows at all
                    (each failure's own row and value kept)
``silent_3x``       each series silent (NaN) 3 times for 1–3 h while the others report
``many_1000``       1,000 series (99 of each kind, 10 normal)
``long_4w``         28 days
==================  ================================================================

>>> scenario = make_variant("kelvin", seed=1, days=4)
>>> sorted(set(scenario.frame.metrics)) == sorted(
...     {"cpu_temp_k", "fs_used_pct", "mem_used_pct", "conntrack_used_pct",
...      "scratch_used_pct", "log_used_pct"})
True
>>> f = next(f for f in scenario.failures if f.metric == "cpu_temp_k")
>>> j = scenario.frame.keys.index((f.entity, f.metric))
>>> column = scenario.frame.values[:, j]
>>> bool(column[f.failure] >= 363.15 > column[f.precursor_start:f.failure].max())
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from kizashi.data.frame import SeriesFrame
from kizashi.data.precursors import PrecursorScenario, generate_precursors

__all__ = ["VARIANTS", "make_variant"]

KELVIN = 273.15
BYTES_LIMIT = 1e12


def _rename(scenario: PrecursorScenario, metric_map: Callable[[str], str | None],
            transform: Callable[[str, np.ndarray], np.ndarray],
            limits: dict[str, float]) -> PrecursorScenario:
    """Each series of a metric ``m`` that ``metric_map`` renames (None: unchanged) becomes
    ``transform(m, values)`` under the new name; ``limits`` are the new scenario's."""
    frame = scenario.frame
    values = frame.values.copy()
    metrics = list(frame.metrics)
    for j, metric in enumerate(frame.metrics):
        new = metric_map(metric)
        if new is not None:
            values[:, j] = transform(metric, values[:, j])
            metrics[j] = new

    def renamed(metric: str) -> str:
        return metric_map(metric) or metric

    frame = dataclasses.replace(frame, values=values, metrics=tuple(metrics))
    failures = tuple(dataclasses.replace(f, metric=renamed(f.metric)) for f in scenario.failures)
    lookalikes = tuple((e, renamed(m), k) for e, m, k in scenario.lookalikes)
    return _retruth(dataclasses.replace(scenario, frame=frame, failures=failures,
                                        lookalikes=lookalikes, limits=limits))


def _retruth(scenario: PrecursorScenario, under_limit: bool = False) -> PrecursorScenario:
    """The ground truth again after the values changed: each failure's first finite row at
    its limit from its precursor on. With ``under_limit``, every other series (and each
    failing one before its precursor) is kept just under its limit, so that only failures
    reach it."""
    frame = scenario.frame
    values = frame.values.copy()
    keys = frame.keys
    limits = np.array([scenario.limit(m) for m in frame.metrics], dtype=np.float64)
    below = limits - 1e-3 * np.abs(limits)
    failing = {keys.index((f.entity, f.metric)): f for f in scenario.failures}
    if under_limit:
        for j in range(len(keys)):
            stop = failing[j].precursor_start if j in failing else values.shape[0]
            values[:stop, j] = np.fmin(values[:stop, j], below[j])
    failures = []
    for j, f in failing.items():
        with np.errstate(invalid="ignore"):
            there = values[f.precursor_start:, j] >= limits[j]
        if not there.any():  # pragma: no cover - every generated failure reaches its limit
            raise ValueError(f"{f.entity}/{f.metric}: the failure no longer reaches its limit")
        failures.append(dataclasses.replace(f, failure=f.precursor_start + int(np.argmax(there))))
    frame = dataclasses.replace(frame, values=values)
    return dataclasses.replace(scenario, frame=frame, failures=tuple(failures))


def _noisy(scenario: PrecursorScenario, seed: int, share: float = 0.03) -> PrecursorScenario:
    frame = scenario.frame
    limits = np.array([scenario.limit(m) for m in frame.metrics], dtype=np.float64)
    noise = np.random.default_rng([seed, 7]).normal(0.0, 1.0, frame.values.shape)
    for f in scenario.failures:  # a failure still reaches its limit at its failure row
        j = frame.keys.index((f.entity, f.metric))
        noise[f.failure, j] = abs(noise[f.failure, j])
    frame = dataclasses.replace(frame, values=frame.values + share * np.abs(limits) * noise)
    return _retruth(dataclasses.replace(scenario, frame=frame), under_limit=True)


def _gaps(scenario: PrecursorScenario, seed: int) -> PrecursorScenario:
    """2 % of values NaN, and 3 stretches of 1–3 h with no rows (dropped from the file)."""
    rng = np.random.default_rng([seed, 11])
    frame = scenario.frame
    n = frame.n_times
    per_hour = 3600.0 / scenario.step_seconds
    values = frame.values.copy()
    missing = rng.random(values.shape) < 0.02
    keep = np.ones(n, dtype=bool)
    for start in rng.integers(int(2 * 24 * per_hour), n - int(4 * per_hour), 3):
        keep[start:start + int(rng.uniform(1, 3) * per_hour)] = False
    for f in scenario.failures:  # the failure itself is observed (its row and value kept)
        missing[f.failure, frame.keys.index((f.entity, f.metric))] = False
        keep[f.failure] = True
    values[missing] = np.nan
    rows = np.flatnonzero(keep)  # old row of each new row

    def new_row(old: int) -> int:
        return int(np.searchsorted(rows, old))  # the first kept row at or after it

    frame = dataclasses.replace(frame, timestamps=frame.timestamps[rows], values=values[rows])
    failures = tuple(dataclasses.replace(f, precursor_start=new_row(f.precursor_start),
                                         failure=new_row(f.failure))
                     for f in scenario.failures)
    return _retruth(dataclasses.replace(scenario, frame=frame, failures=failures))


def _silent_stretches(scenario: PrecursorScenario, seed: int) -> PrecursorScenario:
    """Each series silent (NaN) for 3 stretches of 1–3 h while the others go on reporting
    (a node down: the file's rows are there), never over its failure row."""
    rng = np.random.default_rng([seed, 13])
    frame = scenario.frame
    per_hour = 3600.0 / scenario.step_seconds
    values = frame.values.copy()
    failure_row = {frame.keys.index((f.entity, f.metric)): f.failure for f in scenario.failures}
    for j in range(values.shape[1]):
        for start in rng.integers(int(2 * 24 * per_hour), frame.n_times - int(4 * per_hour), 3):
            stop = start + int(rng.uniform(1, 3) * per_hour)
            if not start <= failure_row.get(j, -1) < stop:
                values[start:stop, j] = np.nan
    return _retruth(dataclasses.replace(scenario, frame=dataclasses.replace(frame,
                                                                            values=values)))


def _pct_to_bytes(metric: str) -> str | None:
    return metric.removesuffix("_pct") + "_bytes" if metric.endswith("_pct") else None


def _bytes(seed: int, days: int) -> PrecursorScenario:
    base = generate_precursors(seed=seed, days=days)
    limits = dict(base.limits)
    limits.update({_pct_to_bytes(m): BYTES_LIMIT for m in set(base.frame.metrics)
                   if m.endswith("_pct")})
    return _rename(base, _pct_to_bytes, lambda m, v: v * (BYTES_LIMIT / 100.0), limits)


def _kelvin(seed: int, days: int) -> PrecursorScenario:
    base = generate_precursors(seed=seed, days=days)
    limits = {"cpu_temp_k": base.limits["cpu_temp_c"] + KELVIN}
    return _rename(base, lambda m: "cpu_temp_k" if m == "cpu_temp_c" else None,
                   lambda m, v: v + KELVIN, limits)


def _limit_85(seed: int, days: int) -> PrecursorScenario:
    base = generate_precursors(seed=seed, days=days)
    limits = dict(base.limits)
    limits.update({m: 85.0 for m in set(base.frame.metrics) if m.endswith("_pct")})
    return _rename(base, lambda m: m if m.endswith("_pct") else None,
                   lambda m, v: 0.85 * v, limits)


#: name → (builder of seed and days, default days)
VARIANTS: dict[str, tuple[Callable[[int, int], PrecursorScenario], int]] = {
    "default": (lambda seed, days: generate_precursors(seed=seed, days=days), 8),
    "step_1min": (lambda seed, days: generate_precursors(seed=seed, days=days,
                                                         step_seconds=60.0), 8),
    "step_15min": (lambda seed, days: generate_precursors(seed=seed, days=days,
                                                          step_seconds=900.0), 8),
    "noisy": (lambda seed, days: _noisy(generate_precursors(seed=seed, days=days), seed), 8),
    "bytes": (_bytes, 8),
    "kelvin": (_kelvin, 8),
    "limit_85": (_limit_85, 8),
    "fast_2h": (lambda seed, days: generate_precursors(seed=seed, days=days,
                                                       precursor_hours=(1.0, 3.0)), 8),
    "slow_3d": (lambda seed, days: generate_precursors(seed=seed, days=days,
                                                       precursor_hours=(48.0, 96.0)), 11),
    "gaps": (lambda seed, days: _gaps(generate_precursors(seed=seed, days=days), seed), 8),
    "silent_3x": (lambda seed, days: _silent_stretches(generate_precursors(seed=seed, days=days),
                                                       seed), 8),
    "many_1000": (lambda seed, days: generate_precursors(seed=seed, days=days, per_kind=99,
                                                         n_normal=10), 8),
    "long_4w": (lambda seed, days: generate_precursors(seed=seed, days=days), 28),
}


def make_variant(name: str, seed: int = 0, days: int | None = None) -> PrecursorScenario:
    """The scenario ``name`` of :data:`VARIANTS` for ``seed`` (``days``: its default when
    None)."""
    if name not in VARIANTS:
        raise ValueError(f"unknown scenario variant {name!r}; known: {', '.join(VARIANTS)}")
    build, default_days = VARIANTS[name]
    scenario = build(seed, default_days if days is None else days)
    frame: SeriesFrame = scenario.frame
    return dataclasses.replace(scenario, frame=dataclasses.replace(
        frame, name=f"{frame.name}, variant {name}"))

