"""Counting incidents caught and false-alarm runs on the centre scenario."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.data.centre import STEPS_PER_DAY, generate_centre
from kizashi.evaluation.centre import GRACE_STEPS, judge, score_centre


@pytest.fixture(scope="module")
def scenario():
    return generate_centre(n_nodes=4, weeks=3, seed=11)


def test_silence_catches_nothing_and_raises_nothing(scenario):
    result = judge(scenario, "none", np.zeros(scenario.frame.values.shape, bool), 0.0)
    assert (result.caught, result.false_runs) == (0, 0)
    assert len(result.missed) == result.n_incidents == 6


def test_alerts_by_hand(scenario):
    frame = scenario.frame
    active = np.zeros(frame.values.shape, dtype=bool)
    first = scenario.incidents[0]
    j = frame.keys.index(first.series[0])
    active[first.start + 3:first.start + 5, j] = True           # caught, 15 min late
    active[first.end + GRACE_STEPS - 1, j] = True               # aftermath: explained
    quiet = frame.keys.index(("node01", "daemon_restarts"))
    affected = {frame.keys.index(k) for i in scenario.incidents for k in i.affected}
    assert quiet not in affected or first.kind != "daemon-restart-loop"
    late = scenario.learn_days * STEPS_PER_DAY
    free = [t for t in range(late, frame.n_times - 10)
            if not any(i.start - 1 <= t <= i.end + GRACE_STEPS + 2
                       for i in scenario.incidents)]
    active[free[0]:free[0] + 4, quiet] = True                    # one false run (4 steps)
    active[free[100], quiet] = True                              # a second one
    active[5:9, quiet] = True                                    # while learning: not counted
    result = judge(scenario, "hand", active, 0.0)
    assert result.caught == 1 and result.delays_min == (15.0,)
    assert result.false_runs == 2 and result.false_by_metric == {"daemon_restarts": 2}
    assert result.false_per_week == pytest.approx(2 / ((21 - 10) / 7))


def test_an_entity_alarm_is_one_run_whoever_of_its_metrics_explains_it(scenario):
    frame = scenario.frame
    entities = list(dict.fromkeys(frame.entities))
    covers = [[j for j, e in enumerate(frame.entities) if e == entity] for entity in entities]
    active = np.zeros((frame.n_times, len(entities)), dtype=bool)
    late = scenario.learn_days * STEPS_PER_DAY
    free = [t for t in range(late, frame.n_times - 10)
            if not any(i.start - 1 <= t <= i.end + GRACE_STEPS + 2
                       for i in scenario.incidents)]
    active[free[0]:free[0] + 3, 0] = True                       # node01: one false run
    hang = next(i for i in scenario.incidents if i.kind == "filesystem-hang")
    active[hang.start + 1, :] = True                            # every entity during the hang
    result = judge(scenario, "entities", active, 0.0, covers)
    assert result.false_runs == 1 + 1 and result.false_by_metric == {"entity": 1,
                                                                      "pending_jobs": 1}
    assert result.caught == 1  # the hang (caught through each node's fs_latency_ms)


def test_a_detector_through_the_engine(scenario):
    result = score_centre(scenario, "range_rule", {"min_periods": 2 * STEPS_PER_DAY})
    assert result.n_incidents == 6 and result.seconds > 0
    # the range rule fires on a filesystem hang's 150x latency without fail
    assert "filesystem-hang" not in result.missed


def test_bench_centre_command(tmp_path):
    from kizashi.cli.main import cli

    out = tmp_path / "rows.json"
    result = CliRunner().invoke(cli, ["bench", "centre", "--detector", "range_rule",
                                      "--param", "min_periods=500", "--seed", "4", "--nodes",
                                      "4", "--weeks", "3", "--json", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "| range_rule |" in result.output and "false-alarm runs" in result.output
    import json

    row = json.loads(out.read_text())[0]
    assert row["incidents"] == 6 and row["seeds"] == [4]
    bad = CliRunner().invoke(cli, ["bench", "centre", "--detector", "nope", "--no-progress"])
    assert bad.exit_code == 2 and "unknown detector" in bad.output
