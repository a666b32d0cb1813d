"""The compiled error normaliser against a step-by-step transcription on DiscountedMoments."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.deep.normaliser_kernel import normalise_block
from kizashi.streaming.discounted import DiscountedMoments
from kizashi.streaming.robust import MAX_SCORE, ratio

CLIP, BEFORE_CLIP = 10.0, 10.0


def reference(error, ready, moments, decay):
    """The normaliser one step at a time with numpy and DiscountedMoments (its definition)."""
    out = np.empty(error.shape)
    for i in range(error.shape[0]):
        e, r = error[i], ready[i]
        floor = 1e-9 * (1.0 + np.abs(moments["mean"]))
        with np.errstate(invalid="ignore", over="ignore"):
            spread = np.maximum(np.sqrt(moments["var"]), floor)
            score = np.where(r, ratio(e - moments["mean"], spread), 0.0)
            limit = moments["mean"] + CLIP * spread
        out[i] = np.where(np.isnan(e), np.nan, score)
        learn = np.where(moments["weight"] >= BEFORE_CLIP, np.minimum(e, limit), e)
        DiscountedMoments().update(moments, np.where(r, learn, np.nan), decay)
    return out


def error_family(seed: int, n_time: int = 300, n_series: int = 4):
    """Errors of every kind a detector makes: ordinary, NaN, huge, infinite, zero."""
    rng = np.random.default_rng(seed)
    error = np.abs(rng.standard_t(3, (n_time, n_series)))
    kinds = rng.integers(0, 12, error.shape)
    error[kinds == 0] = np.nan
    error[kinds == 1] *= 1e6
    error[kinds == 2] = 1e308
    error[kinds == 3] = np.inf
    error[kinds == 4] = 0.0
    ready = rng.random(error.shape) > 0.15
    ready[np.isnan(error) & (rng.random(error.shape) > 0.5)] = False
    return error, ready


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("halflife", [3.0, 1e4])
def test_kernel_equals_the_step_by_step_definition(seed, halflife):
    error, ready = error_family(seed)
    decay = 0.5 ** (1.0 / halflife)
    expected_moments = DiscountedMoments().init(error.shape[1])
    expected = reference(error, ready, expected_moments, decay)
    moments = DiscountedMoments().init(error.shape[1])
    out = np.empty(error.shape)
    normalise_block(error, ready, moments["mean"], moments["var"], moments["weight"], decay,
                    CLIP, BEFORE_CLIP, MAX_SCORE, out)
    np.testing.assert_array_equal(out, expected)
    for key in ("mean", "var", "weight"):
        np.testing.assert_array_equal(moments[key], expected_moments[key])


def test_blocks_split_anywhere_give_the_same_scores():
    error, ready = error_family(7, n_time=120)
    whole_moments = DiscountedMoments().init(4)
    whole = np.empty(error.shape)
    args = (0.99, CLIP, BEFORE_CLIP, MAX_SCORE)
    normalise_block(error, ready, *whole_moments.values(), *args, whole)
    moments = DiscountedMoments().init(4)
    parts = []
    for start, stop in ((0, 1), (1, 50), (50, 51), (51, 120)):
        out = np.empty((stop - start, 4))
        normalise_block(error[start:stop], ready[start:stop], *moments.values(), *args, out)
        parts.append(out)
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_hand_computed_scores():
    # No fading. The first error meets mean 0 and no spread: (1 − 0) / 1e-9 = 1e9. The
    # second meets mean 1, no spread, floor 1e-9 · (1 + 1): (3 − 1) / 2e-9 = 1e9. Errors
    # 1, 3 give mean 2 and population variance 1, so the third scores (4 − 2) / 1 = 2;
    # then mean 8/3 and variance ((1−8/3)² + (3−8/3)² + (4−8/3)²) / 3 = 14/9. Not ready → 0.
    error = np.array([[1.0], [3.0], [4.0], [7.0]])
    ready = np.array([[True], [True], [True], [False]])
    moments = DiscountedMoments().init(1)
    out = np.empty(error.shape)
    normalise_block(error, ready, *moments.values(), 1.0, CLIP, BEFORE_CLIP, MAX_SCORE,
                    out)
    np.testing.assert_allclose(out[:, 0], [1e9, 1e9, 2.0, 0.0])
    np.testing.assert_allclose([moments["mean"][0], moments["var"][0]], [8 / 3, 14 / 9])
