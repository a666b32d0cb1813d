"""The runaway test: fast accelerating rises warn, with an ETA near the analytic crossing;
rises that do not steepen, jumps, cycles and noise do not run away."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.prediction.predictor import predict_frame, runaway_steps
from kizashi.prediction.runaway import RunawayStream, runaway, runaway_eta

STEP = 300.0
SEGMENT = runaway_steps(STEP)  # 20 min of 5-minute data
HORIZON = 72  # 6 h


def test_the_eta_of_a_parabola_is_exact():
    # x = 2·s² sampled at segment centres s = −2, −1, 0 (means of a parabola over equal
    # segments are the parabola at the centres plus one constant, which cancels in d)
    means = 2.0 * np.array([4.0, 1.0, 0.0]) + 5.0  # m3, m2, m1
    d1, d2 = means[2] - means[1], means[1] - means[0]  # −2 and −6: falling, not steepening
    assert np.isnan(runaway_eta(np.array(d1), np.array(d2), np.array(means[2]),
                                np.array(100.0), 6))
    rising = 2.0 * np.array([0.0, 1.0, 4.0]) + 5.0  # s = 0, 1, 2 of 2·s²: 2·(s + 2)²
    d1, d2 = rising[2] - rising[1], rising[1] - rising[0]
    # 5 + 2·(s + 2)² = 95 at s = √45 − 2 segments from the newest centre (2.5 steps back)
    expected = (np.sqrt(45.0) - 2.0) * 6 - 2.5
    got = float(runaway_eta(np.array(d1), np.array(d2), np.array(rising[2]),
                            np.array(95.0), 6))
    assert got == pytest.approx(expected, rel=1e-12)


def _flat_then(rise: np.ndarray, flat_rows: int, level: float, noise: float,
               seed: int) -> np.ndarray:
    values = np.r_[np.full(flat_rows, level), rise]
    return values + np.random.default_rng(seed).normal(0.0, noise, values.size)


def _power_law_rises(hours: tuple[float, ...]):
    """50 + 60·(τ/D)^p, p = 2, 2.5, 3, after 3.5 flat days (noise 0.1): 100 at
    τ* = D·(5/6)^(1/p), analytically. The frame, τ in hours, the rise's first row, the cases."""
    cases = list(itertools.product((2.0, 2.5, 3.0), hours))
    start = int(3.5 * 288)
    n = start + 6 * 12
    tau = (np.arange(n) - start) * STEP / 3600.0
    columns = []
    for i, (p, d) in enumerate(cases):
        rise = np.minimum(50 + 60 * np.clip(tau / d, 0.0, None) ** p, 100.0)  # held there
        columns.append(_flat_then(rise[start:], start, 50.0, 0.1, seed=i))
    frame = SeriesFrame.from_arrays(np.arange(n) * STEP, np.column_stack(columns),
                                    [f"n{i}" for i in range(len(cases))],
                                    ["fs_used_pct"] * len(cases))
    return frame, tau, start, cases


def _first_warnings(hours: tuple[float, ...]):
    frame, tau, start, cases = _power_law_rises(hours)
    result = predict_frame(frame, "6h")
    for j, (p, d) in enumerate(cases):
        crossing = d * (50 / 60) ** (1 / p)
        warned = np.flatnonzero(result.warning[:, j])
        assert warned.size and warned[0] >= start, (p, d)  # never before the rise
        first = warned[0]
        eta = (result.eta[first, j] - frame.timestamps[first]) / np.timedelta64(3600, "s")
        yield p, d, crossing - tau[first], eta


@pytest.mark.slow
def test_fast_power_law_rises_warn_ahead_with_an_eta_near_the_crossing():
    """Rises of 1.5, 2, 3 and 4 h warn at least 0.2 h before the analytic crossing, and the
    ETA at the first warning is 0.8–1.4 times the time really left (without the runaway
    test the rises of 1.5–2 h warned in their last minutes: a 6 h fit sees them late; the
    3 h ones, whose rate doubles per 20 min only while their oldest segment is still flat,
    warn since a steepening rise that keeps its ETA for a segment runs away too)."""
    for p, d, left, eta in _first_warnings((1.5, 2.0, 3.0, 4.0)):
        assert left >= 0.2, (p, d, left)
        assert 0.8 * left <= eta <= 1.4 * left, (p, d, eta, left)


def _steepening(rows_flat: int, growth: float, seed: int) -> np.ndarray:
    """Flat at 40, then a rise whose rate grows by ``growth`` per 20-minute segment
    (geometrically, step by step), never doubling from one segment to the next."""
    per_step = growth ** (1 / SEGMENT)
    rate = 0.3 * per_step ** np.arange(200)
    rise = 40 + np.cumsum(rate)
    return _flat_then(rise[rise < 100.5], rows_flat, 40.0, 0.1, seed)


