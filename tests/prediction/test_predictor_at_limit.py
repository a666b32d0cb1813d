"""A value already at or over its limit is certain and due now (p = 1, ETA = its own time,
a warning), also while the series still learns: no forecast is needed to see it. The batch
predictor and the live one (the watch's) agree, block by block.

Family: files of a few rows to past the warm-up, at several steps, with the limit reached
from the first row, by a spike, or never (the control: nothing there warns while learning).
"""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.prediction.live import LivePredictor
from kizashi.prediction.predictor import predict_frame

LIMIT = 100.0


def _values(kind: str, n: int) -> np.ndarray:
    i = np.arange(n)
    base = 60.0 + 5.0 * np.sin(i / 9.0)
    if kind == "over-from-start":
        return base + 60.0           # 115..125, all over
    if kind == "exactly-at":
        return np.full(n, LIMIT)
    if kind == "spike":
        out = base.copy()
        out[n // 2 - 1] = LIMIT + 1.0  # one row over, in the middle
        return out
    return base                      # never there


KINDS = ["over-from-start", "exactly-at", "spike", "never"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("n", "step"), [(3, 300), (60, 300), (300, 300), (600, 300),
                                         (90, 60), (40, 3600)])
def test_rows_at_the_limit_are_certain_and_due_now(kind, n, step):
    values = _values(kind, n)
    stamps = (np.int64(1_704_067_200) + step * np.arange(n)).astype("datetime64[s]")
    frame = SeriesFrame.from_arrays(stamps.astype("datetime64[ns]"), values[:, None],
                                    metrics=["disk_pct"])
    result = predict_frame(frame, "6h")
    there = values >= LIMIT
    assert (result.probability[there, 0] == 1.0).all()
    assert result.warning[there, 0].all()
    assert (result.eta[there, 0] == result.timestamps[there]).all()
    finite = result.probability[np.isfinite(result.probability)]
    assert ((finite >= 0) & (finite <= 1)).all()


@pytest.mark.parametrize("kind", KINDS)
def test_live_agrees_with_the_batch_while_learning(kind):
    n, step = 240, 300.0  # all within the 503-row warm-up
    values = _values(kind, n)[:, None]
    seconds = 1_704_067_200 + step * np.arange(n)
    frame = SeriesFrame.from_arrays(seconds.astype("datetime64[s]").astype("datetime64[ns]"),
                                    values, metrics=["disk_pct"])
    whole = predict_frame(frame, "6h")
    live = LivePredictor(step, np.array([LIMIT]), "6h")
    for start in range(0, n, 40):
        latest = live.update(seconds[start:start + 40], values[start:start + 40])
        row = min(start + 40, n) - 1
        np.testing.assert_allclose(latest.probability, whole.probability[row], equal_nan=True)
        np.testing.assert_array_equal(latest.warning, whole.warning[row])
