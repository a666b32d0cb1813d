"""Steadiness: a boost for a value held above its level with a fraction of its usual jitter."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.threshold.steadiness import Steadiness

#: Half-life so long that the usual jitter and the level barely move: hand-derivable.
FROZEN = 1e12


def alternating(n: int, low: float = 10.0, high: float = 12.0) -> np.ndarray:
    """``low, high, low, ...``: every step change is exactly ``high - low``."""
    return np.where(np.arange(n) % 2 == 0, low, high)


def test_an_even_jitter_is_never_boosted() -> None:
    # every |change| is 2, so the jitter is 2 and the usual jitter 2: not under 0.5 x 2
    member = Steadiness(window=4, halflife=FROZEN, ready=10)
    boost = member.assess(member.initial_state(1), alternating(400)[:, None])
    assert np.array_equal(boost, np.ones((400, 1)))


@pytest.mark.parametrize("step", [0.1, 0.25, 0.5, 0.8])
def test_a_slow_climb_above_the_level_is_boosted_by_ratio_times_usual_over_jitter(
        step: float) -> None:
    # usual jitter 2 (frozen), then a climb from 30 by `step` a step: once the jump into
    # it has left the window of 4, the jitter is `step` and the boost 0.5 * 2 / step
    member = Steadiness(window=4, ratio=0.5, halflife=FROZEN, ready=10)
    state = member.initial_state(1)
    member.assess(state, alternating(400)[:, None])
    climb = 30.0 + step * np.arange(20)
    boost = member.assess(state, climb[:, None])[:, 0]
    expected = min(0.5 * 2.0 / step, 10.0)
    assert boost[4:] == pytest.approx(np.full(16, expected), rel=1e-6)
    # while the jump (30 - 12 = 18) is one of 4 changes, the median is still
    # (2 + step) / 2 or more: no boost for step >= 0.5 there
    if step >= 0.5:
        assert np.all(boost[:2] == 1.0)


def test_a_flat_line_gets_the_largest_boost_above_the_level_and_none_below() -> None:
    member = Steadiness(window=4, halflife=FROZEN, ready=10, max_boost=7.0)
    state = member.initial_state(2)
    member.assess(state, np.c_[alternating(400), alternating(400)])
    flat = np.tile([50.0, 0.0], (12, 1))  # above the level 11, below it
    boost = member.assess(state, flat)
    assert np.all(boost[4:, 0] == 7.0)  # the window holds only zero changes
    assert np.all(boost[:, 1] == 1.0)


def test_a_constant_series_is_never_boosted() -> None:
    member = Steadiness(window=4, ready=0)
    values = np.r_[np.full(300, 5.0), np.full(50, 9.0)]
    boost = member.assess(member.initial_state(1), values[:, None])
    assert np.all(boost == 1.0)


def test_nothing_is_boosted_before_ready() -> None:
    member = Steadiness(window=4, halflife=FROZEN, ready=1000)
    values = np.r_[alternating(400), np.full(50, 50.0)]
    assert np.all(member.assess(member.initial_state(1), values[:, None]) == 1.0)


def test_missing_values_score_one_and_teach_nothing() -> None:
    member = Steadiness(window=4, halflife=100.0, ready=10)
    values = np.r_[alternating(400), 50.0 + 0.1 * np.arange(30)]
    gappy = np.insert(values, [410, 420], np.nan)
    plain = member.assess(member.initial_state(1), values[:, None])[:, 0]
    holed = member.assess(member.initial_state(1), gappy[:, None])[:, 0]
    assert holed[410] == 1.0 and holed[421] == 1.0
    assert np.array_equal(np.delete(holed, [410, 421]), plain)


def noisy_runs(seed: int, n: int = 3000) -> np.ndarray:
    """Three series of jitter with pinned stretches, flat floors and gaps."""
    rng = np.random.default_rng(seed)
    values = rng.normal(50, 4, (n, 3))
    values[n // 2:n // 2 + 100, 0] = rng.uniform(97, 99, 100)
    values[n // 3:n // 3 + 80, 1] = 0.0
    values[rng.random((n, 3)) < 0.02] = np.nan
    return values


@pytest.mark.parametrize("seed", range(6))
def test_a_restart_mid_stream_equals_an_unbroken_run(seed: int) -> None:
    import json

    values = noisy_runs(seed)
    member = Steadiness(window=12, halflife=500.0, ready=100)
    unbroken = member.assess(member.initial_state(3), values)
    cuts = np.sort(np.random.default_rng(seed).choice(np.arange(1, len(values)), 4,
                                                      replace=False))
    state = member.initial_state(3)
    parts = []
    for block in np.split(values, cuts):
        parts.append(member.assess(state, block))
        # the state survives a JSON round trip between blocks, as a saved watcher's does
        state = {key: np.array(value) if isinstance(value, list) else value
                 for key, value in json.loads(json.dumps(
                     {k: v.tolist() if isinstance(v, np.ndarray) else v
                      for k, v in state.items()})).items()}
    assert np.array_equal(np.concatenate(parts), unbroken)


@pytest.mark.parametrize("seed", range(6))
def test_a_pinned_stretch_is_boosted_and_ordinary_jitter_barely(seed: int) -> None:
    # Gaussian jitter: a median of 24 changes under half its usual value is a rare
    # draw (about 1 % of windows, each boosted a little); the pinned stretch's
    # changes are uniform over 2 (median 0.59) against the usual 3.8
    values = noisy_runs(seed)
    member = Steadiness(window=24)
    boost = member.assess(member.initial_state(3), values)
    assert np.nanmedian(boost[1500 + 24:1600, 0]) > 2.0
    assert np.mean(boost[400:1400, 0] > 1.0) < 0.02
    assert np.max(boost[400:1400, 0]) < 1.5


@pytest.mark.parametrize("params, name", [
    ({"window": 1}, "window"), ({"window": 2.5}, "window"), ({"window": True}, "window"),
    ({"ratio": 0.0}, "ratio"), ({"ratio": 1.5}, "ratio"), ({"ratio": float("nan")}, "ratio"),
    ({"halflife": 0.0}, "halflife"), ({"halflife": float("inf")}, "halflife"),
    ({"ready": -1}, "ready"), ({"max_boost": 0.5}, "max_boost"),
    ({"max_boost": float("inf")}, "max_boost")])
def test_an_impossible_parameter_is_refused_with_its_name(params: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Steadiness(**params).initial_state(1)
