"""A stretch with no rows in the file is read as the straight line between its two ends, on
the file's regular time grid: the predictions at the file's rows equal those made on the file
with the stretch filled in by hand (so the daily rhythm stays aligned after a gap), and rows
before the stretch are as without it."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.data.precursors import make_series
from kizashi.prediction.predictor import predict_frame

STEP = 300.0
N = 4 * 288  # four days of 5-minute rows


def _frame() -> SeriesFrame:
    kinds = ("daily_cycle", "nightly_cleanup", "memory_leak", "normal")
    columns = [make_series(kind, N, STEP, seed=i, first_row=2 * 288)[0]
               for i, kind in enumerate(kinds)]
    metrics = ["cpu_temp_c", "scratch_used_pct", "mem_used_pct", "load"]
    return SeriesFrame.from_arrays(np.arange(N) * STEP, np.column_stack(columns),
                                   [f"n{i}" for i in range(4)], metrics)


@pytest.mark.parametrize("start, length", [(300, 1), (400, 12), (610, 36), (700, 5)])
def test_a_stretch_without_rows_is_the_line_between_its_ends(start, length):
    full = _frame()
    keep = np.ones(N, dtype=bool)
    keep[start:start + length] = False
    rows = np.flatnonzero(keep)
    gapped = SeriesFrame.from_arrays(full.epoch_seconds[rows], full.values[rows],
                                     full.entities, full.metrics)
    # by hand: the stretch as the straight line between the rows before and after it
    filled = full.values.copy()
    lo, hi = start - 1, start + length
    for j in range(full.n_series):
        filled[start:hi, j] = np.interp(np.arange(start, hi), [lo, hi],
                                        [full.values[lo, j], full.values[hi, j]])
    by_hand = SeriesFrame.from_arrays(full.epoch_seconds, filled, full.entities, full.metrics)
    limits = {"cpu_temp_c": 90.0}
    got = predict_frame(gapped, "6h", limits)
    # (its filled rows marked as such: the runaway test judges no window holding one)
    want = predict_frame(by_hand, "6h", limits, measured=keep)
    reference = predict_frame(full, "6h", limits)
    assert got.timestamps.tolist() == gapped.timestamps.tolist()
    np.testing.assert_allclose(got.probability, want.probability[rows], rtol=1e-9,
                               atol=1e-12, equal_nan=True)
    assert np.array_equal(got.warning, want.warning[rows])
    assert np.array_equal(got.eta, want.eta[rows], equal_nan=True)
    # rows before the stretch never see it
    np.testing.assert_array_equal(got.probability[:start], reference.probability[:start])
    assert got.probability.shape == (N - length, 4)

