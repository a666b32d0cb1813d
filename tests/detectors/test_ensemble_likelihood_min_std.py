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
