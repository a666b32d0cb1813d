"""The day-profile baseline: quiet seasons learned within days, night-time spikes, holidays."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.ensemble import EnsembleDetector
from kizashi.detectors.threshold.day_profile import DayProfile

STEP = 300.0
PER_DAY = 288
MONDAY = 4 * 86400.0  # 1970-01-05 was a Monday


def office(days: int, seed: int = 0, noise: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """5-minute steps from a Monday: 40 at night, 80 from 9 to 18 h on working days, 50 on
    weekends' office hours, Gaussian noise."""
    steps = np.arange(days * PER_DAY)
    t = MONDAY + steps * STEP
    hour = (steps % PER_DAY) / 12.0
    weekday = (steps // PER_DAY) % 7
    busy = (hour >= 9) & (hour < 18)
    values = np.where(busy, np.where(weekday < 5, 80.0, 50.0), 40.0)
    return values + np.random.default_rng(seed).normal(0, noise, steps.size), t


def test_a_level_that_halves_is_learned_within_days() -> None:
    values, t = office(28)
    drop = 14 * PER_DAY
    values[drop:] = 0.5 * values[drop:]  # a quiet season: everything halves
    member = DayProfile()
    state = member.initial_state(1)
    learned = drop + 4 * PER_DAY  # four days into the quiet season (a Friday)
    z = member.assess(state, values[:learned, None], t[:learned])[:, 0]
    # what it expects at noon and at 3 a.m. of a working day is within 10 % of the new
    # levels (80 / 2 = 40 and 40 / 2 = 20), where a week-long mean would still be half-way
    gain, mean = state["gain"][0], state["mean"][0, :, 0]
    assert gain * mean[12] == pytest.approx(40.0, rel=0.1)
    assert gain * mean[3] == pytest.approx(20.0, rel=0.1)
    # and the rest of the month is ordinary again (noise σ 1 after halving: |z| < 5)
    rest = member.assess(state, values[learned:, None], t[learned:])
    assert np.nanmax(rest) < 5.0
    # the drop itself was seen: the first hours after it are far off
    assert np.nanmax(z[drop:drop + PER_DAY]) > 3.0


def test_a_five_am_spike_a_flat_week_misses_is_far_off_the_profile() -> None:
    values, t = office(15)
    at = 14 * PER_DAY + 5 * 12  # a Monday, 5 a.m.
    values[at:at + 12] = 79.0  # a runaway process: an office-hours level at night
    # a baseline over the last week: mean ≈ 55, σ ≈ 18, so 79 is under 2σ
    week = values[at - 7 * PER_DAY:at]
    assert (79.0 - week.mean()) / week.std() < 2.0
    member = DayProfile()
    z = member.assess(member.initial_state(1), values[:, None], t)[:, 0]
    # against 5 a.m.'s own mean (40) and spread (≈ 2): about 39 / 2 ≈ 20
    assert z[at] > 10.0
    assert np.nanmax(z[at - PER_DAY:at]) < 6.0


def test_a_weekday_holiday_is_read_as_a_day_off_without_a_calendar() -> None:
    values, t = office(21)
    holiday = slice(16 * PER_DAY, 17 * PER_DAY)  # Wednesday of week three
    hour = (np.arange(PER_DAY) / 12.0)
    values[holiday] = np.where((hour >= 9) & (hour < 18), 50.0, 40.0) + \
        np.random.default_rng(5).normal(0, 2.0, PER_DAY)
    member = DayProfile()
    z = member.assess(member.initial_state(1), values[:, None], t)[:, 0]
    assert np.nanmax(z[holiday]) < 6.0
    # the same day judged only against working days would be 30 / 2 = 15 off
    working_only = DayProfile(holidays=None)
    state = working_only.initial_state(1)
    working_only.assess(state, values[:holiday.start, None], t[:holiday.start])
    noon = 12 * 12
    assert abs(values[holiday][noon] - state["gain"][0] * state["mean"][0, 12, 0]) > 20.0


def test_a_series_without_a_daily_cycle_gets_no_opinion() -> None:
    rng = np.random.default_rng(3)
    steps = np.arange(21 * PER_DAY)
    z = DayProfile().assess(DayProfile().initial_state(1), rng.normal(10, 1, (steps.size, 1)),
                            MONDAY + steps * STEP)
    # white noise: the slots' means differ by about σ/√(samples per slot), far under 10 %
    assert np.isnan(z).all()


def test_steps_and_blocks_agree_and_gaps_are_skipped() -> None:
    values, t = office(9, seed=2)
    block = np.c_[values, values[::-1]]
    block[100:110, 1] = np.nan
    one, many = DayProfile(), DayProfile()
    whole = one.assess(one.initial_state(2), block, t)
    state = many.initial_state(2)
    steps = np.vstack([many.assess(state, block[i:i + 1], t[i:i + 1]) for i in range(t.size)])
    np.testing.assert_array_equal(whole, steps)
    assert np.isnan(whole[100:110, 1]).all()


@pytest.mark.parametrize("slot", ["7m", "0s", "2d"])
def test_a_slot_that_does_not_divide_the_day_is_refused(slot: str) -> None:
    with pytest.raises(ValueError, match="whole number of slots|positive"):
        DayProfile(slot=slot).initial_state(1)


def test_holidays_are_days_off_in_the_calendar() -> None:
    member = DayProfile(holidays="1970-01-07")
    days = MONDAY + np.arange(7) * 86400.0 + 3600.0
    assert member.days_off(days).tolist() == [0, 0, 1, 0, 0, 1, 1]


def test_the_ensemble_catches_a_night_runaway_through_the_profile() -> None:
    values, t = office(21, noise=3.0)
    at = 20 * PER_DAY + 5 * 12  # a Sunday, 5 a.m.
    values[at:at + 48] = 79.0
    scores = EnsembleDetector().score(values, timestamps=t)
    assert scores[at:at + 48].max() >= 0.5
    # without timestamps the day profile cannot run: the score is the flat baseline's
    flat = EnsembleDetector().score(values)
    np.testing.assert_array_equal(flat, EnsembleDetector(seasonal=False).score(values))


def test_an_ensemble_state_saved_before_the_day_profile_existed_still_scores() -> None:
    values, t = office(9)
    old = EnsembleDetector()
    old.update_many(values[:2000], timestamps=t[:2000])
    del old.state_["day_profile"]
    scores = old.update_many(values[2000:], timestamps=t[2000:])
    assert scores.shape == (values.size - 2000,) and np.isfinite(scores).all()
    # it learns the profile afresh from the first step it sees again
    assert old.state_["day_profile"]["started"][0] == t[2000]


def test_the_ensemble_hands_its_holidays_to_the_day_profile() -> None:
    values, t = office(2)
    with pytest.raises(ValueError, match="holidays must be dates"):
        EnsembleDetector(holidays="next friday").score(values, timestamps=t)
    detector = EnsembleDetector(holidays="1970-01-06")
    assert np.isfinite(detector.score(values, timestamps=t)).all()
