"""Algorithm-specific cases of the threshold detectors (the contract is in test_conformance)."""

from __future__ import annotations

import numpy as np
import pytest

import kizashi
from kizashi.detectors.base import Detector


def test_static_bounds():
    detector = kizashi.detector("static_threshold", low=10.0, high=90.0)
    assert detector.score([5.0, 50.0, 95.0, np.nan]).tolist()[:3] == [5.0, 0.0, 5.0]
    with pytest.raises(ValueError, match="needs low= and/or high="):
        kizashi.detector("static_threshold").score([1.0])
    with pytest.raises(ValueError, match="must be below"):
        kizashi.detector("static_threshold", low=5, high=1).score([1.0])


def test_sigma_excludes_the_point_itself_and_warms_up():
    values = np.r_[np.tile([0.0, 1.0], 20), 10.0]
    scores = kizashi.detector("threshold", window=40, min_periods=10).score(values)
    assert np.all(scores[:10] == 0.0)
    assert np.isclose(scores[-1], (10.0 - 0.5) / 0.5)


def test_two_dimensional_input_is_scored_per_column():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(300, 3))
    detector = kizashi.detector("threshold", window=50, min_periods=10)
    together = detector.score(values)
    apart = np.column_stack([kizashi.detector("threshold", window=50, min_periods=10)
                             .score(values[:, j]) for j in range(3)])
    np.testing.assert_allclose(together, apart)


def test_quantile_band_ignores_a_few_outliers():
    values = np.r_[np.tile(np.arange(10.0), 10), 8.0]
    values[50] = 1000.0  # one earlier outlier does not widen a 5–95 % band
    detector = kizashi.detector("quantile_threshold", window=100, low=0.05, high=0.95,
                                min_periods=20)
    assert detector.score(values)[-1] == 0.0
    assert detector.score(np.r_[values[:-1], 20.0])[-1] > 1.0


def test_seasonal_follows_a_quiet_season_that_a_fixed_bound_does_not():
    hours = np.arange(24 * 7 * 6)
    daily = 60 + 25 * np.sin(2 * np.pi * (hours % 24) / 24)
    quiet = np.where(hours >= 24 * 7 * 4, 0.6, 1.0)  # the last two weeks are quiet
    values = daily * quiet + np.random.default_rng(2).normal(0, 1.5, hours.size)
    seasonal = kizashi.detector("seasonal_threshold", period="1d", slot="1h")
    scores = seasonal.score(values, timestamps=hours * 3600.0)
    last_week = slice(24 * 7 * 5, None)
    assert (scores[last_week] > seasonal.default_threshold).mean() < 0.02
    fixed = kizashi.detector("static_threshold", low=30.0).score(values)
    assert (fixed[last_week] > 0).mean() > 0.2


def test_seasonal_needs_timestamps_and_a_whole_number_of_slots():
    with pytest.raises(ValueError, match="needs timestamps"):
        kizashi.detector("seasonal_threshold").score([1.0, 2.0])
    with pytest.raises(ValueError, match="whole number of slots"):
        kizashi.detector("seasonal_threshold", period="1d", slot="7h").score(
            [1.0], timestamps=[0.0])


def test_load_state_refuses_other_params_and_detectors():
    a = kizashi.detector("threshold", k=3.0).fit(np.arange(50.0))
    with pytest.raises(ValueError, match="parameters"):
        kizashi.detector("threshold", k=4.0).load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="belongs to"):
        kizashi.detector("quantile_threshold").load_state_dict(a.state_dict())


def test_update_scalar_and_row():
    detector: Detector = kizashi.detector("threshold", window=5, min_periods=2)
    assert isinstance(detector.update(1.0), float)
    fresh = kizashi.detector("threshold", window=5, min_periods=2)
    assert fresh.update([1.0, 2.0]).shape == (2,)
    with pytest.raises(ValueError, match="reset\\(\\) or fit\\(\\)"):
        fresh.update([1.0, 2.0, 3.0])


def _week_of_days(levels_by_weekday, weeks, holiday_day=None, holiday_level=None):
    """Hourly values: each weekday's level (Monday first), for ``weeks`` weeks."""
    start = np.datetime64("2026-03-02T00:00", "s").astype(np.int64)  # a Monday
    hours = np.arange(weeks * 7 * 24)
    t = start + hours * 3600.0
    day = hours // 24
    values = np.array([levels_by_weekday[d % 7] for d in day], dtype=float)
    values = values + np.random.default_rng(0).normal(0, 1.0, values.size)
    if holiday_day is not None:
        values[day == holiday_day] = holiday_level + np.random.default_rng(1).normal(
            0, 1.0, (day == holiday_day).sum())
    return values, t, day


def test_seasonal_holiday_is_compared_with_a_sunday():
    import kizashi

    levels = [80, 80, 80, 80, 80, 50, 30]  # weekdays busy, Saturday 50, Sunday 30
    holiday = 7 * 5 + 2                     # a Wednesday of the sixth week, quiet as a Sunday
    values, t, day = _week_of_days(levels, 6, holiday, 30.0)
    date = str(np.datetime64(int(t[day == holiday][0]), "s").astype("datetime64[D]"))
    plain = kizashi.detector("seasonal_threshold", season_halflife="2w")
    aware = kizashi.detector("seasonal_threshold", season_halflife="2w", holidays=date)
    on_holiday = day == holiday
    assert plain.score(values, t)[on_holiday][:4].min() > 8  # a Wednesday at 30: odd
    assert aware.score(values, t)[on_holiday].max() < 4      # a Sunday at 30: usual


def test_seasonal_holidays_need_a_week_and_dates():
    import kizashi

    with pytest.raises(ValueError, match="weekly period"):
        kizashi.detector("seasonal_threshold", period="1d", holidays="2026-03-04").score(
            [1.0], [0.0])
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        kizashi.detector("seasonal_threshold", holidays="next friday").score([1.0], [0.0])
