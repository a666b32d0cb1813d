"""The incremental forecaster says what the batch forecaster says, step by step, on every kind
of input (trends, daily rhythms, gaps, late starts, both limits, long horizons), and a state cut
anywhere goes on bit for bit.

The reference is :meth:`LimitForecaster.crossing` over the whole series (independent code: FIR
filters and cumulative sums over all rows at once)."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.prediction.incremental import IncrementalForecaster
from kizashi.prediction.limit_forecaster import LimitForecaster
from kizashi.state import copy_state


def series_family(rng: np.random.Generator, n: int) -> np.ndarray:
    """Columns: a noisy line, an accelerating rise, a daily cycle with a drift, a random walk,
    a flat series, a series starting late, one with a gap, one never observed."""
    t = np.arange(n, dtype=np.float64)
    day = 48
    columns = [
        10 + 0.05 * t + rng.normal(0, 0.3, n),
        5 + 1e-4 * t ** 2 + rng.normal(0, 0.2, n),
        50 + 10 * np.sin(2 * np.pi * t / day) + 0.02 * t + rng.normal(0, 0.5, n),
        40 + np.cumsum(rng.normal(0, 0.5, n)),
        np.full(n, 30.0),
    ]
    late = 20 + 0.03 * t + rng.normal(0, 0.2, n)
    late[: n // 3] = np.nan
    gap = 60 + 5 * np.sin(2 * np.pi * t / day) + rng.normal(0, 0.3, n)
    gap[n // 2: n // 2 + 17] = np.nan
    gap[rng.random(n) < 0.05] = np.nan
    return np.column_stack([*columns, late, gap, np.full(n, np.nan)])


FORECASTERS = [
    LimitForecaster(horizon_steps=12, window=16, season_steps=48, error_window=40,
                    bias_window=24, recent_horizon=3),  # recent errors 3 steps ahead
    LimitForecaster(horizon_steps=12, window=16, season_steps=48, error_window=40,
                    bias_window=40),                   # bias window = error window
    LimitForecaster(horizon_steps=7, window=10, season_steps=None, error_window=20,
                    recent_horizon=2, recent_window=5),
    LimitForecaster(horizon_steps=100, window=8, season_steps=None, error_window=30,
                    min_errors=5, recent_horizon=17),   # a horizon grid coarser than a step
    LimitForecaster(horizon_steps=6, window=12, season_steps=48, error_window=24,
                    candidates=("linear", "seasonal"), recent_horizon=1),
]


def run(live: IncrementalForecaster, state, values, upper, lower):
    out = [live.step(state, row, upper[i], lower[i]) for i, row in enumerate(values)]
    return {k: np.array([getattr(o, k) for o in out]) for k in ("z", "eta_steps", "model",
                                                               "forecast", "sd")}


@pytest.mark.parametrize("which", range(len(FORECASTERS)))
def test_step_by_step_equals_the_whole_series(which):
    forecaster = FORECASTERS[which]
    rng = np.random.default_rng(which)
    values = series_family(rng, 400)
    n, k = values.shape
    upper = np.broadcast_to(np.array([40.0, 30.0, 62.0, 45.0, 31.0, 28.0, 66.0, 50.0]), (n, k))
    lower = np.full((n, k), np.nan)
    lower[:, 2] = 38.0    # both limits on the daily cycle: leaving either side counts
    lower[:, 3] = 35.0
    whole = forecaster.crossing(values, upper=upper, lower=lower)
    live = IncrementalForecaster(forecaster)
    got = run(live, live.fresh(k), values, upper, lower)
    np.testing.assert_array_equal(got["model"], whole.model)
    np.testing.assert_array_equal(got["eta_steps"], whole.eta_steps)
    for key, expected in (("z", whole.z), ("forecast", whole.forecast), ("sd", whole.sd)):
        np.testing.assert_allclose(got[key], expected, rtol=1e-7, atol=1e-7, equal_nan=True,
                                   err_msg=key)
    ready = whole.model >= 0
    assert ready[-1, :7].all() and not ready[:, 7].any()   # learned, except the unseen one
    assert np.isfinite(whole.z[-1, :5]).all()


def test_a_time_varying_band_is_met_row_by_row():
    forecaster = FORECASTERS[0]
    values = series_family(np.random.default_rng(9), 300)[:, :3]
    n, k = values.shape
    upper = 70 + 5 * np.sin(np.arange(n) / 7.0)[:, None] + np.zeros((1, k))
    lower = upper - 60
    whole = forecaster.crossing(values, upper=upper, lower=lower)
    live = IncrementalForecaster(forecaster)
    got = run(live, live.fresh(k), values, upper, lower)
    np.testing.assert_allclose(got["z"], whole.z, rtol=1e-7, atol=1e-7, equal_nan=True)
    np.testing.assert_array_equal(got["eta_steps"], whole.eta_steps)


@pytest.mark.parametrize("cut", [1, 15, 39, 40, 41, 200, 333])
def test_a_state_cut_anywhere_goes_on_bit_for_bit(cut):
    forecaster = FORECASTERS[0]
    values = series_family(np.random.default_rng(3), 400)
    n, k = values.shape
    upper = np.full((n, k), 50.0)
    lower = np.full((n, k), np.nan)
    live = IncrementalForecaster(forecaster)
    unbroken = run(live, live.fresh(k), values, upper, lower)
    state = live.fresh(k)
    run(live, state, values[:cut], upper, lower)
    again = IncrementalForecaster(forecaster)
    resumed = run(again, copy_state(state), values[cut:], upper[cut:], lower[cut:])
    for key in unbroken:
        np.testing.assert_array_equal(resumed[key], unbroken[key][cut:], err_msg=key)


def test_a_clean_line_gives_the_eta_of_the_line():
    # 10 + 0.5·t reaches 99.9 between t = 179 and 180: at t = 170, 10 steps ahead
    forecaster = LimitForecaster(horizon_steps=20, window=10, season_steps=None, error_window=20)
    live = IncrementalForecaster(forecaster)
    state = live.fresh(1)
    outs = [live.step(state, np.array([10 + 0.5 * t]), np.array([99.9]), np.array([np.nan]))
            for t in range(171)]
    assert outs[170].eta_steps[0] == 10
    assert outs[170].forecast[0] == pytest.approx(10 + 0.5 * 190)
    assert outs[140].eta_steps[0] != outs[140].eta_steps[0]      # 30 steps away: none
    assert outs[5].model[0] == -1 and outs[170].model[0] >= 0


def test_fresh_state_has_the_series_on_the_last_axis():
    live = IncrementalForecaster(FORECASTERS[0])
    one, two = live.fresh(1), live.fresh(2)
    for key in one:
        if key in ("n_series", "row"):
            continue
        assert one[key].shape[:-1] == two[key].shape[:-1] and two[key].shape[-1] == 2, key


def test_a_history_ring_of_another_length_is_re_laid_row_by_row():
    from kizashi.prediction.predictor import forecaster_for

    kernel = IncrementalForecaster(forecaster_for(300.0, 6 * 3600.0))
    rows_seen, old = 1000, 7
    values = np.arange(rows_seen, dtype=np.float64)  # row r holds r
    saved = np.full((old, 2), np.nan)
    for r in range(rows_seen - old, rows_seen):  # a ring of 7 keeps the last 7 rows
        saved[r % old] = [r, -r]
    hist = kernel.relay(saved, rows_seen)
    assert hist.shape == (kernel.history, 2)
    kept = values[-old:].astype(int)
    assert hist[kept % kernel.history, 0].tolist() == kept.tolist()
    assert hist[kept % kernel.history, 1].tolist() == (-kept).tolist()
    assert np.isnan(hist[:, 0]).sum() == kernel.history - old  # the rest is unknown
