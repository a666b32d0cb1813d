"""Rolling fits as filters agree with numpy's own least squares, window by window."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.prediction.local_fit import fill_forward, rolling_polyfit, trailing_mean


@pytest.mark.parametrize("degree", [0, 1, 2])
@pytest.mark.parametrize("window", [3, 7, 30])
def test_rolling_polyfit_matches_numpy_polyfit(degree, window):
    if window < degree + 1:
        pytest.skip("window too small")
    rng = np.random.default_rng(window * 10 + degree)
    values = np.cumsum(rng.normal(size=(80, 3)), axis=0) + 100
    coefs = rolling_polyfit(values, window, degree)
    assert np.isnan(coefs[: window - 1]).all()
    x = np.arange(-(window - 1), 1, dtype=float)
    for t in (window - 1, 40, 79):
        for s in range(3):
            expected = np.polyfit(x, values[t - window + 1: t + 1, s], degree)[::-1]
            np.testing.assert_allclose(coefs[t, s], expected, rtol=1e-7, atol=1e-7)


def test_fill_forward_carries_the_last_value_and_backfills_the_start():
    values = np.array([[np.nan, 1.0], [2.0, np.nan], [np.nan, np.nan], [5.0, 3.0]])
    filled, seen = fill_forward(values)
    assert filled.tolist() == [[2.0, 1.0], [2.0, 1.0], [2.0, 1.0], [5.0, 3.0]]
    assert seen.tolist() == np.isfinite(values).tolist()


def test_trailing_mean_is_the_mean_of_finite_values_in_the_window():
    rng = np.random.default_rng(3)
    values = rng.normal(size=(50, 2))
    values[rng.random((50, 2)) < 0.3] = np.nan
    mean, count = trailing_mean(values, 6)
    for t in range(50):
        window = values[max(0, t - 5): t + 1]
        for s in range(2):
            finite = window[:, s][np.isfinite(window[:, s])]
            assert count[t, s] == finite.size
            if finite.size:
                assert mean[t, s] == pytest.approx(finite.mean())
            else:
                assert np.isnan(mean[t, s])
