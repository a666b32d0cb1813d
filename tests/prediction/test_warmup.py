"""The warm-up rows of the predictor against the full computation.

For a family of steps and horizons (seconds to days, with and without the daily rhythm),
a series of exactly ``rows_before_first_prediction`` rows must get a probability on its
last row, and one row fewer none at all: both found by running the forecaster itself on
a random walk, not by the formula.
"""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.prediction.predictor import forecaster_for, learning_note, predict_frame
from kizashi.prediction.warmup import rows_before_first_prediction

STEPS_AND_HORIZONS = [(300, 6 * 3600), (300, 1800), (300, 86400), (300, 2 * 86400),
                      (60, 3600), (3600, 6 * 3600), (86400, 6 * 3600), (10, 3600),
                      (900, 3 * 3600), (120, 12 * 3600)]


def _walk(n: int, seed: int = 3) -> np.ndarray:
    walk = np.cumsum(np.random.default_rng(seed).normal(0, 1, (n, 1)), axis=0)
    return 50.0 + 40.0 * np.tanh(walk / 100.0)  # wanders, stays within 10..90


@pytest.mark.parametrize(("step", "horizon"), STEPS_AND_HORIZONS)
def test_the_first_ready_row_is_the_last_of_the_warm_up(step, horizon):
    forecaster = forecaster_for(step, horizon)
    needed = rows_before_first_prediction(forecaster)
    values = _walk(needed + 5)
    ready = forecaster.crossing(values, upper=np.array([1e9])).ready[:, 0]
    assert ready.any()
    assert int(np.argmax(ready)) == needed - 1


def _frame(n: int, step: int, metric: str) -> SeriesFrame:
    stamps = (np.int64(1_704_067_200) + np.arange(n) * step).astype("datetime64[s]")
    return SeriesFrame.from_arrays(stamps.astype("datetime64[ns]"), _walk(n),
                                   metrics=[metric])


@pytest.mark.parametrize("metric", ["disk_pct", "load"])  # a limit of 100; none (anomaly)
@pytest.mark.parametrize(("step", "horizon"), [(300, 6 * 3600), (60, 3600), (3600, 21600)])
def test_a_file_gets_the_note_exactly_when_no_row_is_predicted(step, horizon, metric):
    needed = rows_before_first_prediction(forecaster_for(step, horizon))
    for n in (needed - 1, needed // 2 + 1, needed):
        frame = _frame(n, step, metric)
        assert np.nanmax(frame.values) < 100  # never at the limit (where p=1 at once)
        result = predict_frame(frame, horizon)
        note = learning_note(frame, horizon)
        assert (note is None) == bool(np.isfinite(result.probability).any()), n
        if note is not None:
            assert note.startswith(f"{n:,} rows every {step} s: the first prediction needs "
                                   f"{needed:,} ")
            assert "coarser step" not in note  # at most a few thousand rows

