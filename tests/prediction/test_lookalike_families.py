"""Staircases that stop, leaks that are restarted, and the rises that must still warn.

Two look-alikes raise more false-warning runs in kizashi than in the ``predict_linear``
rule (docs/prediction.md, "steps_plateau and leak_restarted"): a staircase to a plateau
warns once per step, a leak that a restart will end warns as a leak. What kizashi does
guarantee on them is checked here on generated families: the warning of a staircase ends
within the rise gate's hour plus the 2 h hysteresis of its last step and none starts on
its plateau; a restart ends a leak's warning within the hysteresis. And the rises that
any fix must keep warning: a leak that, after a restart, leaks again to the limit (what
counting one reset as a cycle would hold back), and the scenario's staircase leaks.
"""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.data.precursor_families import leak_after_restart
from kizashi.data.precursors import make_series
from kizashi.prediction.cycle_gate import CycleGate, cycle_gate
from kizashi.prediction.predict_linear import predict_linear
from kizashi.prediction.predictor import predict_frame

STEP = 300.0
PER_HOUR = 12
N = 8 * 288
#: The rise gate's hour and the hysteresis (docs/prediction.md): a warning is renewed only
#: while the last hour's line heads for the limit, and ends 2 h after its last renewal.
GATE_ROWS = 12
RESOLVE_ROWS = 24


def _frame(columns: list[np.ndarray], metric: str) -> SeriesFrame:
    return SeriesFrame.from_arrays(np.arange(N) * STEP, np.column_stack(columns),
                                   [f"n{i:02d}" for i in range(len(columns))],
                                   [metric] * len(columns))


def _staircase_to_plateau(seed: int, tops: tuple[float, float]) -> tuple[np.ndarray, int]:
    """3–6 steps up, 1–4 h apart, from 30–45 % to a plateau in ``tops`` (the look-alike
    ``steps_plateau`` has 82–93 %), noise 0.3, starting on day 3–5; the values and the row
    of the last step."""
    rng = np.random.default_rng(seed)
    base, top = rng.uniform(30, 45), rng.uniform(*tops)
    sizes = np.diff(np.r_[0, np.sort(rng.uniform(0, 1, int(rng.integers(3, 7)) - 1)), 1])
    level = np.full(N, base)
    row = int(rng.integers(2 * 288, 5 * 288))
    last = row
    for size in sizes * (top - base):
        level[row:] += size
        last = row
        row += int(rng.uniform(1, 4) * PER_HOUR)
    return level + rng.normal(0, 0.3, N), last


def _late_warnings(tops: tuple[float, float]) -> list[tuple[int, int, list[int]]]:
    cases = [_staircase_to_plateau(seed, tops) for seed in range(24)]
    result = predict_frame(_frame([v for v, _ in cases], "conntrack_used_pct"), "6h")
    late = []
    for j, (_, last) in enumerate(cases):
        rows = np.flatnonzero(result.warning[last + GATE_ROWS + RESOLVE_ROWS:, j])
        if rows.size:
            late.append((j, last, (rows[:3] + last + GATE_ROWS + RESOLVE_ROWS).tolist()))
    return late


def test_a_staircase_to_a_plateau_stops_warning_within_3_hours_of_its_last_step():
    """24 staircases to 82–90 %: after the last step, a warning may go on while the step is
    in the gate's hour and for the 2 h after; none starts later on the plateau. (Under 90,
    the last hour's line of a flat plateau reaches 97 only with a slope of 4 noise
    standard deviations of a 12-row line's slope, 0.3/√143 per row.)"""
    assert _late_warnings((82.0, 90.0)) == []


@pytest.mark.xfail(strict=True, reason="known gap: on a plateau within 5 points of the "
                   "limit, noise opens the rise gate while the forecasters still remember "
                   "the steps (docs/prediction.md, steps_plateau and leak_restarted)")
def test_a_staircase_to_a_plateau_near_the_limit_stops_warning_too():
    """The same with plateaus of 91–93 %: a line through a flat hour of noise 0.3 reaches
    97 with a slope of 2–3 such standard deviations, which comes by chance."""
    assert _late_warnings((91.0, 93.0)) == []


