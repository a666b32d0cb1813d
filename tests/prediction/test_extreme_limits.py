"""A limit at the edge of the float range (``--limit cpu=1e308``, ``-1.8e308``) is a limit
like any other: out of reach above (probability ≈ 0 at every learnt row, no warning),
already passed below (probability 1, warned). Before, the margin ``(forecast − limit)/sd``
overflowed to ``-inf``, read as "no limit": the series lost its probabilities (the watch's
live predictor) and every run printed an "overflow encountered" warning.

Family: limits near ±1.8e308 and ±1e300 on a noisy level and on a slow fill, in the batch
predictor (``kizashi predict``, with the warm-up trend line) and in the live one (``watch``).
The rows to expect a probability on are those of the same series under an ordinary limit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.prediction.live import LivePredictor
from kizashi.prediction.predictor import predict_frame
from kizashi.prediction.warmup_trend import with_trend

STEP = 300.0
N = 700
FAR = [1e300, 1e308, 1.7976931348623157e308]


def _series() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    seconds = np.arange(N) * STEP
    level = 50.0 + rng.normal(0.0, 1.0, N)
    fill = np.linspace(10.0, 60.0, N) + rng.normal(0.0, 0.2, N)
    return seconds, np.column_stack([level, fill])


def _batch(limit: float):
    seconds, values = _series()
    frame = SeriesFrame.from_arrays(seconds, values, ["n1", "n1"], ["level", "fill"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = predict_frame(frame, "6h", {"level": limit, "fill": limit})
        with_trend(result, values)
    return result


def _live(limit: float) -> np.ndarray:
    seconds, values = _series()
    live = LivePredictor(STEP, np.array([limit, limit]), horizon="6h", warmup_trend=True)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for start in range(0, N, 100):
            rows.append(live.update(seconds[start:start + 100],
                                    values[start:start + 100]).probability)
    return np.array(rows)


@pytest.mark.parametrize("limit", FAR)
def test_a_limit_out_of_reach_is_probability_zero_in_batch(limit):
    learnt = np.isfinite(_batch(1000.0).probability)
    result = _batch(limit)
    assert learnt.sum() > 200
    np.testing.assert_array_equal(np.isfinite(result.probability), learnt)
    assert (result.probability[learnt] < 0.01).all()
    assert not result.warning.any()


@pytest.mark.parametrize("limit", [-v for v in FAR])
def test_a_limit_far_below_is_passed_in_batch(limit):
    result = _batch(limit)
    assert (result.probability == 1.0).all() and result.warning.all()


@pytest.mark.parametrize("limit", FAR)
def test_a_limit_out_of_reach_is_probability_zero_live(limit):
    learnt = np.isfinite(_live(1000.0))
    got = _live(limit)
    assert learnt.sum() >= 4
    np.testing.assert_array_equal(np.isfinite(got), learnt)
    assert (got[learnt] < 0.01).all()


@pytest.mark.parametrize("limit", [-v for v in FAR])
def test_a_limit_far_below_is_passed_live(limit):
    assert (_live(limit) == 1.0).all()
