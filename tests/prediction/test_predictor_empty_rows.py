"""Rows at which no series has a value (a scrape outage in a wide export) are missing rows:
predict_frame on the file with them equals predict_frame on the file without them, at the
rows kept, and makes no prediction at them (as the watch's live predictor, which steps such
a stretch through as the line between its ends once it ends:
tests/prediction/test_missing_steps.py)."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.data.precursors import make_series
from kizashi.prediction.predictor import predict_frame

STEP = 300.0
N = 2 * 288 + 120


def _frame() -> SeriesFrame:
    kinds = ("daily_cycle", "memory_leak", "normal")
    values = np.column_stack([make_series(kind, N, STEP, seed=i, first_row=288)[0]
                              for i, kind in enumerate(kinds)])
    values[::17, 1] = np.nan            # values missing here and there: not empty rows
    return SeriesFrame.from_arrays(np.arange(N) * STEP, values, ["a", "b", "c"],
                                   ["cpu_temp_c", "mem_used_pct", "load"])


@pytest.mark.parametrize("start, length", [(40, 1), (350, 12), (500, 36), (N - 5, 5)])
def test_empty_rows_are_read_as_rows_that_are_not_there(start, length):
    full = _frame()
    values = full.values.copy()
    values[start:start + length] = np.nan
    wide = SeriesFrame.from_arrays(full.epoch_seconds, values, full.entities, full.metrics)
    kept = np.r_[0:start, start + length:N]
    without = SeriesFrame.from_arrays(full.epoch_seconds[kept], values[kept], full.entities,
                                      full.metrics)
    limits = {"cpu_temp_c": 90.0}
    got, want = predict_frame(wide, "6h", limits), predict_frame(without, "6h", limits)
    assert got.timestamps.tolist() == wide.timestamps.tolist()
    np.testing.assert_array_equal(got.probability[kept], want.probability)
    np.testing.assert_array_equal(got.warning[kept], want.warning)
    np.testing.assert_array_equal(got.eta[kept], want.eta)
    gone = slice(start, start + length)
    assert np.isnan(got.probability[gone]).all() and not got.warning[gone].any()
    assert np.isnat(got.eta[gone]).all()
    assert np.isfinite(want.probability[-1, :2]).all()    # learned: a real comparison
    long = got.to_long()
    assert len(long) == N * 3 and long["probability"].isna().sum() >= length * 3


def test_empty_rows_before_the_first_value_are_rows_as_they_come():
    # as in the live predictor (a series joining a watch): the file is predicted as it is
    full = _frame()
    values = full.values.copy()
    values[:30] = np.nan
    wide = SeriesFrame.from_arrays(full.epoch_seconds, values, full.entities, full.metrics)
    got = predict_frame(wide, "6h", {"cpu_temp_c": 90.0})
    assert got.probability.shape == (N, 3) and np.isfinite(got.probability[-1, :2]).all()
