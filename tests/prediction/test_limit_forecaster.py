"""The forecaster on hand-made series: exact ETAs on a line, silence on flat and cyclic ones."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.prediction.limit_forecaster import LimitForecaster
from kizashi.prediction.predict_linear import predict_linear
from kizashi.prediction.predictor import predict_frame

STEP = 300.0
DAY = int(86400 / STEP)


@pytest.mark.parametrize("season", [None, 96])
@pytest.mark.parametrize("slope", [0.25, 0.1, 0.05])
def test_a_straight_line_gets_the_exact_eta(season, slope):
    limit = 10 + slope * 400.4  # reached between rows 400 and 401
    t = np.arange(600.0)
    line = (10 + slope * t)[:, None]
    forecaster = LimitForecaster(horizon_steps=48, window=24, season_steps=season,
                                 error_window=48)
    out = forecaster.crossing(line, upper=np.array([limit]))
    ready = np.flatnonzero(out.ready[:, 0])
    assert ready.size and ready[0] < 300
    for row in ready[ready <= 400]:
        expected = 401 - row  # first step h with 10 + slope·(row + h) ≥ limit
        if expected <= 48:
            assert out.eta_steps[row, 0] == expected
            assert out.z[row, 0] > 5
        else:
            assert np.isnan(out.eta_steps[row, 0])
            assert out.z[row, 0] < -5


def test_a_flat_noisy_series_never_warns():
    rng = np.random.default_rng(1)
    seconds = np.arange(0, 6 * 86400, STEP)
    values = 60 + rng.normal(0, 2.0, (seconds.size, 3)) + np.array([0, 10, 25])
    frame = SeriesFrame.from_arrays(seconds, values, ["a", "b", "c"], ["used_pct"] * 3)
    result = predict_frame(frame, "6h")
    learned = np.isfinite(result.probability)
    assert learned[-1].all()
    assert not result.warning.any()
    assert np.all(np.isnat(result.eta))
    assert np.nanmax(result.probability) < 0.05


def _nightly_cleanup(rng, days, peak, power, hour):
    hours = np.arange(days * DAY) * STEP / 3600
    since = (hours - hour) % 24
    return 8 + (peak - 8) * (since / 24) ** power + rng.normal(0, 0.3, hours.size)


@pytest.mark.parametrize("peak, power, hour", [(85, 1.0, 3), (92, 1.5, 3), (90, 0.8, 6),
                                               (93, 1.2, 0)])
def test_a_fill_and_empty_cycle_does_not_warn_but_predict_linear_does(peak, power, hour):
    rng = np.random.default_rng(int(peak * 10 + hour))
    values = _nightly_cleanup(rng, 7, peak, power, hour)[:, None]
    seconds = np.arange(values.shape[0]) * STEP
    frame = SeriesFrame.from_arrays(seconds, values, ["n1"], ["scratch_pct"])
    result = predict_frame(frame, "6h")
    assert np.isfinite(result.probability[-1]).all()
    assert not result.warning.any()
    # the same data makes Prometheus' rule fire: the test is not trivially quiet
    assert (predict_linear(seconds, values, 6 * 3600, 6 * 3600) >= 100).any()


@pytest.mark.parametrize("cut", [700, 1000, 1500])
def test_predictions_at_t_do_not_change_when_the_future_changes(cut):
    rng = np.random.default_rng(cut)
    seconds = np.arange(0, 7 * 86400, STEP)
    base = 50 + 10 * np.sin(2 * np.pi * seconds / 86400)[:, None]
    base = base + rng.normal(0, 1, (seconds.size, 2))
    altered = base.copy()
    altered[cut + 1:] = rng.normal(500, 50, altered[cut + 1:].shape)
    kwargs = {"entities": ["n1", "n2"], "metrics": ["mem_pct", "load"]}
    one = predict_frame(SeriesFrame.from_arrays(seconds, base, **kwargs), "6h")
    two = predict_frame(SeriesFrame.from_arrays(seconds, altered, **kwargs), "6h")
    np.testing.assert_array_equal(one.probability[: cut + 1], two.probability[: cut + 1])
    np.testing.assert_array_equal(one.warning[: cut + 1], two.warning[: cut + 1])
    np.testing.assert_array_equal(one.eta[: cut + 1], two.eta[: cut + 1])
    assert np.isfinite(one.probability[cut]).all()
    assert not np.array_equal(one.probability[cut + 300:], two.probability[cut + 300:])


def test_a_long_horizon_in_fine_steps_gets_the_eta_to_the_grid():
    # 1-minute data, 6 h ahead: 360 steps, checked at 72 of them (every ~5 steps)
    t = np.arange(3000.0)
    line = (10 + 0.02 * t)[:, None]
    limit = 10 + 0.02 * 2800.5  # reached between rows 2800 and 2801
    forecaster = LimitForecaster(horizon_steps=360, window=120, error_window=240)
    out = forecaster.crossing(line, upper=np.array([limit]))
    for row in (2500, 2600, 2700):
        exact = 2801 - row
        assert exact <= out.eta_steps[row, 0] <= exact + 6
        assert out.z[row, 0] > 5
    assert np.isnan(out.eta_steps[2400, 0])  # 401 steps away: beyond the horizon


@pytest.mark.parametrize("days_leaking", [1.2, 1.6, 2.5, 4.0])
@pytest.mark.parametrize("rate", [0.05, 0.2])
def test_the_seasonal_forecaster_follows_a_leak_on_a_daily_rhythm_from_its_first_day(
        days_leaking, rate):
    from kizashi.prediction.incremental import _SEASONAL  # the seasonal forecaster's index
    from kizashi.prediction.limit_forecaster import _Paths

    period, window, h = 48, 12, 6
    n = 8 * period
    t = np.arange(n, dtype=np.float64)
    start = n - 1 - round(days_leaking * period)
    rhythm = 5.0 * np.sin(2 * np.pi * t / period)
    y = 50.0 + rhythm + rate * np.clip(t - start, 0, None)
    # at the last row (leak running for days_leaking days): each past day's change from
    # now to h ahead is the rhythm's, plus the leak's r·h where it was leaking then; the
    # drift (slope now − slope then) adds r·h where it was not. Either way the truth, for
    # every day whose slope window (12 steps) did not straddle the leak's start: at least
    # two of the three, so the median is the truth. (The day-1-only drift of before missed
    # r·h while only one of the three past days was leaking: 1.2 and 1.6 days here.)
    row = n - 1 - h
    truth = y[row + h]
    forecast = _Paths(y[: row + 1, None], window, period).forecast(_SEASONAL, h)[row, 0]
    assert forecast == pytest.approx(truth, abs=1e-9)
