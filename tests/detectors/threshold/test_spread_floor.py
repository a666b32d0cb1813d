"""The default spread floor is relative to each series' level (issue 11, item 6).

The floor under σ (sigma and seasonal thresholds) and under the band width
(quantile threshold) is by default ``max(1e-9, 1e-3 · |level|)``
(:func:`kizashi.streaming.robust.spread_floor`). On a perfectly flat series the
spread is 0, so the floor is what a blip is measured in.
"""

from __future__ import annotations

import numpy as np
import pytest

import kizashi

BLIP = 0.16
#: The floor on a flat series at 100: max(1e-9, 1e-3 · 100) = 0.1.
FLOOR_AT_100 = 0.1
#: On a flat series at 0 only the absolute floor is left.
FLOOR_AT_0 = 1e-9
ROLLING = [("threshold", {}), ("sigma_threshold", {}), ("quantile_threshold", {})]


def flat_then(level: float, last: float, n: int = 60) -> np.ndarray:
    return np.r_[np.full(n, level), last]


@pytest.mark.parametrize("name,extra", ROLLING)
def test_a_blip_on_a_flat_series_is_measured_in_a_thousandth_of_its_level(name, extra):
    detector = kizashi.detector(name, window=50, min_periods=10, **extra)
    score = detector.score(flat_then(100.0, 100.0 + BLIP))[-1]
    # sigma: |x − mean| / max(σ = 0, floor); quantile: beyond the band [100, 100] / max(0, floor)
    assert np.isfinite(score)
    assert score == pytest.approx(BLIP / FLOOR_AT_100, rel=1e-9)  # 1.6: moderate
    assert score < 3.0  # below the sigma detector's default k


@pytest.mark.parametrize("name,extra", ROLLING)
def test_a_jump_off_a_flat_zero_series_still_scores_high(name, extra):
    detector = kizashi.detector(name, window=50, min_periods=10, **extra)
    score = detector.score(flat_then(0.0, 5.0))[-1]
    assert score == pytest.approx(5.0 / FLOOR_AT_0, rel=1e-9)  # 5e9


def seasonal_flat(level: float, last: float) -> tuple[np.ndarray, np.ndarray]:
    hours = np.arange(24 * 10)
    values = np.full(hours.size, level)
    values[-1] = last
    return values, hours * 3600.0


def test_seasonal_floor_is_relative_to_the_expected_value():
    detector = kizashi.detector("seasonal_threshold", period="1d", slot="1h")
    values, t = seasonal_flat(100.0, 100.0 + BLIP)
    assert detector.score(values, t)[-1] == pytest.approx(BLIP / FLOOR_AT_100, rel=1e-9)
    values, t = seasonal_flat(0.0, 5.0)
    assert detector.clone().score(values, t)[-1] == pytest.approx(5.0 / FLOOR_AT_0, rel=1e-9)


def test_an_explicit_floor_works_as_before():
    values = flat_then(100.0, 100.0 + BLIP)
    fixed = kizashi.detector("threshold", window=50, min_periods=10, min_std=0.5)
    assert fixed.score(values)[-1] == pytest.approx(BLIP / 0.5)
    # 0.0 is the old floorless rule: only the 1e-9 · (1 + |mean|) that keeps it finite
    none = kizashi.detector("threshold", window=50, min_periods=10, min_std=0.0)
    assert none.score(values)[-1] == pytest.approx(BLIP / (1e-9 * 101.0))
    width = kizashi.detector("quantile_threshold", window=50, min_periods=10, min_width=0.4)
    assert width.score(values)[-1] == pytest.approx(BLIP / 0.4)
    seasonal = kizashi.detector("seasonal_threshold", period="1d", slot="1h", min_std=0.32)
    assert seasonal.score(*seasonal_flat(100.0, 100.0 + BLIP))[-1] == pytest.approx(0.5)
