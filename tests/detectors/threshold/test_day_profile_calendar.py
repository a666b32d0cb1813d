"""teach="calendar": the day profile learns both profiles (weekends, holidays, local days)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kizashi.detectors.ensemble import EnsembleDetector
from kizashi.detectors.threshold.day_profile import DayProfile
from kizashi.state import from_json_safe, to_json_safe

STEP = 300.0
PER_DAY = 288
MONDAY = 4 * 86400.0  # 1970-01-05 was a Monday
NOON = 12  # the slot of 12:00-13:00 (one-hour slots)


def week_of_levels(days: int, first_day: int = 0, offset_hours: float = 0.0, seed: int = 0,
                   holidays: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """5-minute steps from local midnight of weekday ``first_day`` (0: Monday) on a clock at
    UTC + ``offset_hours``: working days 30 at night and 60 from 9 to 18 h, days off (weekends
    and the day numbers ``holidays``) 20 all day; Gaussian noise σ 1. Timestamps in UTC."""
    steps = np.arange(days * PER_DAY)
    t = MONDAY + first_day * 86400.0 - offset_hours * 3600.0 + steps * STEP
    day = steps // PER_DAY
    hour = (steps % PER_DAY) / 12.0
    off = ((day + first_day) % 7 >= 5) | np.isin(day, holidays)
    working = np.where((hour >= 9) & (hour < 18), 60.0, 30.0)
    values = np.where(off, 20.0, working)
    return values + np.random.default_rng(seed).normal(0, 1.0, steps.size), t


@pytest.mark.parametrize("first_day", range(7))
def test_each_profile_learns_its_days_whatever_day_the_data_starts_on(first_day: int) -> None:
    # two weekends are in any 15 days; by then both profiles hold their own levels
    values, t = week_of_levels(15, first_day)
    member = DayProfile(teach="calendar")
    state = member.initial_state(1)
    member.assess(state, values[:, None], t)
    gain, mean = state["gain"][0], state["mean"][:, :, 0]
    assert gain * mean[1, NOON] == pytest.approx(20.0, abs=1.0)  # day off: 20 all day
    assert gain * mean[1, 3] == pytest.approx(20.0, abs=1.0)
    assert gain * mean[0, NOON] == pytest.approx(60.0, abs=1.0)  # working day: 60 at noon
    assert gain * mean[0, 3] == pytest.approx(30.0, abs=1.0)  # and 30 at 3 a.m.
    assert (state["days"][1] >= 3).all()  # every hour of the day off seen on 3+ days


def test_a_weekend_with_its_own_level_is_ordinary_and_an_incident_on_it_is_not() -> None:
    values, t = week_of_levels(21)  # three weeks from a Monday
    saturday = 19 * PER_DAY
    at = saturday + NOON * 12
    values[at:at + 6] = 45.0  # 25 σ above the weekend's noon, 15 under a working noon
    member = DayProfile(teach="calendar")
    z = member.assess(member.initial_state(1), values[:, None], t)[:, 0]
    # the third weekend: against the day-off profile (20, σ 1) the noise is under 5 σ
    weekend = np.r_[saturday:at, at + 6:21 * PER_DAY]
    assert np.nanmax(z[weekend]) < 5.0
    # 45 is 25 spreads off the day-off noon (and 15 off the working noon of 60)
    assert z[at:at + 2].min() > 10.0


def test_before_the_fix_the_day_off_profile_never_learned() -> None:
    # the rule kept as the default, teach="fit": a profile that does not know an hour never fits
    # it, so a series starting on a Monday teaches only its working-day profile
    values, t = week_of_levels(15)
    old = DayProfile(teach="fit")
    state = old.initial_state(1)
    old.assess(state, values[:, None], t)
    assert (state["weight"][1] == 0).all()


def test_a_listed_holiday_teaches_the_day_off_profile() -> None:
    values, t = week_of_levels(17, holidays=(16,))  # Wednesday of week three
    listed = DayProfile(holidays="1970-01-21", teach="calendar")
    assert listed.days_off(t[16 * PER_DAY:17 * PER_DAY]).all()
    state = listed.initial_state(1)
    z = listed.assess(state, values[:, None], t)[:, 0]
    assert np.nanmax(z[16 * PER_DAY:]) < 5.0
    # four weekend days and the holiday taught the day off; 11 working days the other
    assert state["days"][1, NOON, 0] == 5 and state["days"][0, NOON, 0] == 12


def test_an_unlisted_holiday_is_judged_as_a_day_off_and_the_next_day_as_working() -> None:
    values, t = week_of_levels(18, holidays=(16,))
    member = DayProfile(teach="calendar")
    z = member.assess(member.initial_state(1), values[:, None], t)[:, 0]
    # against the working profile the holiday's noon would be (60 - 20) / 1 = 40 spreads; the
    # day-off profile judges it (a few spreads: the holiday teaches the working days, clipped
    # at 5 spreads, and their gain drifts during the day)
    assert np.nanmax(z[16 * PER_DAY:17 * PER_DAY]) < 8.0
    assert np.nanmax(z[17 * PER_DAY:]) < 5.0


def test_the_local_clock_changes_scores_where_the_weekend_is_local() -> None:
    """A centre in UTC+9 with local weekends: on its own clock each profile holds its days;
    on UTC's, Friday 15:00-24:00 UTC (a local Saturday morning) teaches the working days."""
    values, t = week_of_levels(22, offset_hours=9.0)
    local = DayProfile(timezone="+09:00", teach="calendar")
    utc = DayProfile(teach="calendar")
    local_state, utc_state = local.initial_state(1), utc.initial_state(1)
    z_local = local.assess(local_state, values[:, None], t)[:, 0]
    z_utc = utc.assess(utc_state, values[:, None], t)[:, 0]
    # local noon of a day off is 20, of a working day 60, in the local slot 12
    gain, mean = local_state["gain"][0], local_state["mean"][:, NOON, 0]
    assert gain * mean[1] == pytest.approx(20.0, abs=1.0)
    assert gain * mean[0] == pytest.approx(60.0, abs=1.0)
    # on UTC's clock, slot 20 (local 05:00) of the working days mixes local Saturday mornings
    # (20) into the nights (30), and of the days off local Monday mornings (30) into 20
    utc_gain, utc_mean = utc_state["gain"][0], utc_state["mean"][:, 20, 0]
    assert abs(utc_gain * utc_mean[0] - 30.0) > 1.0
    assert abs(utc_gain * utc_mean[1] - 20.0) > 2.0
    assert gain * local_state["mean"][0, 5, 0] == pytest.approx(30.0, abs=1.0)
    finite = np.isfinite(z_local) & np.isfinite(z_utc)
    assert finite[-7 * PER_DAY:].all()
    assert np.abs(z_local - z_utc)[finite].max() > 1.0
    assert np.nanmax(z_local[-7 * PER_DAY:]) < 5.0


