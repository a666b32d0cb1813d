"""The rise gate: a warning needs the last hour's line to head for the limit."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.prediction.predictor import RESOLVE_SECONDS, predict_frame
from kizashi.prediction.rise_gate import RISE_MARGIN, RiseGateStream, rise_gate

WINDOW, HORIZON = 12, 72  # an hour and 6 h of 5-minute steps


def rise_then_flat(slope: float, top: float, base: float = 40.0, flat: int = 60) -> np.ndarray:
    rise = np.arange(base, top, slope)
    return np.r_[rise, np.full(flat, top)]


@pytest.mark.parametrize("slope", [0.2, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("top", [80.0, 90.0, 95.0])
def test_a_line_that_stops_rising_closes_the_gate_once_its_last_hour_is_flat(slope, top):
    values = rise_then_flat(slope, top)
    stop = int(np.argmax(values >= top))
    gate = rise_gate(values[:, None], np.array([100.0]), WINDOW, HORIZON)[:, 0]
    # while rising with a full window: the line from the value y reaches y + 72·slope;
    # open exactly where that is ≥ 97 (hand-computed, not from the code's own fit)
    rows = np.arange(WINDOW - 1, stop)
    expected = values[rows] + HORIZON * slope >= 100 - RISE_MARGIN * 100
    assert (gate[rows] == expected).all()
    # a whole flat window later the slope is 0 and the top (≤ 95) is under 97: closed
    assert not gate[stop + WINDOW - 1:].any()


def test_a_rise_too_slow_to_reach_the_limit_within_the_horizon_keeps_it_closed():
    values = 50.0 + 0.05 * np.arange(400)  # 50 → 70: 3.6 per 6 h, never near 97 in time
    assert not rise_gate(values[:, None], np.array([100.0]), WINDOW, HORIZON).any()


def test_the_gate_scales_with_the_limit_and_closes_while_learning():
    t = np.arange(40.0)
    values = np.c_[80.0 + 0.05 * t, 80.0 + 0.05 * t]
    # 3 % of 90 is 2.7: 81.7 + 3.6 = 85.3 (row 33) is under 87.3 but over 100·0.97 − 15 = 82
    gate = rise_gate(values, np.array([90.0, 85.0]), WINDOW, HORIZON)
    assert not gate[:WINDOW - 1].any()  # no full window yet
    assert not gate[WINDOW - 1:, 0].any() and gate[WINDOW - 1:, 1].all()


def test_streaming_equals_the_batch_gate_with_gaps_and_a_late_series():
    rng = np.random.default_rng(3)
    values = np.cumsum(rng.normal(0.3, 1.0, (300, 4)), axis=0) + 60.0
    values[rng.random(values.shape) < 0.1] = np.nan
    values[:50, 3] = np.nan  # a series that starts late
    limit = np.array([100.0, 90.0, 120.0, 80.0])
    batch = rise_gate(values, limit, WINDOW, HORIZON)
    stream = RiseGateStream(WINDOW, HORIZON)
    state = stream.fresh(4)
    live = np.array([stream.step(state, row, limit) for row in values])
    assert (live == batch).all()


def _frame(values: np.ndarray) -> SeriesFrame:
    seconds = np.arange(values.size) * 300.0
    return SeriesFrame.from_arrays(seconds, values, ["n1"], ["fs_used_pct"])


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_a_rise_that_stops_short_of_the_limit_clears_its_warning_within_two_hours_and_a_bit(
        seed):
    rng = np.random.default_rng(seed)
    base = np.full(4 * 288, 40.0)  # four quiet days: the forecasters learn
    rise = np.linspace(40.0, 88.0, 6 * 12)  # +8 %/h for 6 h: heads for 100 % in 1.5 h
    values = np.r_[base, rise, np.full(2 * 288, 88.0)] + rng.normal(0, 0.15, 6 * 288 + 72)
    warning = predict_frame(_frame(values), "6h").warning[:, 0]
    stop = base.size + rise.size
    # the flat hour closes the gate; the warning then ends after the 2 h hysteresis
    cleared = stop + WINDOW + round(RESOLVE_SECONDS / 300.0)
    assert not warning[cleared:].any()


@pytest.mark.slow
def test_a_steady_leak_warns_at_least_five_hours_before_it_reaches_the_limit():
    rng = np.random.default_rng(7)
    hours = np.arange(8 * 288) / 12.0
    start = 4 * 288  # then +1.25 %/h from 40 %: 100 % after 48 h
    values = 40.0 + 1.25 * np.clip(hours - hours[start], 0, None) + rng.normal(0, 0.3, hours.size)
    values = np.minimum(values, 100.0)
    failure = int(np.argmax(values >= 100.0))
    warning = predict_frame(_frame(values), "6h").warning[:, 0]
    first = int(np.argmax(warning[start:])) + start
    assert warning[start:failure].any() and not warning[:start].any()
    # the line meets 100 % 6 h ahead 72 steps before the failure; allow an hour for the
    # forecasters' bands: at least 5 h ahead
    assert (failure - first) * 5 / 60 >= 5.0
