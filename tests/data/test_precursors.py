"""The prediction scenario's ground truth holds for a family of seeds and step sizes."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.precursors import (
    FAILURE_KINDS,
    LOOKALIKE_KINDS,
    default_limit,
    generate_precursors,
)


@pytest.mark.parametrize("seed, step", [(0, 300.0), (1, 300.0), (7, 60.0), (11, 600.0)])
def test_failures_reach_their_limit_exactly_at_the_failure_and_lookalikes_never(seed, step):
    scenario = generate_precursors(seed=seed, days=5 if step == 60.0 else 8, step_seconds=step)
    frame = scenario.frame
    assert np.isfinite(frame.values).all()
    assert {f.kind for f in scenario.failures} == set(FAILURE_KINDS)
    assert {k for _, _, k in scenario.lookalikes} == set(LOOKALIKE_KINDS)
    first_allowed = int(1.5 * 86400 / step)
    for f in scenario.failures:
        column = frame.values[:, frame.keys.index((f.entity, f.metric))]
        limit = scenario.limit(f.metric)
        assert first_allowed <= f.precursor_start < f.failure
        assert (f.failure - f.precursor_start) * step >= 3 * 3600  # builds for hours
        assert column[f.failure] >= limit
        assert not (column[: f.failure] >= limit).any()  # nothing crosses earlier
        # the precursor builds: the last value before the failure is well above its start
        assert column[f.failure - 1] - column[f.precursor_start] > 0.2 * (
            limit - column[f.precursor_start])
    for entity, metric, _ in scenario.lookalikes:
        column = frame.values[:, frame.keys.index((entity, metric))]
        assert column.max() < scenario.limit(metric)


def test_the_scenario_is_deterministic_in_its_seed():
    one, two = generate_precursors(seed=5, days=4), generate_precursors(seed=5, days=4)
    np.testing.assert_array_equal(one.frame.values, two.frame.values)
    assert one.failures == two.failures and one.lookalikes == two.lookalikes
    assert not np.array_equal(one.frame.values, generate_precursors(seed=6, days=4).frame.values)


def test_failure_ahead_marks_the_horizon_before_each_failure():
    scenario = generate_precursors(seed=2, days=4)
    truth = scenario.failure_ahead(12)
    for f in scenario.failures:
        j = scenario.frame.keys.index((f.entity, f.metric))
        assert truth[f.failure - 12: f.failure, j].all()
        assert not truth[f.failure, j] and not truth[f.failure - 13, j]
    assert truth.sum() == 12 * len(scenario.failures)


def test_limits_default_to_100_for_percentages_only():
    assert default_limit("scratch_used_pct") == 100.0
    assert default_limit("cpu_temp_c") is None
    assert default_limit("cpu_temp_c", {"cpu_temp_c": 85}) == 85.0


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="days"):
        generate_precursors(days=2)
    with pytest.raises(ValueError, match="step_seconds"):
        generate_precursors(step_seconds=0)
