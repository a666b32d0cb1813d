"""Streaming primitives stay finite next to values near the float limit."""

from __future__ import annotations

import numpy as np

from kizashi.streaming import DiscountedMoments, RollingWindow
from kizashi.streaming.robust import FLOAT_MAX, MAX_SCORE, bounded, ratio, spread_floor


def test_rolling_mean_and_std_do_not_overflow():
    window = RollingWindow(4)
    state = window.init(3)
    for row in ([1e308, 1.0, -1e308], [1e308, 2.0, 1e308], [3.0, 3.0, 1.0]):
        window.push(state, np.array(row))
    mean, std = window.mean_std(state)
    # by hand: (1e308 + 1e308 + 3) / 3, and (−1e308 + 1e308 + 1) / 3
    np.testing.assert_allclose(mean, [1e308 / 1.5, 2.0, 1 / 3], rtol=1e-12)
    np.testing.assert_allclose(std, [np.sqrt(2 / 9) * 1e308, np.sqrt(2 / 3),
                                     np.sqrt(2 / 3) * 1e308], rtol=1e-12)
    # an ordinary window is computed exactly as before (no scaling)
    plain = RollingWindow(4)
    small = plain.init(1)
    for x in (1.0, 2.0, 4.0):
        plain.push(small, np.array([x]))
    assert plain.mean_std(small)[1][0] == np.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2
                                                   + (4 - 7 / 3) ** 2) / 3)


def test_discounted_moments_stay_finite_and_recover():
    moments = DiscountedMoments()
    state = moments.init(2)
    moments.update(state, np.array([1.0, -1e308]), decay=0.9)
    assert state["var"].tolist() == [0.0, 0.0]
    moments.update(state, np.array([1e308, 1e308]), decay=0.9)
    assert np.all(np.isfinite(state["mean"])) and np.all(state["var"] <= FLOAT_MAX)
    for _ in range(2000):  # the variance halves with every 0 once the mean is small
        moments.update(state, np.array([0.0, 0.0]), decay=0.5)
        assert np.all(np.isfinite(state["mean"])) and np.all(np.isfinite(state["var"]))
    assert np.all(state["var"] < 1e-100)


def test_bounded_ratio_and_floor():
    assert bounded(np.array([np.inf, -np.inf])).tolist() == [MAX_SCORE, -MAX_SCORE]
    assert np.isnan(ratio(np.array([np.nan]), np.array([1.0]))[0])
    assert ratio(np.array([1e308]), np.array([0.5]))[0] == MAX_SCORE
    assert spread_floor(np.array([-2000.0]), None)[0] == 2.0
    assert spread_floor(np.array([np.nan]), 0.5)[0] == 0.5
