"""Recent-past signals: hand-computed values, and a cause inside its training range."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kizashi.detectors.multivariate.deviation import WINDOWS, DeviationAttribution
from kizashi.detectors.multivariate.recent_change import lagged_means, recent_signals


@pytest.mark.parametrize(("window", "lag"), [(1, 0), (3, 2), (20, 7), (50, 100)])
def test_lagged_means_are_pandas_rolling_means_shifted_by_the_lag(window, lag):
    signal = np.random.default_rng(window).normal(0, 1, (400, 2))
    rolled = pd.DataFrame(signal).rolling(window, min_periods=1).mean().to_numpy()
    start = 150
    rows = np.clip(np.arange(start, 400) - lag, 0, None)
    np.testing.assert_allclose(lagged_means(signal, start, window, lag), rolled[rows],
                               rtol=1e-9, atol=1e-12)


def test_recent_signals_by_hand():
    # 30 rows at 2.0, then a metric alternating 2, 4, 2, 4, ...: its changes go from 0 to 2
    values = np.r_[np.full(30, 2.0), np.tile([2.0, 4.0], 5)][:, None]
    change, level = recent_signals(values, 30, lag=10, baseline=10, windows=(4,),
                                   unit_change=np.array([0.5]), unit_level=np.array([2.0]),
                                   eps=0.1)
    # last row: baseline rows 20..29 (constant: changes 0, mean 2, sd 0); recent window rows
    # 36..39 = 2, 4, 2, 4 with changes 2, 2, 2, 2 (row 36 follows a 4); the same window a
    # day (10 rows) earlier, rows 26..29, is 2, 2, 2, 2
    assert change[-1, 0] == pytest.approx(np.log((2.0 + 0.05) / (0.0 + 0.05)))
    assert level[-1, 0] == pytest.approx(abs(3.0 - 2.0) / (0.0 + 0.2))
    # first judged row (30): its own value equals the baseline's, no change yet
    assert change[0, 0] == pytest.approx(0.0) and level[0, 0] == pytest.approx(0.0)


def test_the_level_offset_compares_the_same_time_the_day_before():
    # a clean daily cycle (period = lag) has no level offset at all; shifted by 1 it has
    period = 48
    cycle = np.sin(2 * np.pi * np.arange(6 * period) / period)[:, None]
    kwargs = {"lag": period, "baseline": period, "windows": (4,), "eps": 0.05,
              "unit_change": np.ones(1), "unit_level": np.ones(1)}
    level = recent_signals(cycle, 2 * period, **kwargs)[1]
    np.testing.assert_allclose(level, 0.0, atol=1e-9)
    shifted = cycle.copy()
    shifted[4 * period:] += 1.0
    level = recent_signals(shifted, 2 * period, **kwargs)[1]
    # a day's sd of a sine is 1/√2; rows 4 steps past the shift until a day later see +1
    judged = np.arange(4 * period + 3, 5 * period) - 2 * period
    np.testing.assert_allclose(level[judged, 0], 1.0 / (np.sqrt(0.5) + 0.05), rtol=1e-6)


def regime_noise(n: int, seed: int, block: int, phase: int) -> np.ndarray:
    """White noise whose spread alternates between quiet (0.1) and busy (1.0) blocks."""
    rng = np.random.default_rng(seed)
    busy = ((np.arange(n) + phase) // block) % 2 == 1
    return rng.normal(0, 1, n) * np.where(busy, 1.0, 0.1)


@pytest.mark.parametrize("cause", [0, 1, 2])
def test_a_metric_livelier_than_the_day_before_but_inside_its_training_range_ranks_first(
        cause):
    # In training every metric has quiet days (spread 0.1) and busy days (spread 1.0).
    # In the test one metric (`steady`) is busy all along, a day it was busy before too;
    # from step 400 the cause goes from quiet to a spread of 0.5, inside its training range:
    # against the training rows `steady` (upper regime) looks more unusual, against the day
    # before only the cause changed.
    n, block = 8000, 2000
    train = np.stack([regime_noise(n, seed, block, seed * 700) for seed in range(3)], axis=1)
    rng = np.random.default_rng(10 + cause)
    steady = (cause + 1) % 3
    test = rng.normal(0, 0.1, (900, 3))
    test[:, steady] *= 10.0
    test[400:, cause] *= 5.0
    history = rng.normal(0, 0.1, (500, 3))     # the day before: the same regimes
    history[:, steady] *= 10.0
    with_recent = DeviationAttribution(lag=200, baseline=200).fit(train)
    assert with_recent.recent
    # rows 80-200 steps into the change: younger than the lag, so the baseline is the
    # quiet day before (the trailing windows of 64 steps are full)
    judged = slice(480, 600)
    deviation = with_recent.deviation(test, history=history)
    assert (np.argmax(deviation[judged], axis=1) == cause).mean() >= 0.85
    # without the recent-past signals the busy metric is blamed instead
    without = DeviationAttribution(lag=0).fit(train).deviation(test, history=history)
    assert (np.argmax(without[judged], axis=1) == cause).mean() <= 0.1
    assert (np.argmax(without[judged], axis=1) == steady).mean() >= 0.9


def test_too_few_training_rows_leave_the_recent_signals_out():
    train = np.random.default_rng(0).normal(0, 1, (1000, 2))
    # the recent signals read lag + max(baseline, windows) + 1 rows back; twice that is needed
    short = DeviationAttribution(lag=300, baseline=300, recent_windows=(8, 64)).fit(train)
    assert not short.recent and short.history_rows == max(WINDOWS)
    enough = DeviationAttribution(lag=200, baseline=200, recent_windows=(8, 64)).fit(train)
    assert enough.recent and enough.history_rows == max(max(WINDOWS), 200 + 200)
    assert DeviationAttribution(lag=400, baseline=90, recent_windows=(8, 64)).fit(train).recent
    assert not DeviationAttribution(lag=400, baseline=100, recent_windows=(8, 64)).fit(train).recent


@pytest.mark.parametrize("cut", [1, 150, 599])
def test_a_block_explained_after_its_history_equals_the_whole_with_recent_signals(cut):
    rng = np.random.default_rng(cut)
    train, test = rng.normal(0, 1, (3000, 3)), rng.normal(0, 1, (600, 3))
    test[250:, 1] *= 3.0
    attribution = DeviationAttribution(lag=300, baseline=200).fit(train)
    whole = attribution.deviation(test)
    second = attribution.deviation(test[cut:], history=np.concatenate([train, test[:cut]]))
    np.testing.assert_allclose(second, whole[cut:], rtol=1e-9, atol=1e-9)


def test_the_recent_state_survives_a_json_round_trip():
    import json

    from kizashi.state import from_json_safe, to_json_safe

    rng = np.random.default_rng(4)
    train, test = rng.normal(0, 1, (3000, 3)), rng.normal(0, 1, (100, 3))
    attribution = DeviationAttribution(lag=300, baseline=200, recent_windows=(4, 32)).fit(train)
    back = DeviationAttribution.from_state(
        from_json_safe(json.loads(json.dumps(to_json_safe(attribution.state)))))
    assert back.recent and (back.lag, back.baseline, back.recent_windows) == (300, 200, (4, 32))
    np.testing.assert_array_equal(back.deviation(test), attribution.deviation(test))


@pytest.mark.parametrize("bad", [{"lag": -1}, {"baseline": 0}, {"recent_windows": ()},
                                 {"recent_windows": (0,)}, {"eps": 0.0}, {"eps": np.nan}])
def test_bad_recent_parameters_are_refused(bad):
    with pytest.raises(ValueError, match="deviation"):
        DeviationAttribution(**bad)
