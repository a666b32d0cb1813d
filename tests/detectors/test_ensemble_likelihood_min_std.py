"""The ensemble's floor under its threshold likelihood's spread: heavy tails page less."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.ensemble import EnsembleDetector

SEEDS = range(5)


def heavy_tailed(seed: int, n: int = 12000) -> np.ndarray:
    """A latency-like series: 3 ms times a heavy-tailed (Student t, 3 dof) log factor."""
    rng = np.random.default_rng(seed)
    return 3.0 * np.exp(0.08 * rng.standard_t(3, n))


@pytest.mark.parametrize("seed", SEEDS)
def test_the_floor_never_raises_a_score(seed: int) -> None:
    # a wider Gaussian puts every moving average nearer its mean: each level is lower or
    # the same (the range rule's 1 and the hold's minimum keep the order)
    values = heavy_tailed(seed)
    floored = EnsembleDetector(likelihood_min_std=0.5).score(values)
    plain = EnsembleDetector(likelihood_min_std=None).score(values)
    assert np.all(floored <= plain + 1e-12)


def test_the_floor_silences_heavy_tails_and_keeps_a_real_departure() -> None:
    alerts = {None: 0, 0.5: 0}
    for seed in SEEDS:
        values = heavy_tailed(seed)
        for floor in alerts:
            detector = EnsembleDetector(likelihood_min_std=floor)
            scores = detector.score(values)
            alerts[floor] += int((scores[1000:] >= detector.default_threshold).sum())
        values[10000:10012] *= 6.0  # an hour of six times the latency
        detector = EnsembleDetector(likelihood_min_std=0.5)
        assert detector.score(values)[10000:10012].max() >= detector.default_threshold
    assert alerts[0.5] < 0.5 * alerts[None]


@pytest.mark.parametrize("floor", [-0.1, float("nan"), float("inf")])
def test_an_impossible_floor_is_refused(floor: float) -> None:
    with pytest.raises(ValueError, match="likelihood_min_std"):
        EnsembleDetector(likelihood_min_std=floor).score(heavy_tailed(0, 700))


def test_the_long_window_silences_a_return_to_a_known_level_not_a_spike() -> None:
    """Four quiet weeks, one back at the old level: against the last week the return is
    an excursion, against the long window it is not; a spike above both still pages."""
    from kizashi.detectors.threshold.rolling_sigma import RollingSigmaThreshold

    rng = np.random.default_rng(2)
    values = np.r_[rng.normal(80, 3, 4000), rng.normal(50, 3, 2000), rng.normal(80, 3, 300)]
    week = RollingSigmaThreshold(window=1000, min_periods=30).score(values)
    long = RollingSigmaThreshold(window=6000, min_periods=30).score(values)
    # the return is far off the last (quiet) week, ordinary for the long window
    assert np.nanmax(np.fmin(week, long)[6000:6100]) < 0.5 * np.nanmax(week[6000:6100])
    scores = EnsembleDetector(window=1000, long_window=None, tolerance=None).score(values)
    longer = EnsembleDetector(window=1000, long_window=6000, tolerance=None).score(values)
    threshold = EnsembleDetector().default_threshold
    assert scores[6000:6300].max() >= threshold > longer[6000:6300].max()
    spiked = values.copy()
    spiked[6200:6212] = 140.0
    assert EnsembleDetector(window=1000, long_window=6000, tolerance=None).score(
        spiked)[6200:6212].max() >= threshold


@pytest.mark.parametrize("window", [1, 2.5, True])
def test_an_impossible_long_window_is_refused(window: object) -> None:
    with pytest.raises(ValueError, match="long_window"):
        EnsembleDetector(long_window=window).score(heavy_tailed(0, 700))
