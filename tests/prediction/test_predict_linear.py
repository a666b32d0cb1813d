"""Prometheus' predict_linear, checked against numpy's least squares on each range."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.prediction.predict_linear import predict_linear


def test_matches_a_least_squares_line_read_at_now_plus_ahead_with_gaps():
    rng = np.random.default_rng(0)
    seconds = np.arange(0, 20 * 3600, 300.0)
    values = 40 + np.cumsum(rng.normal(0, 0.5, (seconds.size, 2)), axis=0)
    values[rng.random(values.shape) < 0.2] = np.nan
    out = predict_linear(seconds, values, 6 * 3600, 3600)
    for i in (5, 80, 150, seconds.size - 1):
        now = seconds[i]
        for s in range(2):
            inside = (seconds > now - 6 * 3600) & (seconds <= now) & np.isfinite(values[:, s])
            slope, intercept = np.polyfit(seconds[inside] - now, values[inside, s], 1)
            assert out[i, s] == pytest.approx(intercept + slope * 3600, rel=1e-9)


def test_the_range_is_open_on_the_left():
    # samples at 0 and 3600 s; at now = 3600 a 1 h range holds only the sample at 3600
    out = predict_linear(np.array([0.0, 3600.0]), np.array([[0.0], [10.0]]), 3600, 600)
    assert np.isnan(out[1, 0])
    wider = predict_linear(np.array([0.0, 3600.0]), np.array([[0.0], [10.0]]), 3601, 1800)
    assert wider[1, 0] == pytest.approx(15.0)  # slope 10/h, half an hour after now


def test_a_constant_series_predicts_its_value():
    seconds = np.arange(0, 7200, 60.0)
    out = predict_linear(seconds, np.full((seconds.size, 1), 7.5), 3600, 3600)
    assert np.all(out[1:, 0] == 7.5)
