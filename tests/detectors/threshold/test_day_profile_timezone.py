"""The day profile's clock: hours, weekends and holidays in the centre's time zone."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.ensemble import EnsembleDetector
from kizashi.detectors.threshold.day_profile import DayProfile

STEP = 300.0
PER_DAY = 288
MONDAY = 4 * 86400.0  # 1970-01-05 was a Monday


def seconds(stamp: str) -> float:
    return float(np.datetime64(stamp, "s").astype(np.int64))


def local_office(days: int, offset_hours: float, seed: int = 0, first_day: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A centre whose clock is UTC + ``offset_hours``: busy 9–18 h local on local working
    days, timestamps in UTC from local 00:00 of weekday ``first_day`` (0: Monday)."""
    steps = np.arange(days * PER_DAY)
    start = MONDAY + first_day * 86400.0 - offset_hours * 3600.0  # UTC of local midnight
    t = start + steps * STEP
    hour = (steps % PER_DAY) / 12.0
    weekday = (steps // PER_DAY + first_day) % 7
    busy = (hour >= 9) & (hour < 18)
    values = np.where(busy, np.where(weekday < 5, 80.0, 50.0), 40.0)
    return values + np.random.default_rng(seed).normal(0, 2.0, steps.size), t


@pytest.mark.parametrize(("zone", "offset"), [("+09:00", 9 * 3600), ("-05:30", -5.5 * 3600),
                                              ("+0930", 9.5 * 3600), ("UTC", 0), (None, 0),
                                              ("Asia/Tokyo", 9 * 3600)])
def test_a_fixed_clock_adds_its_offset(zone: str | None, offset: float) -> None:
    t = MONDAY + np.arange(0, 3 * 86400, 5000.0)
    np.testing.assert_array_equal(DayProfile(timezone=zone).local_seconds(t), t + offset)


def test_daylight_saving_time_moves_the_clock_at_its_hour() -> None:
    # Berlin: CET (+1) until 2026-03-29 01:00 UTC, CEST (+2) from then on
    t = np.array([seconds("2026-03-29T00:59:00"), seconds("2026-03-29T01:00:00"),
                  seconds("2026-10-25T00:59:00"), seconds("2026-10-25T01:00:00")])
    local = DayProfile(timezone="Europe/Berlin").local_seconds(t)
    np.testing.assert_array_equal(local - t, [3600.0, 7200.0, 7200.0, 3600.0])


def test_weekends_and_holidays_are_local_days() -> None:
    # Friday 2026-03-06 16:00 UTC is Saturday 01:00 in Tokyo, 11:00 on Friday in New York
    friday = seconds("2026-03-06T16:00:00")
    assert DayProfile().days_off(np.array([friday])).tolist() == [0.0]
    assert DayProfile(timezone="+09:00").days_off(np.array([friday])).tolist() == [1.0]
    assert DayProfile(timezone="America/New_York").days_off(np.array([friday])).tolist() == [0]
    # a holiday is a local date: Wednesday 2026-03-04 in Tokyo starts at 15:00 UTC Tuesday
    member = DayProfile(timezone="Asia/Tokyo", holidays="2026-03-04")
    hours = seconds("2026-03-03T14:00:00") + np.array([0.0, 3600.0, 24 * 3600.0, 25 * 3600.0])
    assert member.days_off(hours).tolist() == [0.0, 1.0, 1.0, 0.0]


def test_a_local_clock_scores_as_utc_does_on_a_utc_centre() -> None:
    """The same centre in Tokyo with timezone=+09:00 scores exactly as it does in UTC."""
    values, t_utc = local_office(16, 0.0)
    _, t_tokyo = local_office(16, 9.0)
    here = DayProfile().assess(DayProfile().initial_state(1), values[:, None], t_utc)
    member = DayProfile(timezone="+09:00")
    there = member.assess(member.initial_state(1), values[:, None], t_tokyo)
    np.testing.assert_array_equal(here, there)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "+15:00", "+09:75", "nine"])
def test_an_unknown_clock_is_a_one_line_error(zone: str) -> None:
    with pytest.raises(ValueError, match="time zone|UTC offset"):
        DayProfile(timezone=zone).local_seconds(np.array([0.0]))


def test_the_ensemble_hands_its_clock_to_the_day_profile() -> None:
    values, t = local_office(9, 9.0)
    with pytest.raises(ValueError, match="unknown time zone"):
        EnsembleDetector(timezone="Mars/Olympus").score(values, timestamps=t)
    detector = EnsembleDetector(timezone="+09:00")
    assert np.isfinite(detector.update_many(values, timestamps=t)).all()
    # the profile learned on the local clock: it started at local Monday 00:00
    assert detector.state_["day_profile"]["started"][0] == MONDAY
