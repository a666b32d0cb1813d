"""The live predictor, fed block by block, says what predict_frame says on the whole series."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.precursors import generate_precursors
from kizashi.prediction.live import LivePredictor
from kizashi.prediction.predictor import predict_frame


@pytest.mark.slow
@pytest.mark.parametrize("block", [37, 288])
def test_block_by_block_equals_the_whole_file(block):
    scenario = generate_precursors(seed=300, days=5)
    frame = scenario.frame.take(list(range(8)))
    limits = np.array([scenario.limit(m) for m in frame.metrics])
    whole = predict_frame(frame, "6h", scenario.limits)
    seconds = frame.timestamps.astype(np.int64) / 1e9
    live = LivePredictor(300.0, limits, "6h")
    checked = 0
    start = 0
    while start < frame.n_times:
        stop = min(start + block, frame.n_times)
        latest = live.update(seconds[start:stop], frame.values[start:stop])
        row = stop - 1
        np.testing.assert_allclose(latest.probability, whole.probability[row], atol=1e-6,
                                   equal_nan=True)
        np.testing.assert_array_equal(latest.warning, whole.warning[row])
        expected_eta = np.where(np.isnat(whole.eta[row]), np.nan,
                                whole.eta[row].astype("datetime64[ns]").astype(np.int64) / 1e9)
        np.testing.assert_allclose(latest.eta_seconds, expected_eta, equal_nan=True)
        checked += 1
        start = stop
    assert checked >= frame.n_times // block
    assert np.isfinite(whole.probability[-1]).all() and whole.warning.any()


def test_state_round_trip_goes_on_where_it_stopped():
    rng = np.random.default_rng(0)
    seconds = np.arange(0, 3 * 86400, 300.0)
    values = np.column_stack([20 + seconds / 3600 * 0.9, 50 + rng.normal(0, 1, seconds.size)])
    one = LivePredictor(300.0, np.array([100.0, 100.0]), "6h")
    one.update(seconds[:600], values[:600])
    two = LivePredictor(300.0, np.array([100.0, 100.0]), "6h")
    two.load_state_dict({k: v.copy() for k, v in one.state_dict().items()})
    a, b = one.update(seconds[600:], values[600:]), two.update(seconds[600:], values[600:])
    np.testing.assert_array_equal(a.probability, b.probability)
    np.testing.assert_array_equal(a.warning, b.warning)
    with pytest.raises(ValueError, match="series"):
        LivePredictor(300.0, np.array([100.0]), "6h").load_state_dict(one.state_dict())
