"""The isotonic calibration recovers a known law; kizashi's probabilities are calibrated on
scenario seeds used neither to fit them (100–119) nor in the benchmark report (0–9)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kizashi.prediction.calibration import IsotonicCalibration


def test_fit_recovers_a_logistic_law():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 400_000)
    law = 1 / (1 + np.exp(-(1.5 * z - 1.0)))
    outcome = rng.random(z.size) < law
    fitted = IsotonicCalibration.fit(z, outcome)
    for point in (-2.0, -1.0, 0.0, 0.5, 1.0, 2.0):
        # linear interpolation between bin means of a smooth law: within a few points
        assert fitted.probability(np.array([point]))[0] == pytest.approx(
            1 / (1 + np.exp(-(1.5 * point - 1.0))), abs=0.04)
    assert np.all(np.diff(fitted.probabilities) >= 0)


def test_fit_makes_frequencies_monotone():
    # bins with frequencies 0.5 then 0.1: pooled to their weighted mean 0.3
    z = np.r_[np.full(100, -0.6), np.full(100, -0.4)]
    outcome = np.r_[np.arange(100) < 50, np.arange(100) < 10]
    fitted = IsotonicCalibration.fit(z, outcome)
    assert fitted.probabilities == pytest.approx((0.3, 0.3))


def test_bad_maps_and_fits_are_refused():
    with pytest.raises(ValueError, match="both outcomes"):
        IsotonicCalibration.fit(np.array([0.0, 1.0]), np.array([1, 1]))
    with pytest.raises(ValueError, match="must not decrease"):
        IsotonicCalibration((0.0, 1.0), (0.5, 0.2))


@pytest.mark.slow
def test_probabilities_are_calibrated_on_held_out_seeds():
    from kizashi.data.precursors import generate_precursors
    from kizashi.prediction.predictor import predict_frame

    probs, outcomes = [], []
    for seed in (200, 201, 202):
        scenario = generate_precursors(seed=seed)
        frame = scenario.frame
        limits = np.array([scenario.limit(m) for m in frame.metrics])
        result = predict_frame(frame, "6h", scenario.limits)
        at_limit = frame.values >= limits
        ahead = at_limit.copy()  # at the limit now or within 6 h (72 five-minute steps)
        for step in range(1, 73):
            ahead[:-step] |= at_limit[step:]
        probs.append(result.probability.ravel())
        outcomes.append(ahead.ravel())
    p, y = np.concatenate(probs), np.concatenate(outcomes)
    keep = np.isfinite(p)
    p, y = p[keep], y[keep].astype(float)
    # reliability: in every well-filled bin, the mean probability matches the frequency
    edges = np.array([0.0, 0.02, 0.1, 0.3, 0.6, 1.0001])
    for lo, hi in itertools.pairwise(edges):
        inside = (p >= lo) & (p < hi)
        if inside.sum() >= 200:
            assert abs(p[inside].mean() - y[inside].mean()) < 0.1, (lo, hi)
    # overall: the mean probability matches the base rate, and it beats always saying it
    assert abs(p.mean() - y.mean()) < 0.01
    assert np.mean((p - y) ** 2) < 0.7 * np.mean((y.mean() - y) ** 2)
