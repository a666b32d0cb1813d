"""The live predictor, fed block by block, says what predict_frame says on the whole series
(batch = streaming), for both kinds of prediction (time to limit, anomaly ahead), and a state
restored anywhere goes on bit for bit (streaming = restored)."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.data.precursors import generate_precursors
from kizashi.prediction.live import BAND_Z, LivePredictor
from kizashi.prediction.predictor import predict_frame
from kizashi.state import copy_state


def scenario_frame() -> tuple[SeriesFrame, np.ndarray, dict[str, float]]:
    """Eight series of a generated scenario, the last two renamed so that they have no limit
    (anomaly ahead), one of them starting late and one with a gap."""
    scenario = generate_precursors(seed=300, days=5)
    frame = scenario.frame.take(list(range(8)))
    values = frame.values.copy()
    values[:200, 6] = np.nan
    values[900:930, 7] = np.nan
    metrics = (*frame.metrics[:6], "load", "latency")
    frame = SeriesFrame.from_arrays(frame.timestamps, values, frame.entities, metrics)
    limits = np.array([np.nan if (v := scenario.limit(m)) is None else v for m in metrics])
    return frame, limits, scenario.limits


def eta_seconds(eta: np.ndarray) -> np.ndarray:
    return np.where(np.isnat(eta), np.nan, eta.astype("datetime64[ns]").astype(np.int64) / 1e9)


@pytest.mark.slow
@pytest.mark.parametrize("block", [1, 37, 288])
def test_block_by_block_equals_the_whole_file(block):
    frame, limits, named = scenario_frame()
    whole = predict_frame(frame, "6h", named)
    assert whole.kinds[6:] == ("envelope", "envelope") and whole.kinds[0] == "limit"
    seconds = frame.timestamps.astype(np.int64) / 1e9
    live = LivePredictor(300.0, limits, "6h")
    checked = 0
    for start in range(0, frame.n_times, block):
        stop = min(start + block, frame.n_times)
        latest = live.update(seconds[start:stop], frame.values[start:stop])
        row = stop - 1
        np.testing.assert_allclose(latest.probability, whole.probability[row], atol=1e-6,
                                   equal_nan=True)
        np.testing.assert_array_equal(latest.warning, whole.warning[row])
        np.testing.assert_allclose(latest.eta_seconds, eta_seconds(whole.eta[row]),
                                   equal_nan=True)
        checked += 1
    assert checked >= frame.n_times // block
    assert np.isfinite(whole.probability[-1]).all() and whole.warning[:, :6].any()
    assert np.nanmax(whole.probability[:, 6:]) > 0      # the envelope series are predicted


@pytest.mark.parametrize("cut", [1, 150, 577])
def test_a_state_restored_anywhere_goes_on_bit_for_bit(cut):
    rng = np.random.default_rng(0)
    seconds = np.arange(0, 3 * 86400, 300.0)
    values = np.column_stack([20 + seconds / 3600 * 1.1, 50 + rng.normal(0, 1, seconds.size),
                              10 + np.cumsum(rng.normal(0, 0.2, seconds.size))])
    limits = np.array([100.0, 100.0, np.nan])
    one = LivePredictor(300.0, limits, "6h")
    unbroken = [one.update(seconds[i:i + 1], values[i:i + 1]) for i in range(seconds.size)]
    two = LivePredictor(300.0, limits, "6h")
    two.update(seconds[:cut], values[:cut])
    three = LivePredictor(300.0, limits, "6h")
    three.load_state_dict(copy_state(two.state_dict()))
    for i in range(cut, seconds.size):
        got = three.update(seconds[i:i + 1], values[i:i + 1])
        np.testing.assert_array_equal(got.probability, unbroken[i].probability)
        np.testing.assert_array_equal(got.warning, unbroken[i].warning)
        np.testing.assert_array_equal(got.eta_seconds, unbroken[i].eta_seconds)
    # +1.1 %/h from 20 % reaches 100 % at 72.7 h: the last step (71.9 h) warns
    assert unbroken[-1].warning[0] and not unbroken[-1].warning[1]
    with pytest.raises(ValueError, match="series"):
        LivePredictor(300.0, np.array([100.0]), "6h").load_state_dict(one.state_dict())
    old_format = {"n_series": 3, "times": seconds, "values": values}
    with pytest.raises(ValueError, match="lacks"):
        LivePredictor(300.0, limits, "6h").load_state_dict(old_format)


def test_the_band_of_a_clean_line_is_the_line_ahead():
    # +1 %/h from 20 %: after 3 days the line 1 h ahead is 20 + 73 = 93 %, and a noiseless
    # line has (nearly) no band
    seconds = np.arange(0, 3 * 86400, 300.0)
    live = LivePredictor(300.0, np.array([100.0]), "1h")
    live.update(seconds, (20 + seconds / 3600)[:, None])
    band = live.band()
    assert band["seconds"].tolist() == [300.0 * k for k in range(1, 13)]
    expected = 20 + (seconds[-1] + band["seconds"]) / 3600
    np.testing.assert_allclose(band["forecast"][:, 0], expected, rtol=1e-9)
    assert (band["lower"][:, 0] <= band["forecast"][:, 0]).all()
    np.testing.assert_allclose(band["upper"][:, 0] - band["lower"][:, 0],
                               2 * BAND_Z * live.state["path_sd"][:, 0])
    assert (band["upper"][:, 0] - band["lower"][:, 0]).max() < 1e-3


def test_a_state_saved_before_the_recent_errors_loads_and_catches_up():
    """A state without the recent-error rings (``fR``, ``errR``: saved by an earlier version)
    loads; once the rings have turned (``h_r`` steps of forecasts, then ``h_r`` of errors) the
    forecaster's state and answers are those of the unbroken run, to the bit."""
    rng = np.random.default_rng(3)
    seconds = np.arange(0, 2.5 * 86400, 300.0)
    values = np.column_stack([30 + seconds / 3600 * 0.8 + rng.normal(0, 0.3, seconds.size),
                              60 + np.cumsum(rng.normal(0, 0.2, seconds.size))])
    limits = np.array([100.0, 100.0])
    one = LivePredictor(300.0, limits, "6h")
    cut = 600
    one.update(seconds[:cut], values[:cut])
    saved = copy_state(one.state_dict())
    del saved["kernel"]["fR"], saved["kernel"]["errR"]
    old = LivePredictor(300.0, limits, "6h")
    old.load_state_dict(saved)
    catch_up = 2 * one.kernel.recent          # 12 steps of forecasts, 12 of errors at 5m/6h
    assert one.kernel.recent == 12
    for i in range(cut, cut + catch_up):
        one.update(seconds[i:i + 1], values[i:i + 1])
        old.update(seconds[i:i + 1], values[i:i + 1])
    for key in ("fR", "errR", "err", "hist"):
        np.testing.assert_array_equal(old.state["kernel"][key], one.state["kernel"][key], key)
    for i in range(cut + catch_up, cut + catch_up + 50):
        a = one.update(seconds[i:i + 1], values[i:i + 1])
        b = old.update(seconds[i:i + 1], values[i:i + 1])
        np.testing.assert_array_equal(b.probability, a.probability)
        np.testing.assert_array_equal(b.warning, a.warning)
