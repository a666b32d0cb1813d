"""Trailing means per column that skip missing values (the windows of the causes' signals)."""

from __future__ import annotations

import numpy as np

from kizashi.streaming.magnitudes import magnitude_factors

__all__ = ["trailing_max", "trailing_means"]


def trailing_means(signal: np.ndarray, window: int) -> np.ndarray:
    """Per column, the mean of the last ``window`` observed values up to each row.

    NaN values are left out (a row whose window holds none is NaN).

    >>> trailing_means(np.array([[1.0], [3.0], [np.nan], [5.0]]), 2)[:, 0].tolist()
    [1.0, 2.0, 3.0, 5.0]
    """
    signal = np.asarray(signal, dtype=np.float64)
    factor = magnitude_factors(signal)  # 1e300: summed at an ordinary magnitude, exactly
    signal = signal * factor
    seen = ~np.isnan(signal)
    zero = np.zeros((1, signal.shape[1]))
    sums = np.concatenate([zero, np.cumsum(np.where(seen, signal, 0.0), axis=0)])
    counts = np.concatenate([zero, np.cumsum(seen, axis=0, dtype=np.float64)])
    end = np.arange(1, signal.shape[0] + 1)
    start = np.maximum(end - int(window), 0)
    total, count = sums[end] - sums[start], counts[end] - counts[start]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return np.where(count > 0, total / count, np.nan) / factor


def trailing_max(signal: np.ndarray, window: int) -> np.ndarray:
    """Per column, the largest value of the last ``window`` rows up to each row.

    NaN values are left out (a row whose window holds none is NaN). Built by
    doubling: the maximum over ``2k`` rows is that of two overlapping ``k``-row
    maxima, so it takes ``log2(window)`` passes.

    >>> trailing_max(np.array([[1.0], [3.0], [np.nan], [2.0], [0.0]]), 2)[:, 0].tolist()
    [1.0, 3.0, 3.0, 2.0, 2.0]
    """
    signal = np.asarray(signal, dtype=np.float64)
    window = int(window)
    if window < 1:
        raise ValueError(f"trailing_max: window must be >= 1, got {window!r}")
    span, best = 1, signal.copy()
    while 2 * span <= window:  # best[i]: max of rows i - 2·span + 1 .. i
        best[span:] = np.fmax(best[span:], best[:-span].copy())
        span *= 2
    rest = window - span  # max over the window: two overlapping span-row maxima
    if rest > 0:
        best[rest:] = np.fmax(best[rest:], best[:-rest].copy())
    return best
