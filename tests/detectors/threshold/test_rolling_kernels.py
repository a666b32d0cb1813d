"""The compiled rolling kernels against numpy's windows, computed independently.

The reference takes every window of the last ``window`` *observed* values
(missing values skipped) with ``sliding_window_view`` and computes the mean, σ
and quantiles directly, so the carried moments (with their periodic exact
recomputation) and the kept-sorted windows are checked over long series,
far-off levels and gaps.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from kizashi.detectors.registry import create
from kizashi.streaming.robust import spread_floor


def observed_windows(series: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """For each observed value, the window of up to ``window`` observed values before it
    (NaN-padded on the left), and the positions of the observed values."""
    where = np.flatnonzero(~np.isnan(series))
    kept = np.r_[np.full(window, np.nan), series[where]]
    return sliding_window_view(kept, window)[:-1], where


def sigma_reference(series: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    windows, where = observed_windows(series, window)
    count = (~np.isnan(windows)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(windows, axis=1)
        std = np.nanstd(windows, axis=1)
    sigma = np.maximum(std, spread_floor(mean, None))
    x = series[where]
    out = np.full(series.shape, np.nan)
    out[where] = np.where(count >= min_periods, np.abs(x - mean) / sigma, 0.0)
    return out


def quantile_reference(series: np.ndarray, window: int, low: float, high: float,
                       min_periods: int) -> np.ndarray:
    windows, where = observed_windows(series, window)
    count = (~np.isnan(windows)).sum(axis=1)
    with np.errstate(invalid="ignore"):
        q_low, q_high = np.nanquantile(windows, [low, high], axis=1)
    width = np.maximum(q_high - q_low, spread_floor(q_low / 2 + q_high / 2, None))
    x = series[where]
    beyond = np.maximum(np.maximum(x - q_high, q_low - x), 0.0)
    out = np.full(series.shape, np.nan)
    out[where] = np.where(count >= min_periods, beyond / width, 0.0)
    return out


def series_family(seed: int) -> list[np.ndarray]:
    """Long noisy series at levels near 0 and far off (1e6), with gaps and steps."""
    rng = np.random.default_rng(seed)
    n = 6000
    base = np.sin(np.arange(n) / 17.0) + rng.normal(0, 0.5, n)
    gappy = base.copy()
    gappy[rng.random(n) < 0.1] = np.nan
    gappy[3000:3100] = np.nan
    stepped = base + 40.0 * (np.arange(n) > 4000)
    return [base, 1e6 + base, gappy, stepped, np.round(base)]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("window", [7, 50])
def test_sigma_kernel_matches_direct_windows(seed, window):
    for series in series_family(seed):
        detector = create("threshold", window=window, min_periods=3, clip=None)
        got = detector.score(series)
        expected = sigma_reference(series, window, 3)
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9, equal_nan=True)
        # in blocks and in steps: one code path, the same bits
        blocks = create("threshold", window=window, min_periods=3, clip=None)
        cut = np.r_[blocks.update_many(series[:1234]), blocks.update_many(series[1234:])]
        np.testing.assert_array_equal(cut, got)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("window", "low", "high"), [(9, 0.1, 0.9), (40, 0.01, 0.99),
                                                     (25, 0.0, 1.0)])
def test_quantile_kernel_matches_direct_windows(seed, window, low, high):
    for series in series_family(seed):
        detector = create("quantile_threshold", window=window, low=low, high=high,
                          min_periods=3)
        got = detector.score(series)
        expected = quantile_reference(series, window, low, high, 3)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_sigma_state_saved_without_moments_resumes_exactly():
    """A state saved before the moments were part of it is completed from its window."""
    rng = np.random.default_rng(5)
    values = rng.normal(0, 1, (400, 2))
    detector = create("threshold", window=30, min_periods=5)
    detector.update_many(values[:250])
    saved = detector.state_dict()
    expected = detector.score(values[250:])
    del saved["state"]["moments"]
    resumed = create("threshold", window=30, min_periods=5).load_state_dict(saved)
    np.testing.assert_allclose(resumed.score(values[250:]), expected, rtol=1e-9)


def test_sigma_clip_learns_a_wild_value_as_clip_sigmas():
    """With ``clip``, one wild value enters the window as mean + clip·σ (hand-computed)."""
    values = np.r_[np.tile([0.0, 2.0], 10), 1e6]  # mean 1, σ 1: learned as 1 + 3·1 = 4
    detector = create("threshold", window=21, min_periods=5, clip=3.0)
    detector.update_many(values)
    window = np.r_[np.tile([0.0, 2.0], 10), 4.0]
    assert detector.score([1.0])[0] == pytest.approx(abs(1.0 - window.mean()) / window.std())