def test_the_state_round_trips_through_json_and_blocks_equal_steps() -> None:
    values, t = week_of_levels(10, first_day=3, seed=4)
    block = np.c_[values, 2.0 * values[::-1]]
    whole = DayProfile(holidays="1970-01-12", teach="calendar")
    expected = whole.assess(whole.initial_state(2), block, t)
    member = DayProfile(holidays="1970-01-12", teach="calendar")
    state = member.initial_state(2)
    half = block.shape[0] // 2
    first = np.vstack([member.assess(state, block[i:i + 1], t[i:i + 1]) for i in range(half)])
    restored = from_json_safe(json.loads(json.dumps(to_json_safe(state))))
    second = member.assess(restored, block[half:], t[half:])
    np.testing.assert_array_equal(np.vstack([first, second]), expected)


def test_a_state_saved_before_days_were_counted_still_scores() -> None:
    values, t = week_of_levels(12)
    member = DayProfile(teach="calendar")
    state = member.initial_state(1)
    member.assess(state, values[:9 * PER_DAY, None], t[:9 * PER_DAY])
    del state["days"]
    z = member.assess(state, values[9 * PER_DAY:, None], t[9 * PER_DAY:])
    assert np.nanmax(z) < 5.0 and state["days"].shape == state["weight"].shape


@pytest.mark.parametrize("teach", ["weekends", "", "Calendar"])
def test_an_unknown_teaching_rule_is_refused(teach: str) -> None:
    with pytest.raises(ValueError, match="teach is"):
        DayProfile(teach=teach).assess(DayProfile().initial_state(1), np.ones((1, 1)),
                                              np.zeros(1))


def test_the_ensemble_hands_its_calendar_rule_to_the_day_profile() -> None:
    values, t = week_of_levels(15)
    detector = EnsembleDetector()  # the default keeps the old rule (teach="fit")
    detector.update_many(values, timestamps=t)
    assert (detector.state_["day_profile"]["weight"][1] == 0).all()
    detector = EnsembleDetector(profile_teach="calendar")
    detector.update_many(values, timestamps=t)
    assert (detector.state_["day_profile"]["days"][1] >= 3).all()


def test_the_ensemble_learns_a_local_weekend_on_the_local_clock() -> None:
    values, t = week_of_levels(16, offset_hours=9.0)
    detector = EnsembleDetector(timezone="+09:00", profile_teach="calendar")
    detector.update_many(values, timestamps=t)
    profile = detector.state_["day_profile"]
    expected = profile["gain"][0] * profile["mean"][:, NOON, 0]  # local noon
    np.testing.assert_allclose(expected, [60.0, 20.0], atol=1.0)


def test_a_quiet_season_is_learned_into_the_working_days_within_days() -> None:
    values, t = week_of_levels(22)
    drop = 14 * PER_DAY  # a Monday
    values[drop:] = 0.5 * values[drop:]
    member = DayProfile(teach="calendar")
    state = member.initial_state(1)
    learned = drop + 4 * PER_DAY  # four days into it (a Friday)
    member.assess(state, values[:learned, None], t[:learned])
    gain, mean = state["gain"][0], state["mean"][:, :, 0]
    # a working noon is now 60 / 2 = 30, a working 3 a.m. 30 / 2 = 15
    assert gain * mean[0, NOON] == pytest.approx(30.0, rel=0.1)
    assert gain * mean[0, 3] == pytest.approx(15.0, rel=0.1)
