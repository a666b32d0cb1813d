"""Timestamps jittered around a grid (samples a little early or late), with rows missing:
predicted as the same values on the exact grid are."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kizashi.data.precursors import generate_precursors
from kizashi.prediction.predictor import predict_frame

STEP = 300.0


@pytest.fixture(scope="module")
def scenario():
    return generate_precursors(seed=5, days=4, per_kind=1, n_normal=1)


@pytest.mark.slow
@pytest.mark.parametrize(("jitter", "dropped"),
                         [(0.05, 0.0), (0.15, 0.03), (0.3, 0.03), (0.3, 0.0)])
def test_jittered_timestamps_predict_as_the_grid_does(scenario, jitter, dropped):
    """The expectation: the same rows (the same values) at their exact grid times, where
    the grid is plain (every gap a whole number of steps)."""
    rng = np.random.default_rng(int(jitter * 100 + dropped * 1000))
    frame = scenario.frame
    keep = np.flatnonzero(rng.random(frame.n_times) >= dropped)
    keep = keep[(keep > 0) | (keep == 0)]
    exact = dataclasses.replace(frame, timestamps=frame.timestamps[keep],
                                values=frame.values[keep])
    shift = (rng.uniform(-jitter, jitter, keep.size) * STEP * 1e9).astype("timedelta64[ns]")
    jittered = dataclasses.replace(exact, timestamps=exact.timestamps + shift)
    want = predict_frame(exact, "6h", scenario.limits)
    got = predict_frame(jittered, "6h", scenario.limits)
    np.testing.assert_array_equal(got.probability, want.probability)
    np.testing.assert_array_equal(got.warning, want.warning)
    assert want.warning.any()  # the failures do warn
    # the ETA is counted from the grid, or the row: off by at most a row's jitter
    off = np.abs((got.eta - want.eta).astype(np.float64))[~np.isnat(want.eta)] / 1e9
    assert np.isnat(got.eta).tolist() == np.isnat(want.eta).tolist()
    assert off.max() <= jitter * STEP + 1.0
