"""The ensemble's long-hold path: a departure sustained for hours is judged over hours."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.ensemble import EnsembleDetector

SEEDS = range(4)


def shifted(seed: int, shift: float = 2.5, n: int = 6000, hours: int = 10) -> np.ndarray:
    """White noise (mean 50, σ 10) then ``hours`` of 5-minute steps ``shift`` σ higher."""
    rng = np.random.default_rng(seed)
    values = rng.normal(50.0, 10.0, n + 12 * hours)
    values[n:] += shift * 10.0
    return values


@pytest.mark.parametrize("seed", SEEDS)
def test_the_hold_path_never_lowers_a_score(seed: int) -> None:
    # the threshold level becomes the larger of two levels; the hold's minimum keeps the order
    values = shifted(seed)
    plain = EnsembleDetector().score(values)
    held = EnsembleDetector(hold_window=72).score(values)
    assert np.all(held >= plain - 1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_sustained_shift_under_the_floor_is_caught_by_the_hold_path(seed: int) -> None:
    # Hand count: |z| of white noise averages 0.8 (sqrt(2/pi)); ten hours at 2.5 σ average
    # 2.5. Over 10 steps the floor of 0.5 puts that (2.5 - 0.8) / 0.5 = 3.4 floors out,
    # a tail of 3e-4, short of the 1e-6 alert line. Over 72 steps the averages of white
    # noise spread about 0.6 / sqrt(72) = 0.07, so the hold floor of 0.25 binds and the
    # shift is (2.5 - 0.8) / 0.25 = 6.8 floors out: a tail of 5e-12.
    values = shifted(seed)
    line = EnsembleDetector().default_threshold
    assert EnsembleDetector().score(values)[6000:].max() < line
    assert EnsembleDetector(hold_window=72).score(values)[6000:].max() >= line


@pytest.mark.parametrize("seed", SEEDS)
def test_the_hold_path_keeps_white_noise_quiet(seed: int) -> None:
    values = np.random.default_rng(100 + seed).normal(50.0, 10.0, 12000)
    detector = EnsembleDetector(hold_window=72)
    assert detector.score(values)[1000:].max() < detector.default_threshold


def test_blocks_give_the_same_scores_as_one_batch() -> None:
    values = shifted(0)
    whole = EnsembleDetector(hold_window=72).score(values)
    detector = EnsembleDetector(hold_window=72)
    detector.reset(1)
    parts = [detector._score_batch(detector.state_, block[:, None], None)[:, 0]
             for block in np.array_split(values, 7)]
    np.testing.assert_allclose(np.concatenate(parts), whole, rtol=0, atol=1e-9)


@pytest.mark.parametrize("window", [1, 2.5, True])
def test_an_impossible_hold_window_is_refused(window: object) -> None:
    with pytest.raises(ValueError, match="hold_window"):
        EnsembleDetector(hold_window=window).score(shifted(0, n=700))


@pytest.mark.parametrize("floor", [-0.1, float("nan")])
def test_an_impossible_hold_floor_is_refused(floor: float) -> None:
    with pytest.raises(ValueError, match="hold_min_std"):
        EnsembleDetector(hold_window=72, hold_min_std=floor).score(shifted(0, n=700))
