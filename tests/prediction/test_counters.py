"""Counters (series that only grow) have no band to leave: without a limit they never
warn; with one they are predicted as any series; gauges are never taken for counters."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.data.precursors import generate_precursors
from kizashi.prediction.counters import CounterStream, counter_rows
from kizashi.prediction.predictor import predict_frame

STEP = 300.0
N = 6 * 288
HOURS = np.arange(N) * STEP / 3600


def _counters(seed: int) -> np.ndarray:
    """Bytes written at a daily-varying rate (one with a counter reset, one with gaps)."""
    rng = np.random.default_rng(seed)
    columns = []
    for j in range(6):
        rate = rng.uniform(1e6, 5e7) * (1.2 + np.cos(2 * np.pi * (HOURS - 14) / 24))
        written = np.cumsum(rate * STEP * np.exp(rng.normal(0, 0.3, N)))
        if j == 4:  # the process restarted on day 3 and counts from zero again
            written[3 * 288:] -= written[3 * 288 - 1]
        columns.append(rng.uniform(1e9, 1e12) * (j != 4) + written)
    values = np.column_stack(columns)
    values[rng.random(N) < 0.05, 5] = np.nan
    return values


@pytest.mark.parametrize("seed", range(3))
def test_counters_without_a_limit_never_warn(seed):
    values = _counters(seed)
    frame = SeriesFrame.from_arrays(np.arange(N) * STEP, values,
                                    [f"n{j}" for j in range(values.shape[1])],
                                    ["disk_written_bytes_total"] * values.shape[1])
    result = predict_frame(frame, "6h")
    assert not result.warning.any()
    assert np.isnan(result.probability[288:]).all()  # no band-crossing probability


def test_a_counter_with_a_limit_warns_with_the_eta_of_its_line():
    """Bytes written at 1e9 per 5 min from 0 with a limit of 1.5e12: the limit is reached
    at step 1500 (by hand); warned at least 5 h ahead, and the ETA there is within 10 min
    of it."""
    values = np.arange(N) * 1e9
    frame = SeriesFrame.from_arrays(np.arange(N) * STEP, values[:, None], ["n1"],
                                    ["written_bytes_total"])
    result = predict_frame(frame, "6h", {"written_bytes_total": 1.5e12})
    first = int(np.argmax(result.warning[:, 0]))
    assert (1500 - first) * STEP / 3600 >= 5.0
    eta = (result.eta[first, 0] - frame.timestamps[1500]) / np.timedelta64(60, "s")
    assert abs(eta) <= 10


def test_gauges_are_never_counters():
    """Every series of the prediction scenario (gauges: memory, filesystems, temperatures,
    cycles, leaks) on seeds 0–2 falls at some point and is never taken for a counter after
    its first day."""
    for seed in range(3):
        values = generate_precursors(seed=seed).frame.values
        assert not counter_rows(values)[288:].any(), seed


def test_the_stream_equals_the_batch():
    values = np.column_stack([_counters(7), 50 + np.random.default_rng(1).normal(0, 1, N)])
    values[:20, 1] = np.nan  # starts late
    batch = counter_rows(values)
    stream = CounterStream()
    state = stream.fresh(values.shape[1])
    for row in range(N):
        assert np.array_equal(stream.step(state, values[row]), batch[row]), row
    assert batch[-1, :6].all() and not batch[:, 6].any()
