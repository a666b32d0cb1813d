"""The centre scenario generator: calendar, incidents and ground truth."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kizashi.data import centre as c


@pytest.fixture(scope="module")
def scenario():
    return c.generate_centre(n_nodes=6, weeks=6, seed=7)


def test_shape_and_names(scenario):
    frame = scenario.frame
    assert frame.n_times == 6 * 7 * 288
    assert frame.n_series == 6 * len(c.METRICS) + 1
    assert frame.keys[-1] == ("batch", "pending_jobs")
    assert np.isfinite(frame.values).all()


def test_two_incidents_of_every_kind_after_learning_without_overlap(scenario):
    kinds = [i.kind for i in scenario.incidents]
    assert sorted(kinds) == sorted(c.INCIDENT_KINDS * 2)
    spans = sorted((i.start, i.end) for i in scenario.incidents)
    assert spans[0][0] >= scenario.learn_days * c.STEPS_PER_DAY
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))  # none overlap


def test_labels_are_exactly_the_incident_series(scenario):
    frame = scenario.frame
    expected = np.zeros(frame.values.shape, dtype=bool)
    for incident in scenario.incidents:
        for key in incident.series:
            expected[incident.start:incident.end + 1, frame.keys.index(key)] = True
        assert set(incident.series) <= set(incident.affected)
    np.testing.assert_array_equal(frame.labels, expected)


def test_incidents_change_what_they_say(scenario):
    frame = scenario.frame
    for incident in scenario.incidents:
        j = frame.keys.index(incident.series[0])
        inside = frame.values[incident.start:incident.end + 1, j]
        before = frame.values[incident.start - 288:incident.start, j]
        if incident.kind == "daemon-restart-loop":
            assert inside.min() >= 1 and before.mean() < 0.05
        elif incident.kind in ("filesystem-delay", "filesystem-hang"):
            assert np.median(inside) > 4 * np.median(before)
        elif incident.kind == "memory-leak":
            assert inside[-1] > 90 and inside[-1] > before.max()
        elif incident.kind == "runaway-process":
            assert inside.min() >= 95
        elif incident.kind == "tape-staging-wait":
            assert inside[-1] > before.max() + 200


def test_weekends_holidays_and_the_quiet_season_are_quieter():
    quiet = c.generate_centre(n_nodes=8, weeks=8, seed=3, incidents=False)
    cpu = quiet.frame.values[:, [j for j, m in enumerate(quiet.frame.metrics)
                                 if m == "cpu_util"]].mean(axis=1)
    day = np.arange(cpu.size) // 288
    hour = (np.arange(cpu.size) % 288) // 12
    noon = hour == 13
    weekday_noon = noon & (day % 7 < 5) & ~np.isin(day, quiet.holidays) & \
        (np.arange(cpu.size) < quiet.quiet_season_start)
    sunday_noon = noon & (day % 7 == 6) & (np.arange(cpu.size) < quiet.quiet_season_start)
    holiday_noon = noon & np.isin(day, quiet.holidays)
    season_noon = noon & (day % 7 < 5) & (np.arange(cpu.size) > quiet.quiet_season_start + 576)
    assert cpu[sunday_noon].mean() < 0.75 * cpu[weekday_noon].mean()
    assert cpu[holiday_noon].mean() < 0.8 * cpu[weekday_noon].mean()
    assert cpu[season_noon].mean() < 0.75 * cpu[weekday_noon].mean()
    assert cpu[noon].mean() > cpu[hour == 3].mean()  # the daily rhythm
    assert all(d % 7 < 5 for d in quiet.holidays)
    assert not quiet.incidents and not quiet.frame.labels.any()


def test_seeded():
    a, b = (c.generate_centre(n_nodes=4, weeks=3, seed=5) for _ in range(2))
    np.testing.assert_array_equal(a.frame.values, b.frame.values)
    assert a.incidents == b.incidents
    other = c.generate_centre(n_nodes=4, weeks=3, seed=6)
    assert not np.array_equal(a.frame.values, other.frame.values)


@pytest.mark.parametrize("kwargs", [{"n_nodes": 3}, {"weeks": 1}, {"learn_days": 0},
                                    {"weeks": 2, "per_kind": 4}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        c.generate_centre(**kwargs)
