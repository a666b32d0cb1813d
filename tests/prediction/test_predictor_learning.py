"""Files too short for the horizon at their step: every row learns, computed without fits.

``LimitForecaster.min_rows`` (the trend window, then the horizon) bounds the first row
whose forecast can be checked; below it the forecaster returns its all-learning answer
at once instead of fitting windows of millions of steps (1 ms data with a 6 h window).
The shortcut must give exactly what the full computation gives.
"""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.prediction import predictor
from kizashi.prediction.limit_forecaster import LimitForecaster


def _frame(n: int, step_s: float, seed: int = 1) -> SeriesFrame:
    rng = np.random.default_rng(seed)
    stamps = (np.int64(1_704_067_200 * 10**9)
              + np.round(np.arange(n) * step_s * 1e9).astype(np.int64)).astype("datetime64[ns]")
    values = np.cumsum(rng.normal(0, 1, (n, 3)), axis=0) + 50
    values[5, 1] = np.nan
    return SeriesFrame.from_arrays(stamps, values, metrics=["a_pct", "b", "c"])


@pytest.mark.parametrize(("n", "step", "horizon"), [(100, 300, "6h"), (143, 300, "6h"),
                                                    (144, 300, "6h"), (119, 60, "1h"),
                                                    (60, 300, "30m")])
def test_shortcut_equals_the_full_computation(monkeypatch, n, step, horizon):
    frame = _frame(n, step)
    quick = predictor.predict_frame(frame, horizon, {"b": 60.0})
    monkeypatch.setattr(LimitForecaster, "min_rows", property(lambda self: 0))
    full = predictor.predict_frame(frame, horizon, {"b": 60.0})
    assert np.array_equal(quick.probability, full.probability, equal_nan=True)
    assert np.array_equal(quick.warning, full.warning)
    assert np.array_equal(quick.eta, full.eta, equal_nan=True)


def test_learning_note_counts_rows_from_the_step_and_horizon():
    # 5-minute rows, 6 h horizon: a day (288) and the 72-step window of history, the
    # 72-step horizon, then 72 checked forecasts, the last row of each shared → 503 rows
    assert predictor.learning_note(_frame(503, 300), "6h") is None
    for n in (143, 144, 502):  # past the window and horizon, still no checked record
        note = predictor.learning_note(_frame(n, 300), "6h")
        assert note.startswith(f"{n} rows every 300 s: the first prediction needs 503 ")
    # 1 ms rows: a day is 86.4 million steps, 6 h 21.6 million
    needed = 86_400_000 + 21_600_000 + 21_600_000 + 21_600_000 - 1
    note = predictor.learning_note(_frame(120, 0.001), "6h")
    assert f"needs {needed:,} (" in note  # 151,199,999
    assert "average the data to a coarser step" in note  # millions of rows: said so
    assert "coarser" not in predictor.learning_note(_frame(120, 60), "6h")  # 1-minute rows


def test_millisecond_rows_are_all_learning_with_their_timestamps_written_exactly():
    frame = _frame(120, 0.001)
    result = predictor.predict_frame(frame, "6h")  # no fit of a 21.6M-step window
    assert np.isnan(result.probability).all() and not result.warning.any()
    table = result.to_long()
    assert table["timestamp"].iloc[0::3].tolist()[:2] == ["2024-01-01T00:00:00.000Z",
                                                          "2024-01-01T00:00:00.001Z"]
    assert table["timestamp"].nunique() == 120
