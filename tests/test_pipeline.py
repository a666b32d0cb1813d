from __future__ import annotations

import numpy as np

from kizashi.data.frame import SeriesFrame
from kizashi.data.synthetic import spikes
from kizashi.pipeline import run_detector


def test_run_detector_blocks_equal_one_pass(monkeypatch):
    values, labels = spikes(n=900, n_series=2, seed=5, magnitude=40.0)
    frame = SeriesFrame.from_arrays(np.arange(900) * 60.0, values, labels=labels)
    monkeypatch.setattr("kizashi.pipeline.BLOCK", 128)
    blocked = run_detector(frame, "threshold", {"window": 100})
    monkeypatch.setattr("kizashi.pipeline.BLOCK", 10_000)
    whole = run_detector(frame, "threshold", {"window": 100})
    np.testing.assert_allclose(blocked.scores, whole.scores)
    # the default cutoff is the detector's own k
    assert blocked.cutoffs.tolist() == [3.0, 3.0]
    assert (blocked.flags & labels).sum() >= 8


def test_long_output_has_one_row_per_point():
    frame = SeriesFrame.from_arrays(np.arange(50) * 60.0, np.random.default_rng(0).normal(
        size=(50, 3)))
    result = run_detector(frame, "quantile_threshold", {"window": 20, "min_periods": 5})
    long = result.to_long()
    assert len(long) == 150 and set(long.detector) == {"quantile_threshold"}
