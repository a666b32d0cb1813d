"""The streaming discord detector, against hand-computed cases and a naive double loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kizashi.detectors.registry import create


def naive(values: np.ndarray, window: int, history: int) -> np.ndarray:
    """The definition, written as plainly as possible: observed values only, each window
    against every earlier non-overlapping one at most ``history`` windows back, the RMS
    distance to the nearest divided by the sample standard deviation so far."""
    seen = [float(v) for v in values if not math.isnan(v)]
    scores = []
    for t in range(len(seen)):
        best = math.inf
        for end in range(window - 1, t - window + 1):
            if end < t - window - history:
                continue
            squared = sum((seen[t - k] - seen[end - k]) ** 2 for k in range(window))
            best = min(best, math.sqrt(squared / window))
        sigma = float(np.std(seen[:t + 1], ddof=1)) if t >= 1 else math.nan
        scores.append(0.0 if best == math.inf or not sigma > 0 else best / sigma)
    out = np.full(len(values), np.nan)
    out[~np.isnan(values)] = scores
    return out


def test_window_of_one_by_hand():
    # t=1: nearest past value 0 is 1 away, sd of [0, 1] is 0.70711 -> 1.41421
    # t=2: nearest of {0, 1} to 3 is 2 away, sd of [0, 1, 3] is 1.52753 -> 1.30931
    scores = create("discord", window=1).score([0.0, 1.0, 3.0])
    np.testing.assert_allclose(scores, [0.0, 2 / math.sqrt(2), 2 / math.sqrt(7 / 3)],
                               rtol=1e-12)


@pytest.mark.parametrize("window, history", [(1, 1), (2, 3), (3, 100), (4, 7)])
@pytest.mark.parametrize("seed", [0, 1])
def test_equals_the_naive_definition(window, history, seed):
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, 1.0, 150).round(1)
    values[rng.choice(150, 10, replace=False)] = np.nan  # missing values are skipped
    expected = naive(values, window, history)
    got = create("discord", window=window, history=history).score(values)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("split", [1, 37, 64, 65, 100, 149])
def test_blocks_and_steps_give_the_same_scores(split):
    values = np.random.default_rng(3).normal(0.0, 1.0, 150)
    batch = create("discord", window=5, history=20).score(values)
    detector = create("discord", window=5, history=20)
    first = detector.update_many(values[:split][:, None])
    rest = [detector.update([v]) for v in values[split:]]
    np.testing.assert_allclose(np.r_[np.ravel(first), np.ravel(rest)], batch,
                               rtol=1e-9, atol=1e-12, equal_nan=True)


def test_a_repeating_shape_is_familiar_and_a_new_shape_is_not():
    period = 40
    values = np.tile(np.r_[np.linspace(0, 1, 20), np.linspace(1, 0, 20)], 20)
    values[600:640] = 0.5  # a flat cycle: every value is usual, the shape is not
    scores = create("discord", window=10).score(values)
    assert scores[2 * period:600].max() < 1e-9
    assert scores[600:650].max() > 0.5


def test_an_absurd_value_leaves_the_scale_usable():
    values = np.tile(np.r_[np.linspace(0, 1, 20), np.linspace(1, 0, 20)], 20)
    values[300] = 1e308
    scores = create("discord", window=10).score(values)
    assert np.isfinite(scores[300:]).all()
    # remembered at most 10 range widths out: the sd stays a few units, not 1e306
    assert scores[300] < 100.0


@pytest.mark.parametrize("bad", [{"window": 0}, {"history": 0}, {"window": 2.5},
                                 {"max_growth": 0.0}, {"max_growth": float("inf")}])
def test_bad_parameters_are_refused(bad):
    with pytest.raises(ValueError, match="discord"):
        create("discord", **bad).score(np.zeros(5))
