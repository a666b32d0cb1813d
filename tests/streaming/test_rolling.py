from __future__ import annotations

import numpy as np

from kizashi.streaming import DiscountedMoments, RollingWindow, decay_factor


def test_rolling_matches_numpy_on_each_series_own_observations():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(50, 4))
    data[rng.random(data.shape) < 0.2] = np.nan
    window = RollingWindow(7)
    state = window.init(4)
    for row in data:
        window.push(state, row)
    for j in range(4):
        observed = data[:, j][~np.isnan(data[:, j])][-7:]
        mean, std = window.mean_std(state)
        assert np.isclose(mean[j], observed.mean()) and np.isclose(std[j], observed.std())
        q = window.quantiles(state, (0.1, 0.9))[:, j]
        assert np.allclose(q, np.quantile(observed, [0.1, 0.9]))


def test_empty_window_gives_nan():
    window = RollingWindow(3)
    state = window.init(2)
    window.push(state, np.array([1.0, np.nan]))
    mean, std = window.mean_std(state)
    assert mean[0] == 1.0 and np.isnan(mean[1]) and np.isnan(std[1])
    assert np.isnan(window.quantiles(state, (0.5,))[0, 1])


def test_discounted_moments_halflife():
    moments = DiscountedMoments()
    state = moments.init(1)
    moments.update(state, np.array([0.0]), decay=1.0)
    moments.update(state, np.array([10.0]), decay=decay_factor(3600.0, 3600.0))
    # the old observation kept half its weight: mean = 10 / 1.5
    assert np.isclose(state["mean"][0], 10.0 / 1.5)
    moments.update(state, np.array([np.nan]), decay=0.5)
    assert np.isclose(state["weight"][0], 1.5)