def _leak_restarted(seed: int) -> tuple[np.ndarray, list[int]]:
    """A leak of 12–36 h from 30–50 % to 85–93 %, a restart, and again 12–36 h later (the
    look-alike ``leak_restarted``); the values and the rows of the restarts."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(30, 50) + rng.uniform(2, 5) * np.sin(2 * np.pi * np.arange(N) / 288)
    values = base + rng.normal(0, 0.5, N)
    start, restarts = 2 * 288, []
    for _ in range(2):
        length = int(rng.uniform(12, 36) * PER_HOUR)
        if start + length >= N - 6 * PER_HOUR:
            break
        top = rng.uniform(85, 93)
        values[start:start + length] += (top - base[start + length]) * np.arange(length) / length
        restarts.append(start + length)
        start += length + int(rng.uniform(12, 36) * PER_HOUR)
    return values, restarts


def test_a_restart_ends_a_leaks_warning_within_the_hysteresis():
    """24 series, two leaks each (one when the second would run past the end): from 2 h
    after each restart (the value back at 30–50 %) to the next leak's start, no warning."""
    cases = [_leak_restarted(seed) for seed in range(24)]
    result = predict_frame(_frame([v for v, _ in cases], "mem_used_pct"), "6h")
    for j, (_, restarts) in enumerate(cases):
        for restart in restarts:
            after = result.warning[restart + RESOLVE_ROWS + 1:restart + 12 * PER_HOUR, j]
            assert not after.any(), (j, restart, np.flatnonzero(after)[:3])


def test_a_leak_after_a_restart_that_reaches_the_limit_is_warned_ahead_of_the_rule():
    """The second leak of each series goes to 100: warned at least 1 h before the crossing,
    and on average no later than ``predict_linear(m[6h], 6h) >= 100`` warns it (one reset is
    no cycle: counting it as one would hold these warnings back to the first leak's peak
    plus a quarter of the room, benchmarks/prediction_lookalike_options.py)."""
    frame, spans = leak_after_restart()
    result = predict_frame(frame, "6h")
    rule = predict_linear(frame.epoch_seconds, frame.values, 6 * 3600.0, 6 * 3600.0) >= 100

    def lead(warning: np.ndarray, j: int) -> float:
        second, crossing = spans[j]
        during = warning[second:crossing, j]
        return (crossing - second - int(np.argmax(during))) / PER_HOUR if during.any() else 0.0

    ours = [lead(result.warning, j) for j in range(len(spans))]
    theirs = [lead(rule, j) for j in range(len(spans))]
    assert min(ours) >= 1.0, ours
    assert np.mean(ours) >= np.mean(theirs), (ours, theirs)


@pytest.mark.parametrize("seed", range(6))
def test_staircase_leaks_still_warn_an_hour_ahead(seed):
    """The scenario's staircase leak (steps every 20–120 min over 12–36 h, to 100), four
    series per seed: each warned at least 1 h before it reaches the limit."""
    columns, spans = [], []
    for k in range(4):
        values, (start, failure) = make_series("staircase_leak", N, STEP, seed=10 * seed + k,
                                               first_row=3 * 288)
        columns.append(values)
        spans.append((start, failure))
    result = predict_frame(_frame(columns, "conntrack_used_pct"), "6h")
    for j, (start, failure) in enumerate(spans):
        during = result.warning[start:failure, j]
        assert during.any(), (seed, j)
        assert failure - (start + int(np.argmax(during))) >= PER_HOUR, (seed, j)


def test_the_cycle_gate_counts_as_many_resets_as_it_is_told():
    """One fast drop from 90 to 40, then a rise back to 88 (under the peak): with the
    default two resets the series is not cycling and the gate stays open; told one reset
    is enough, the gate is shut at 88 and opens past 90 + (100 − 90)/4 = 92.5."""
    t = np.arange(3 * 288)
    values = np.where(t < 288, 40 + 50 * t / 288, 40 + 55 * (t - 300) / 288)
    values[288:300] = 40.0
    limit = np.array([100.0])
    two = cycle_gate(values[:, None], limit, segment=4, horizon=72, memory=576)[:, 0]
    gate = CycleGate(4, 72, 576, resets=1)
    state = gate.fresh(1)
    one = np.array([bool(gate.step(state, np.array([v]), limit)[0]) for v in values])
    at_88 = 300 + int(np.argmax(values[300:] >= 88))
    past = 300 + int(np.argmax(values[300:] > 92.5 + 1))
    assert two.all()
    assert not one[at_88] and one[past]
    with pytest.raises(ValueError, match="resets"):
        CycleGate(4, 72, 576, resets=0)
