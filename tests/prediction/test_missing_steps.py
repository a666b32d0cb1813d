"""The live predictor reads a stretch of missing steps as ``kizashi predict`` reads a file's
missing rows: after the stretch its answers equal predict_frame's on the file without those
rows (batch = streaming across a gap), whether the steps come as empty rows on the interval's
grid (what a watch gets from a range query during a scrape outage) or as a jump of the
timestamps; nothing is predicted while the stretch lasts; and a state saved anywhere in or
around the stretch goes on bit for bit (streaming = restored).

The reference is predict_frame on the file with the stretch removed, itself checked against
the stretch filled in by hand in tests/prediction/test_predictor_gaps.py."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.data.precursors import make_series
from kizashi.prediction.live import LivePredictor
from kizashi.prediction.missing_steps import lay_out_missing
from kizashi.prediction.predictor import predict_frame
from kizashi.state import copy_state

STEP = 300.0
N = 3 * 288 + 96  # three days and eight hours of 5-minute rows
KINDS = ("daily_cycle", "memory_leak", "nightly_cleanup", "normal", "normal")
METRICS = ("cpu_temp_c", "mem_used_pct", "scratch_used_pct", "load", "latency")
NAMED = {"cpu_temp_c": 90.0}


def full_frame() -> SeriesFrame:
    """Five series (three with a limit, two anomaly ahead), one of them starting late."""
    columns = [make_series(kind, N, STEP, seed=i, first_row=2 * 288)[0]
               for i, kind in enumerate(KINDS)]
    values = np.column_stack(columns)
    values[:50, 4] = np.nan
    return SeriesFrame.from_arrays(np.arange(N) * STEP, values, [f"n{i}" for i in range(5)],
                                   list(METRICS))


def limits() -> np.ndarray:
    return np.array([90.0, 100.0, 100.0, np.nan, np.nan])


def eta_seconds(eta: np.ndarray) -> np.ndarray:
    return np.where(np.isnat(eta), np.nan, eta.astype("datetime64[ns]").astype(np.int64) / 1e9)


def assert_same(latest, whole, row: int) -> None:
    np.testing.assert_allclose(latest.probability, whole.probability[row], atol=1e-6,
                               equal_nan=True, err_msg=f"row {row}")
    np.testing.assert_array_equal(latest.warning, whole.warning[row], err_msg=f"row {row}")
    np.testing.assert_allclose(latest.eta_seconds, eta_seconds(whole.eta[row]),
                               equal_nan=True, err_msg=f"row {row}")


# the family: stretches of 1 to 36 steps, at the start (before the forecasters are ready),
# in the middle (a day's rhythm learned) and near the end
STRETCHES = [(start, length) for length in (1, 2, 7, 36)
             for start in (3, 400, N - length - 2)] + [(620, 12), (905, 24), (100, 36)]


@pytest.mark.slow
@pytest.mark.parametrize("start, length", STRETCHES)
@pytest.mark.parametrize("as_empty_rows", [True, False])
def test_after_a_missing_stretch_live_equals_predict(start, length, as_empty_rows):
    full = full_frame()
    keep = np.ones(N, dtype=bool)
    keep[start:start + length] = False
    rows = np.flatnonzero(keep)
    gapped = SeriesFrame.from_arrays(full.epoch_seconds[rows], full.values[rows],
                                     full.entities, full.metrics)
    whole = predict_frame(gapped, "6h", NAMED)  # one answer per row of the gapped file
    seconds = full.epoch_seconds
    fed = full.values.copy()
    fed[start:start + length] = np.nan         # the watch's view: empty rows on its grid
    live = LivePredictor(STEP, limits(), "6h")
    before = live.update(seconds[:start], fed[:start])
    assert_same(before, whole, start - 1)
    if as_empty_rows:   # the outage's ticks: nothing new is predicted while it lasts
        during = live.update(seconds[start:start + length], fed[start:start + length])
        np.testing.assert_array_equal(during.probability, before.probability)
        assert live.times_.tolist() == [seconds[start - 1]]
    # then the row after the stretch, a few single rows and blocks to the end
    edges = [start + length + 1, start + length + 2, start + length + 5, *range(
        start + length + 41, N, 97), N]
    at = start + length
    for stop in sorted({min(e, N) for e in edges}):
        if stop <= at:
            continue
        latest = live.update(seconds[at:stop], fed[at:stop])
        assert_same(latest, whole, int(np.searchsorted(rows, stop - 1)))
        at = stop
    assert np.isfinite(whole.probability[-1, :3]).all()


def test_a_stretch_changes_the_answer_after_it():
    # the line is not the carried last value: the answers right after a 36-step stretch
    # differ from those of a predictor that was told nothing about the missing steps
    full = full_frame()
    start, length = 700, 36
    seconds, fed = full.epoch_seconds, full.values.copy()
    fed[start:start + length] = np.nan
    stop = start + length + 12
    laid_out = LivePredictor(STEP, limits(), "6h").update(seconds[:stop], fed[:stop])
    squeezed = LivePredictor(STEP, limits(), "6h")  # the stretch taken out of the time line
    rows = np.r_[0:start, start + length:stop]
    squeezed.update(np.arange(rows.size) * STEP, fed[rows])
    assert not np.allclose(laid_out.probability, squeezed.latest.probability, equal_nan=True)


@pytest.mark.parametrize("cut", [0, 5, 11, 12, 13])
def test_a_state_saved_around_a_stretch_goes_on_bit_for_bit(cut):
    # a stretch of 12 empty steps at rows 600..611; the state is saved `cut` rows into it
    # (0: just before, 12: at its end, 13: after the row that ends it), restored and fed on
    full = full_frame()
    start, length = 600, 12
    seconds, fed = full.epoch_seconds, full.values.copy()
    fed[start:start + length] = np.nan
    stop = start + length + 60
    one = LivePredictor(STEP, limits(), "6h")
    one.update(seconds[:start], fed[:start])
    unbroken = [one.update(seconds[i:i + 1], fed[i:i + 1]) for i in range(start, stop)]
    two = LivePredictor(STEP, limits(), "6h")
    two.update(seconds[:start + cut], fed[:start + cut])
    three = LivePredictor(STEP, limits(), "6h")
    three.load_state_dict(copy_state(two.state_dict()))
    for i in range(start + cut, stop):
        got = three.update(seconds[i:i + 1], fed[i:i + 1])
        want = unbroken[i - start]
        np.testing.assert_array_equal(got.probability, want.probability)
        np.testing.assert_array_equal(got.warning, want.warning)
        np.testing.assert_array_equal(got.eta_seconds, want.eta_seconds)
    assert np.isfinite(unbroken[-1].probability[:3]).all()


def test_a_state_saved_before_missing_steps_were_laid_out_still_loads():
    full = full_frame()
    live = LivePredictor(STEP, limits(), "6h")
    live.update(full.epoch_seconds[:100], full.values[:100])
    old = copy_state(live.state_dict())
    del old["previous"]
    again = LivePredictor(STEP, limits(), "6h")
    again.load_state_dict(old)
    assert np.isnan(again.state["previous"]).all()
    again.update(full.epoch_seconds[100:101], full.values[100:101])   # goes on


@pytest.mark.parametrize("k", [1, 2, 3, 10, 36])
def test_the_filled_steps_are_the_line_between_the_ends(k):
    # by hand: from 2 to 2 + 3(k+1) in k+1 steps is +3 per step; a series missing at the
    # end before (NaN) stays NaN across the stretch, as in fill_missing_stretches
    times = 1000.0 + 60.0 * np.arange(1, k + 2)
    values = np.full((k + 1, 2), np.nan)
    values[-1] = [2.0 + 3.0 * (k + 1), 7.0]
    rows = lay_out_missing(times, values, 1000.0, np.array([2.0, np.nan]), 60.0)
    assert rows.times.tolist() == times.tolist()
    np.testing.assert_allclose(rows.values[:, 0], 2.0 + 3.0 * np.arange(1, k + 2))
    assert np.isnan(rows.values[:-1, 1]).all() and rows.values[-1, 1] == 7.0
    assert rows.observed.tolist() == [False] * k + [True]
    # the same stretch as a jump of the timestamps
    jump = lay_out_missing(times[-1:], values[-1:], 1000.0, np.array([2.0, np.nan]), 60.0)
    np.testing.assert_array_equal(jump.values, rows.values)
    assert jump.times.tolist() == rows.times.tolist()


def test_rows_before_any_value_pass_through_and_empty_ones_after_are_missing():
    # before any value (last_time NaN) empty rows are stepped as they come (a series joining
    # a watch is one missing until then); after it, an empty row is a missing step
    nan = np.nan
    values = np.array([[nan, nan], [1.0, nan], [nan, nan], [3.0, 5.0]])
    times = np.array([0.0, 60.0, 120.0, 180.0])
    rows = lay_out_missing(times, values, nan, np.full(2, nan), 60.0)
    assert rows.times.tolist() == times.tolist()
    assert rows.observed.tolist() == [True, True, False, True]
    np.testing.assert_array_equal(rows.values[[0, 1, 3]], values[[0, 1, 3]])
    assert rows.values[2].tolist()[0] == 2.0 and np.isnan(rows.values[2, 1])
    steady = lay_out_missing(times[1:2], values[1:2], 0.0, np.full(2, nan), 60.0)
    np.testing.assert_array_equal(steady.values, values[1:2])
    nothing = lay_out_missing(times[2:3], values[2:3], 60.0, np.array([1.0, nan]), 60.0)
    assert nothing.times.size == 0 and nothing.values.shape == (0, 2)


def test_one_series_missing_among_others_is_carried_as_predict_carries_it():
    # only steps where no series has a value are missing steps; a series silent while the
    # others go on is carried (as predict_frame carries it): batch = streaming still holds
    full = full_frame()
    values = full.values.copy()
    values[640:676, 1] = np.nan      # one node silent for three hours
    frame = SeriesFrame.from_arrays(full.epoch_seconds, values, full.entities, full.metrics)
    whole = predict_frame(frame, "6h", NAMED)
    live = LivePredictor(STEP, limits(), "6h")
    for stop in (640, 676, 677, 700, N):
        at = int(live.times_[-1] / STEP) + 1 if live.times_.size else 0
        latest = live.update(full.epoch_seconds[at:stop], values[at:stop])
        assert_same(latest, whole, stop - 1)


def test_a_stretch_longer_than_the_memory_is_not_laid_out():
    # past max_missing steps the line would cost a step per missing step for nothing the
    # forecasters still remember: the row after it is stepped as the next row
    previous, row = np.array([1.0]), np.array([[9.0]])
    laid = lay_out_missing(np.array([600.0]), row, 0.0, previous, 60.0, max_missing=9)
    assert laid.times.tolist() == (60.0 * np.arange(1, 11)).tolist()   # 9 missing, then 9.0
    np.testing.assert_allclose(laid.values[:, 0], 1.0 + 8.0 * np.arange(1, 11) / 10)
    skipped = lay_out_missing(np.array([660.0]), row, 0.0, previous, 60.0, max_missing=9)
    assert skipped.times.tolist() == [660.0] and skipped.observed.all()
    live = LivePredictor(STEP, limits(), "6h")
    assert live.kernel.history >= 3 * 288      # a 5-minute watch lays out up to ~3 days
