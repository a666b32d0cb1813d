"""Counters (series that only grow) have no band to leave: without a limit they never
warn; with one they are predicted as any series; gauges are never taken for counters."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.counter_families import (
    COUNTER_SUFFIXES_SEEN,
    LEAVING,
    named_gauges,
    odd_totals,
    restarting_bytes,
    sparse_errors,
)
from kizashi.data.frame import SeriesFrame
from kizashi.data.precursors import generate_precursors
from kizashi.prediction.counters import (
    BY_NAME,
    BY_TYPE,
    DECLARED_GAUGE,
    UNKNOWN,
    CounterStream,
    counter_hints,
    counter_rows,
)
from kizashi.prediction.live import LivePredictor
from kizashi.prediction.predictor import RESOLVE_SECONDS, predict_frame

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


# --- families of counters and of gauges with counters' names (kizashi.data.counter_families)
DAY = 288


def _frame(values: np.ndarray, metrics: list[str]) -> SeriesFrame:
    return SeriesFrame.from_arrays(np.arange(values.shape[0]) * STEP, values,
                                   [f"n{j}" for j in range(values.shape[1])], metrics)


def _no_anomaly_ahead(result, values: np.ndarray) -> None:
    assert not result.warning.any()
    assert np.isnan(result.probability).all() and np.isnat(result.eta).all()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("suffix", COUNTER_SUFFIXES_SEEN)
def test_counters_named_as_counters_never_get_an_anomaly_ahead_prediction(seed, suffix):
    """Sparse error counts (with and without restarts), bytes with restarts and odd
    ``_total`` values, named by Prometheus' conventions: no probability, no ETA, no warning
    at any row (known from their first value on, whatever their values)."""
    values = np.column_stack([sparse_errors(N, seed), sparse_errors(N, seed + 10, resets=True),
                              restarting_bytes(N, seed), odd_totals(N, seed)])
    metrics = [f"m{j}{suffix}" for j in range(values.shape[1])]
    _no_anomaly_ahead(predict_frame(_frame(values, metrics), "6h"), values)


def _third_rise(values: np.ndarray) -> int:
    """The row of a series' third rise (a plain loop)."""
    rises = 0
    for row in range(1, len(values)):
        if values[row] > values[row - 1]:
            rises += 1
            if rises == 3:
                return row
    return len(values)


@pytest.mark.parametrize("seed", range(6))
def test_sparse_counters_without_a_counter_name_are_known_by_their_values(seed):
    """Unnamed error counts that rise at few steps: from their third rise on (and 12 steps),
    no anomaly-ahead prediction, and a warning raised before ends within the 2 h of
    hysteresis; before, the rule counted only counts that rose at half of their steps, and
    these were predicted against their band."""
    values = np.column_stack([sparse_errors(N, seed + 100 * k) for k in range(4)])
    result = predict_frame(_frame(values, ["errors"] * 4), "6h")
    resolve = round(RESOLVE_SECONDS / STEP)
    for j in range(4):
        known = max(_third_rise(values[:, j]), 12)
        assert not result.warning[known + resolve:, j].any(), j
        assert np.isnan(result.probability[known:, j]).all(), j


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("suffix", ["_total", "_count", "_sum"])
def test_gauges_with_counter_names_are_predicted_once_they_fall(seed, suffix):
    """A gauge named like a counter is a counter only until its first fall that no counter
    makes (not to near 0): from that row on it is predicted exactly as the same series
    named plainly, and the one that leaves its band warns."""
    values = named_gauges(N, seed)
    named = predict_frame(_frame(values, [f"g{j}{suffix}" for j in range(3)]), "6h")
    plain = predict_frame(_frame(values, [f"g{j}" for j in range(3)]), "6h")
    for j in range(3):
        falls = np.flatnonzero((np.diff(values[:, j]) < 0) & (values[1:, j] > 0.5 * values[:-1, j]))
        fell = int(falls[0]) + 1  # a fall to over half the last value: no counter's reset
        assert fell < DAY
        np.testing.assert_array_equal(named.probability[fell:, j], plain.probability[fell:, j])
        np.testing.assert_array_equal(named.warning[fell:, j], plain.warning[fell:, j])
        assert np.isfinite(named.probability[2 * DAY:, j]).all()  # predicted after learning
    assert named.warning[LEAVING[0]:LEAVING[1], 2].any()  # the ramp leaves the band: warned


@pytest.mark.parametrize("seed", range(3))
def test_with_hints_the_stream_equals_the_batch(seed):
    """Counters and gauges of the families above under every kind of hint (a TYPE, a name,
    nothing, a declared gauge): row by row as the whole file."""
    values = np.column_stack([sparse_errors(N, seed, resets=True), restarting_bytes(N, seed),
                              odd_totals(N, seed), named_gauges(N, seed)])
    k = values.shape[1]
    hints = np.random.default_rng(seed).choice([BY_TYPE, BY_NAME, UNKNOWN, DECLARED_GAUGE], k)
    batch = counter_rows(values, hints)
    stream = CounterStream()
    state = stream.fresh(k)
    for row in range(N):
        assert np.array_equal(stream.step(state, values[row], hints), batch[row]), row
    assert batch[-1][hints == BY_TYPE].all()  # a TYPE counter is one whatever its values


@pytest.mark.slow
def test_the_live_predictor_with_names_says_what_predict_says():
    """Named counters, a sparse unnamed one and gauges with counters' names, fed to the live
    predictor in blocks with the hints of their names: predict_frame's answers."""
    values = np.column_stack([sparse_errors(N, 1, resets=True), sparse_errors(N, 2),
                              named_gauges(N, 1), odd_totals(N, 1)[:, [2, 5]]])
    metrics = ["errors_total", "errors", "queue_count", "sessions_total", "load",
               "cpu_seconds_total", "requests_total"]
    whole = predict_frame(_frame(values, metrics), "6h")
    live = LivePredictor(STEP, np.full(len(metrics), np.nan), "6h",
                         counter_hints=counter_hints(metrics))
    seconds = np.arange(N) * STEP
    for start in range(0, N, 97):
        latest = live.update(seconds[start:start + 97], values[start:start + 97])
        row = min(start + 97, N) - 1
        np.testing.assert_allclose(latest.probability, whole.probability[row], atol=1e-6,
                                   equal_nan=True)
        np.testing.assert_array_equal(latest.warning, whole.warning[row])
    assert np.isnan(whole.probability[:, [0, 5, 6]]).all()
    assert np.isfinite(whole.probability[-1, 2:5]).all()


def test_a_counter_state_saved_before_the_names_loads():
    """A live state saved with the counters' four arrays of before: it loads, and the name
    rule takes its falls as its own."""
    live = LivePredictor(STEP, np.full(2, np.nan), "6h",
                         counter_hints=counter_hints(["errors_total", "load"]))
    state = live.state_dict()
    state["counters"] = {key: state["counters"][key]
                         for key in ("last", "fallen", "ups", "steps")}
    state["counters"]["fallen"] = np.array([True, False])
    other = LivePredictor(STEP, np.full(2, np.nan), "6h",
                          counter_hints=counter_hints(["errors_total", "load"]))
    other.load_state_dict(state)
    assert other.state["counters"]["fallen_named"].tolist() == [True, False]
    other.update(np.array([0.0]), np.array([[1.0, 2.0]]))
