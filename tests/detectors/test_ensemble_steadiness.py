"""The ensemble's steadiness boost: a value pinned with little jitter pages, jobs do not."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kizashi.detectors.ensemble import EnsembleDetector
from kizashi.state import from_json_safe, to_json_safe


def job_driven(seed: int, n: int = 9000) -> np.ndarray:
    """A node's CPU: a job level drawn from 40-70 every 96 steps, jitter sigma 4."""
    rng = np.random.default_rng(seed)
    levels = rng.uniform(40, 70, n // 96 + 1).repeat(96)[:n]
    return levels + rng.normal(0, 4, n)


@pytest.mark.parametrize("seed", range(3))
def test_a_pinned_stretch_inside_the_usual_range_pages_only_with_the_boost(seed: int) -> None:
    # 80 is about 2.7 spreads over the mean of this series' values (55 +- 9.5): the
    # likelihood of the z-scores alone stays under the line; pinned within 79-81 (step
    # changes a sixth of the usual) it is boosted over it. Ordinary rows page neither way.
    values = job_driven(seed)
    pinned = values.copy()
    pinned[8000:8100] = np.random.default_rng(99).uniform(79, 81, 100)
    for window, pages in ((None, False), (36, True)):
        detector = EnsembleDetector(steady_window=window)
        line = detector.default_threshold
        assert bool(detector.score(pinned)[8000:8100].max() >= line) is pages
        assert detector.score(values)[3000:].max() < line


def test_the_boost_survives_a_json_round_trip_mid_stream() -> None:
    values = job_driven(4, 2500)
    values[2200:2300] = 80.0 + 0.1 * np.arange(100)
    params = {"steady_window": 12, "window": 300, "long_window": 600,
              "learning_period": 100, "estimation_samples": 50}
    whole = EnsembleDetector(**params).reset(1).update_many(values[:, None])
    first = EnsembleDetector(**params).reset(1)
    head = first.update_many(values[:2250, None])
    resumed = EnsembleDetector(**params)
    resumed.load_state_dict(from_json_safe(json.loads(json.dumps(to_json_safe(
        first.state_dict())))))
    np.testing.assert_array_equal(np.concatenate([head, resumed.update_many(
        values[2250:, None])]), whole)
    assert "steadiness" in first.state_dict()["state"]


@pytest.mark.parametrize("bad", [{"steady_window": 1}, {"steady_window": 2.5},
                                 {"steady_window": 36, "steady_ratio": 0.0},
                                 {"steady_window": 36, "steady_ratio": 2.0}])
def test_an_impossible_steadiness_is_refused(bad: dict) -> None:
    with pytest.raises(ValueError, match="steadiness"):
        EnsembleDetector(**bad).score(job_driven(0, 800))
