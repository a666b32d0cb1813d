"""kizashi.decision.calibration.OnlineCalibrator (kept here with the NAB runner that needs it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kizashi.decision.calibration import OnlineCalibrator
from kizashi.state import to_json_safe


@pytest.mark.parametrize("halflife", [None, 50.0])
def test_batch_equals_streaming_and_state_round_trips(halflife):
    rng = np.random.default_rng(0)
    scores = rng.gamma(2.0, 1e6, size=(300, 3))
    scores[rng.random(scores.shape) < 0.05] = np.nan
    batch = OnlineCalibrator(halflife=halflife).transform(scores)
    stream = OnlineCalibrator(halflife=halflife)
    rows = []
    for k, row in enumerate(scores):
        if k == 150:  # stop and resume through JSON
            saved = json.loads(json.dumps(to_json_safe(stream.state_dict())))
            stream = OnlineCalibrator(halflife=halflife).load_state_dict(saved)
        rows.append(stream.update(row))
    np.testing.assert_allclose(np.array(rows), batch, rtol=1e-9, atol=1e-12)
    split = OnlineCalibrator(halflife=halflife)
    parts = np.vstack([split.transform(scores[:100]), split.transform(scores[100:])])
    np.testing.assert_allclose(parts, batch, rtol=1e-9, atol=1e-12)


def test_uses_only_the_past_and_stays_in_unit_interval():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=500)
    full = OnlineCalibrator().transform(scores)
    changed = scores.copy()
    changed[300:] = 1e9
    moved = OnlineCalibrator().transform(changed)
    assert np.array_equal(moved[:300], full[:300])  # the past does not see the future
    assert moved[300] != full[300]
    assert np.nanmin(full) >= 0.0 and np.nanmax(full) < 1.0
    assert (full[:30] == 0).all()


def test_monotone_in_the_score_and_nan_passes_through():
    calibrator = OnlineCalibrator(min_periods=5)
    calibrator.transform(np.arange(10.0))
    state = calibrator.state_dict()
    values = [OnlineCalibrator(min_periods=5).load_state_dict(state).update(x)
              for x in (5.0, 10.0, 20.0, 1e12, np.inf)]
    assert values == sorted(values) and values[-1] <= 1.0
    assert np.isnan(calibrator.update(np.nan))


def test_bad_parameters_and_shapes():
    with pytest.raises(ValueError, match="halflife"):
        OnlineCalibrator(halflife=0).transform([1.0])
    with pytest.raises(ValueError, match="min_periods"):
        OnlineCalibrator(min_periods=1).transform([1.0])
    calibrator = OnlineCalibrator()
    calibrator.transform(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="set up for 2 series"):
        calibrator.update([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="saved with parameters"):
        OnlineCalibrator(scale=2.0).load_state_dict(calibrator.state_dict())
