"""The trend line of a series with a limit while it learns (``predict --warmup-trend``).

Expectations come from the rises generated here: a series ``start + rate·t`` is full at
``t_full = (limit − start) / rate``; its line, continued 6 h, reaches the limit from
``t_full − 6 h`` on, and not before the line has 2 h of rows. So without noise the first
crossing is the first row at or after ``max(2 h, t_full − 6 h)``, with the ETA
``t_full``; with noise it may come a little later (the band must clear the limit), never
earlier than 2 h, and the ETA stays near ``t_full``. Noise about a level under the limit,
a slow rise that is not full within the horizon, and a falling series never cross.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.prediction.predictor import predict_frame
from kizashi.prediction.warmup_trend import (
    MIN_SECONDS,
    STALE_SECONDS,
    trend_crossings,
    with_trend,
)

STEP = 300.0
HORIZON = 6 * 3600.0
LIMIT = np.array([100.0])


def _rise(hours: float, start: float, rate: float, noise: float, seed: int = 0):
    seconds = np.arange(0, hours * 3600, STEP)
    rng = np.random.default_rng(seed)
    values = start + rate * seconds / 3600 + rng.normal(0, noise, seconds.size)
    return seconds, np.minimum(values, 100.0)[:, None]


RISES = [(start, rate) for start in (10.0, 40.0, 70.0) for rate in (2.5, 5.0, 10.0, 20.0)
         if 2.5 <= (100 - start) / rate <= 40]  # full before 2 h: at the limit first


@pytest.mark.parametrize("noise", [0.0, 0.3, 1.0])
@pytest.mark.parametrize(("start", "rate"), RISES)
def test_a_rise_to_the_limit_is_said_a_horizon_ahead(start, rate, noise):
    full = (100 - start) / rate * 3600
    seconds, values = _rise(full / 3600 + 1, start, rate, noise)
    crosses, eta = trend_crossings(seconds, values, LIMIT, HORIZON)
    hits = np.flatnonzero(crosses[:, 0])
    assert hits.size, "never crossed"
    first = seconds[hits[0]]
    earliest = max(MIN_SECONDS, full - HORIZON)
    assert first >= MIN_SECONDS
    if noise == 0.0:
        assert earliest - 1e-6 <= first <= earliest + STEP  # equal: either row
        assert abs(first + eta[hits[0], 0] - full) <= 1.0
    else:
        # the band clears the limit within an hour of the exact line's first crossing
        assert first <= max(earliest + 3600, MIN_SECONDS + 3600)
        assert abs(first + eta[hits[0], 0] - full) <= 0.1 * (full - first) + 2 * STEP


NOT_CROSSING = {
    "noise under the limit": (lambda s, r: 97 + r.normal(0, 1.0, s.size)),
    "noise far under": (lambda s, r: 60 + r.normal(0, 5.0, s.size)),
    "slow rise, full after the horizon": (lambda s, r: 50 + s / 3600 + r.normal(0, .3, s.size)),
    "falling": (lambda s, r: 95 - 3 * s / 3600 + r.normal(0, 0.5, s.size)),
    "daily rhythm under the limit": (lambda s, r: 70 + 10 * np.sin(2 * np.pi * s / 86400)),
    "flat at 99.9": (lambda s, r: np.full(s.size, 99.9)),
}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("case", sorted(NOT_CROSSING))
def test_no_crossing_without_a_rise_to_the_limit(case, seed):
    seconds = np.arange(0, 40 * 3600, STEP)
    values = NOT_CROSSING[case](seconds, np.random.default_rng(seed))[:, None]
    crosses, eta = trend_crossings(seconds, values, LIMIT, HORIZON)
    assert not crosses.any() and np.isnan(eta).all()


def test_missing_values_and_jittered_times_still_cross_at_the_same_hour():
    seconds, values = _rise(8, 20.0, 10.0, 0.0)
    rng = np.random.default_rng(4)
    jittered = seconds + rng.uniform(-30, 30, seconds.size)
    jittered[0] = 0.0
    holes = values.copy()
    holes[rng.random(seconds.size) < 0.3] = np.nan
    crosses, _ = trend_crossings(jittered, holes, LIMIT, HORIZON)
    first = jittered[np.argmax(crosses[:, 0])]
    assert 2 * 3600 - 30 <= first <= 2 * 3600 + 2 * STEP


def test_a_series_without_a_limit_never_crosses():
    seconds, values = _rise(8, 20.0, 10.0, 0.0)
    crosses, _ = trend_crossings(seconds, values, np.array([np.nan]), HORIZON)
    assert not crosses.any()


def test_only_learning_rows_change_and_only_with_the_line():
    """Three days of a slow rise then a fast one: rows with a probability are the
    forecasters' alone; learning rows gain the line's warnings and ETA."""
    seconds = np.arange(0, 3 * 86400, STEP)
    values = (20 + 10 * seconds / 3600).clip(max=100)  # full at 8 h: inside the warm-up
    frame = SeriesFrame.from_arrays(seconds, values[:, None], ["n1"], ["disk_pct"])
    plain = predict_frame(frame, "6h")
    trended, early = with_trend(plain, frame.values)
    learned = np.isfinite(plain.probability)
    assert learned.any() and early.any()
    assert np.array_equal(trended.warning[learned], plain.warning[learned])
    assert np.array_equal(trended.eta[learned], plain.eta[learned], equal_nan=True)
    assert np.array_equal(trended.probability, plain.probability, equal_nan=True)
    first_plain = int(np.argmax(plain.warning[:, 0]))
    first_trend = int(np.argmax(trended.warning[:, 0]))
    assert seconds[first_plain] == 8 * 3600           # without the line: at the limit
    assert seconds[first_trend] <= 2 * 3600 + STEP     # with it: 6 h ahead
    eta = trended.eta[first_trend, 0].astype("datetime64[s]").astype(np.int64)
    assert eta == 8 * 3600


@pytest.mark.parametrize("late_hours", [0.5, 3.0, 5.0, 12.0])
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_a_series_joining_late_needs_its_own_two_hours(late_hours, noise):
    # a new disk appearing in a long file: its line counts from its own first value, not
    # the file's first row, so three values over ten minutes never warn
    seconds = np.arange(0, (late_hours + 8) * 3600, STEP)
    rng = np.random.default_rng(int(late_hours * 10))
    since = seconds - late_hours * 3600
    values = np.where(since >= 0, 20 + 10 * since / 3600 + rng.normal(0, noise, seconds.size),
                      np.nan)
    values = np.minimum(values, 100.0)[:, None]
    crosses, _ = trend_crossings(seconds, values, LIMIT, HORIZON)
    hits = np.flatnonzero(crosses[:, 0])
    assert hits.size, "never crossed"
    assert since[hits[0]] >= MIN_SECONDS - 1e-6  # not before its own 2 h
    assert since[hits[0]] <= MIN_SECONDS + (3600 if noise else STEP)


@pytest.mark.parametrize("silent_minutes", [35, 60, 180])
def test_a_series_gone_silent_stops_crossing(silent_minutes):
    # the last values of a rise, then nothing: stale points are not a trend
    seconds, values = _rise(8, 20.0, 10.0, 0.0)
    stop = int((4 * 3600) // STEP)
    values[stop:] = np.nan
    crosses, _ = trend_crossings(seconds, values, LIMIT, HORIZON)
    last_value = seconds[stop - 1]
    silent = seconds - last_value > STALE_SECONDS
    assert crosses[stop - 1, 0]  # it crossed while it spoke
    assert not crosses[silent, 0].any()
    assert silent[np.searchsorted(seconds, last_value + silent_minutes * 60)]


def _sawtooth(period_h: float, base: float, peak: float, hours: float = 40.0, seed: int = 0):
    """Teeth rising linearly from ``base`` to ``peak`` over ``period_h`` hours, then dropped
    back at once (a scratch area cleaned, a log rotated), with a little noise."""
    seconds = np.arange(0, hours * 3600, STEP)
    phase = (seconds / 3600 % period_h) / period_h
    noise = np.random.default_rng(seed).normal(0, 0.3, seconds.size)
    return seconds, (base + (peak - base) * phase + noise)[:, None]


@pytest.mark.parametrize("period_h", [6.0, 8.0, 10.0])
@pytest.mark.parametrize(("base", "peak"), [(30.0, 93.0), (50.0, 96.0)])
def test_a_sawtooth_under_the_limit_stops_warning_from_the_line_once_it_cycles(
        period_h, base, peak):
    """While learning, a series that fills and is emptied is told by the cycle gate, as the
    forecasters' warnings are: two resets make it cycling, and its teeth, which go no
    further than the last ones, then get no warning from the line either. Where the gate
    shuts at the latest is derived from the gate's rule, not from runs: the second drop,
    plus the hour (3 segments of 20 minutes) in which a fall counts as a reset. (Teeth of
    6–10 h: a 6 h line through one tooth reaches the limit; through shorter teeth the
    line spans a drop and does not.)"""
    seconds, values = _sawtooth(period_h, base, peak)
    frame = SeriesFrame.from_arrays(seconds, values, ["n1"], ["scratch_pct"])
    plain = predict_frame(frame, "6h")
    assert not np.isfinite(plain.probability).any()  # 40 h: every row learning
    _, early = with_trend(plain, frame.values)
    shut = 2 * period_h * 3600 + 3600  # the second drop, and the hour to see it as a reset
    assert not early[seconds >= shut + 1e-9].any()
    _, ungated_early = with_trend(replace(plain, cycle_open=None), frame.values)
    assert ungated_early[seconds >= shut + 1e-9].any(), "the line alone would warn on later teeth"


def test_a_fill_between_cleanups_that_goes_further_still_warns():
    """Three teeth of 3 h to 90 % (two resets: cycling), then a fill of 5 %/h from 40 % that
    is not emptied: not before it passes the earlier teeth's tops (90 %, at 19 h) the gate
    opens again, and the line, which reaches 100 % within 6 h from there, warns before the
    series is full (21 h)."""
    seconds, values = _sawtooth(3.0, 40.0, 90.0, hours=24.0)
    h = seconds / 3600
    values[h >= 9.0, 0] = (40.0 + 5.0 * (h[h >= 9.0] - 9.0)).clip(max=100.0)
    frame = SeriesFrame.from_arrays(seconds, values, ["n1"], ["scratch_pct"])
    plain = predict_frame(frame, "6h")
    _, early = with_trend(plain, frame.values)
    assert not plain.cycle_open[(h > 13.0) & (h < 19.0), 0].any()  # cycling: shut
    warned = h[early[:, 0] & (h >= 9.0)]
    assert warned.size
    assert 19.0 - 1e-9 <= warned[0] < 21.0