@pytest.mark.parametrize("growth", [1.2, 1.4, 1.7])
def test_a_sustained_steepening_rise_runs_away_once_its_eta_stood_a_segment(growth):
    """A rate growing by 1.2–1.7 per segment (under the ratio of 2) after two flat days: the
    ETA is given from some step on; the series runs away exactly a segment of ETAs later
    (when they came in a row), never before the rise; the stream says the same."""
    values = _steepening(2 * 288, growth, seed=int(growth * 10))
    memory = 288
    plain, _ = runaway(values[:, None], np.array([100.0]), SEGMENT, HORIZON)
    assert not plain.any()  # the ratio alone: never (no memory, no sustained test)
    hit, eta = runaway(values[:, None], np.array([100.0]), SEGMENT, HORIZON, memory=memory)
    given = np.isfinite(eta[:, 0])
    assert given.any() and hit[:, 0].any()
    first = int(np.argmax(hit[:, 0]))
    assert first >= 2 * 288
    assert given[first - SEGMENT + 1:first + 1].all()  # a segment of ETAs in a row
    stream = RunawayStream(SEGMENT, HORIZON, memory=memory)
    state = stream.fresh(1)
    for row, value in enumerate(values):
        h, e = stream.step(state, np.array([value]), np.array([100.0]))
        assert bool(h[0]) == bool(hit[row, 0]), row
        assert np.isnan(e[0]) == np.isnan(eta[row, 0]), row


def test_a_rise_before_a_day_of_memory_does_not_run_away_by_its_eta_alone():
    """The same rise 2 h into a file: the memory has not seen a day, so a held ETA is not
    enough (the start of a file is not somewhere new)."""
    values = _steepening(24, 1.4, seed=3)
    hit, eta = runaway(values[:, None], np.array([100.0]), SEGMENT, HORIZON, memory=288)
    assert np.isfinite(eta[:, 0]).sum() >= SEGMENT
    assert not hit.any()


def _never_runs_away(values: np.ndarray, limit: float) -> None:
    hit, _ = runaway(values[:, None], np.array([limit]), SEGMENT, HORIZON)
    assert not hit.any()


@pytest.mark.parametrize("shape, hours, top",
                         list(itertools.product((1.0, 1.5, 2.0), (1.0, 2.0, 4.0, 16.0),
                                                (80.0, 93.0))))
def test_rises_that_do_not_steepen_and_stop_never_run_away(shape, hours, top):
    # the growth_stops look-alike: base + (top − base)·(1 − (1 − u)^shape), linear to
    # decelerating, flat before and after
    rows = round(hours * 3600 / STEP)
    u = np.clip(np.arange(rows + 100) / rows, 0, 1)
    rise = 45 + (top - 45) * (1 - (1 - u) ** shape)
    _never_runs_away(_flat_then(rise, 400, 45.0, 0.15, seed=int(hours * 10 + shape)), 100.0)


@pytest.mark.parametrize("jump", [10.0, 25.0, 45.0])
def test_a_jump_or_a_spike_does_not_run_away(jump):
    level = np.full(600, 42.0)
    step = level.copy()
    step[300:] += jump
    spike = level.copy()
    spike[300:303] += jump  # 15 minutes
    for values in (step, spike):
        _never_runs_away(values + np.random.default_rng(3).normal(0, 0.15, 600), 100.0)


@pytest.mark.parametrize("seed", range(5))
def test_daily_cycles_and_noise_near_the_limit_do_not_run_away(seed):
    rng = np.random.default_rng(seed)
    hours = np.arange(8 * 288) * STEP / 3600
    amplitude = rng.uniform(8, 14)
    cycle = 86 - amplitude + amplitude * np.cos(2 * np.pi * (hours - 15) / 24)
    _never_runs_away(cycle + rng.normal(0, 0.5, hours.size), 90.0)
    ar = np.zeros(hours.size)
    for t in range(1, hours.size):
        ar[t] = 0.97 * ar[t - 1] + rng.normal(0, 1.5 * np.sqrt(1 - 0.97 ** 2))
    _never_runs_away(np.minimum(80 + ar + rng.normal(0, 0.4, hours.size), 89.0), 90.0)


