"""Variants of the centre scenario: each changes the one thing it names, draw for draw."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data import centre as c
from kizashi.data.centre_variants import VARIANTS, variant_centre

SMALL = {"n_nodes": 4, "weeks": 4, "incidents": False}


def metric(scenario: c.CentreScenario, name: str) -> np.ndarray:
    frame = scenario.frame
    return frame.values[:, [j for j, m in enumerate(frame.metrics) if m == name]]


def test_the_base_variant_is_the_scenario_draw_for_draw() -> None:
    base = variant_centre("base", seed=4, n_nodes=4, weeks=3)
    plain = c.generate_centre(n_nodes=4, weeks=3, seed=4)
    np.testing.assert_array_equal(base.frame.values, plain.frame.values)
    assert base.incidents == plain.incidents and base.holidays == plain.holidays


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_generates_its_incidents(name: str) -> None:
    weeks = 3
    scenario = variant_centre(name, seed=2, weeks=weeks, **({} if "nodes" in name
                                                             else {"n_nodes": 4}))
    assert scenario.frame.n_times == weeks * 7 * c.STEPS_PER_DAY
    assert np.isfinite(scenario.frame.values).all()
    assert sorted(i.kind for i in scenario.incidents) == sorted(c.INCIDENT_KINDS)


def test_node_variants_have_their_nodes() -> None:
    for name, nodes in (("nodes-64", 64), ("nodes-128", 128)):
        scenario = variant_centre(name, seed=0, weeks=2, learn_days=3, incidents=False)
        assert scenario.frame.n_series == nodes * len(c.METRICS) + 1


def test_noisy_doubles_the_noise_and_nothing_else() -> None:
    base = c.generate_centre(seed=3, **SMALL)
    noisy = variant_centre("noisy", seed=3, **SMALL)
    # latency's noise is a log-normal factor of spread 0.12: the ratio of the two runs
    # is that factor once more, exactly
    ratio = np.log(metric(noisy, "fs_latency_ms") / metric(base, "fs_latency_ms"))
    assert ratio.std() == pytest.approx(0.12, rel=0.03)
    # memory is never clipped here: the difference is the base run's noise once more
    difference = metric(noisy, "mem_used_pct") - metric(base, "mem_used_pct")
    assert 0.5 < difference.std() < 5.0
    np.testing.assert_array_equal(metric(noisy, "daemon_restarts"),
                                  metric(base, "daemon_restarts"))


def activity_by_day(scenario: c.CentreScenario) -> np.ndarray:
    """Mean CPU per day over the nodes (each node's CPU is its base × activity × jobs)."""
    cpu = metric(scenario, "cpu_util").mean(axis=1)
    return cpu.reshape(-1, c.STEPS_PER_DAY).mean(axis=1)


def test_an_early_quiet_season_ends_and_activity_comes_back() -> None:
    scenario = variant_centre("quiet-early", seed=1, n_nodes=16, weeks=8, incidents=False)
    days = activity_by_day(scenario)
    start = int(56 * 0.3)
    assert scenario.quiet_season_start == start * c.STEPS_PER_DAY
    weekdays = np.arange(56) % 7 < 5
    weekdays[list(scenario.holidays)] = False
    before = days[:start][weekdays[:start]].mean()
    during = days[start + 3:start + 13][weekdays[start + 3:start + 13]].mean()
    after = days[start + 17:][weekdays[start + 17:]].mean()
    assert during / before == pytest.approx(0.6, abs=0.06)  # activity −40 %
    assert after / before == pytest.approx(1.0, abs=0.06)


def test_a_deep_quiet_season_drops_sixty_percent() -> None:
    scenario = variant_centre("quiet-deep", seed=1, n_nodes=16, weeks=8, incidents=False)
    days = activity_by_day(scenario)
    weekdays = np.flatnonzero((np.arange(56) % 7 < 5) & ~np.isin(np.arange(56),
                                                                  scenario.holidays))
    start = scenario.quiet_season_start // c.STEPS_PER_DAY
    ratio = days[weekdays[weekdays > start + 2]].mean() / days[weekdays[weekdays < start]].mean()
    assert ratio == pytest.approx(0.4, abs=0.05)


def test_the_holiday_week_looks_like_a_sunday() -> None:
    scenario = variant_centre("holiday-week", seed=6, n_nodes=16, weeks=4, incidents=False)
    assert {22, 23, 24} <= set(scenario.holidays)
    days = activity_by_day(scenario)
    assert days[22:25].mean() == pytest.approx(days[20], rel=0.1)  # the Sunday of week 3
    assert days[22:25].mean() < 0.75 * days[15:18].mean()  # Tuesday to Thursday of week 3


def test_utc_plus_nine_moves_the_busy_hours_nine_hours_earlier_in_utc() -> None:
    base = c.generate_centre(seed=8, **SMALL)
    east = variant_centre("utc+9", seed=8, **SMALL)
    assert east.timezone == "+09:00" and base.timezone == "+00:00"

    def by_hour(scenario: c.CentreScenario) -> np.ndarray:
        cpu = metric(scenario, "cpu_util").mean(axis=1)
        return cpu.reshape(-1, 24, c.STEPS_PER_HOUR).mean(axis=(0, 2))

    # the UTC day of the centre in UTC+9 is the local one started 9 hours later
    here, there = by_hour(base), by_hour(east)
    lags = [np.corrcoef(np.roll(here, -k), there)[0, 1] for k in range(24)]
    assert int(np.argmax(lags)) == 9 and max(lags) > 0.95


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"noise": -1.0}, "noise"), ({"quiet_start": 1.5}, "quiet_start"),
    ({"quiet_drop": 1.0}, "quiet_drop"), ({"quiet_days": 1.0}, "at least 2 days"),
    ({"utc_offset_hours": 15.0}, "UTC offset")])
def test_impossible_variants_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        c.generate_centre(n_nodes=4, weeks=3, **kwargs)


def test_an_unknown_variant_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: base, nodes-64"):
        variant_centre("martian")