@pytest.mark.parametrize("seed, lag", [(0, 1), (1, 1), (2, 2), (3, 3)])
def test_the_stream_equals_the_batch(seed, lag):
    rng = np.random.default_rng(seed)
    n, k = 400, 5
    t = np.arange(n)[:, None]
    onset = rng.integers(50, 300, k)
    values = 40 + 60 * (np.clip(t - onset, 0, None) / rng.uniform(20, 60, k)) ** 3
    values = values + rng.normal(0, 0.1, (n, k))
    values[rng.random((n, k)) < 0.05] = np.nan  # carried forward, in both
    values[:30, 2] = np.nan  # a series that starts late counts its own steps
    limit = np.array([100.0, 100.0, 90.0, np.nan, 100.0])
    observed = np.ones(n, dtype=bool)
    observed[150 + 40 * seed:160 + 40 * seed] = False  # a stretch laid out as a line
    hit, eta = runaway(values, limit, 6, HORIZON, lag=lag, observed=observed)
    # not judged while a segment of 6 holds 2 of its filled rows or more (from its second
    # row until its last two leave the oldest segment): a 10-row stretch always does
    assert not hit[151 + 40 * seed:160 + 40 * seed + 17].any()
    stream = RunawayStream(6, HORIZON, lag=lag)
    state = stream.fresh(k)
    for row in range(n):
        live_hit, live_eta = stream.step(state, values[row], limit, bool(observed[row]))
        assert np.array_equal(live_hit, hit[row]), row
        np.testing.assert_allclose(live_eta, eta[row], rtol=1e-9, atol=1e-9)
    assert hit.any()  # the family does run away somewhere
    assert not hit[:, 3].any()  # without a limit, never



@pytest.mark.parametrize("seed, memory", [(0, 40), (1, 100), (2, 250)])
def test_with_a_memory_the_stream_equals_the_batch(seed, memory):
    """The newest segment must top the segment means of ``memory`` steps before the
    window: cubic rises after a ripple, starting at several phases, some late, with gaps."""
    rng = np.random.default_rng(seed)
    n, k = 500, 6
    t = np.arange(n)[:, None]
    onset = rng.integers(60, 400, k)
    ripple = 6 * np.sin(2 * np.pi * t / rng.uniform(30, 90, k))
    values = 40 + ripple + 60 * (np.clip(t - onset, 0, None) / rng.uniform(20, 60, k)) ** 3
    values = values + rng.normal(0, 0.1, (n, k))
    values[rng.random((n, k)) < 0.05] = np.nan
    values[:45, 2] = np.nan  # starts late: its memory counts its own steps
    limit = np.full(k, 100.0)
    hit, eta = runaway(values, limit, 6, HORIZON, memory=memory)
    plain, _ = runaway(values, limit, 6, HORIZON)
    # the memory takes ratio runaways away; what it adds is sustained: a segment of ETAs
    for row, col in zip(*np.nonzero(hit & ~plain), strict=True):
        assert np.isfinite(eta[row - 5:row + 1, col]).all(), (row, col)
        assert row >= memory + 17, (row, col)  # a whole memory seen (every series, late ones too)
    stream = RunawayStream(6, HORIZON, memory=memory)
    state = stream.fresh(k)
    for row in range(n):
        live_hit, live_eta = stream.step(state, values[row], limit)
        assert np.array_equal(live_hit, hit[row]), row
        np.testing.assert_allclose(live_eta, eta[row], rtol=1e-9, atol=1e-9)
    assert hit.any()


def test_a_runaway_must_top_the_segments_of_its_memory():
    """By hand: an older plateau at 20, a dip to 0, then 2^(s/5), a rate growing 2^(6/5)
    times every segment of 6 rows; with the plateau in memory, a step where the plain test
    runs away still runs away exactly when the mean of its last 6 rows is over 20."""
    rise = 2.0 ** (np.arange(36) / 5)
    values = np.r_[np.full(30, 20.0), np.zeros(20), rise][:, None]
    limit = np.array([300.0])
    plain, _ = runaway(values, limit, 6, 60, significance=0.0)
    kept, _ = runaway(values, limit, 6, 60, significance=0.0, memory=60)
    rows = np.flatnonzero(plain[:, 0])
    newest = np.array([values[r - 5:r + 1, 0].mean() for r in rows])
    assert (newest <= 20.0).any() and (newest > 20.0).any()  # both sides are tested
    assert kept[rows, 0].tolist() == (newest > 20.0).tolist()
    assert not (kept & ~plain).any()
    # with a memory too short to reach back to the plateau, nothing is taken away
    short, _ = runaway(values, limit, 6, 60, significance=0.0, memory=20)
    assert np.array_equal(short, plain)


def test_a_state_saved_before_the_streak_loads_and_counts_it_anew():
    stream = RunawayStream(SEGMENT, HORIZON, memory=288)
    state = stream.fresh(2)
    old = {key: value for key, value in state.items() if key != "streak"}
    upgraded = stream.upgrade(old)
    assert upgraded["streak"].tolist() == [0, 0]
    stream.step(upgraded, np.array([1.0, 2.0]), np.array([100.0, 100.0]))
