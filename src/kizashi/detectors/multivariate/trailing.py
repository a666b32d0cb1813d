"""Trailing means per column that skip missing values (the windows of the causes' signals)."""

from __future__ import annotations

import numpy as np

__all__ = ["trailing_means"]


def trailing_means(signal: np.ndarray, window: int) -> np.ndarray:
    """Per column, the mean of the last ``window`` observed values up to each row.

    NaN values are left out (a row whose window holds none is NaN).

    >>> trailing_means(np.array([[1.0], [3.0], [np.nan], [5.0]]), 2)[:, 0].tolist()
    [1.0, 2.0, 3.0, 5.0]
    """
    signal = np.asarray(signal, dtype=np.float64)
    seen = ~np.isnan(signal)
    zero = np.zeros((1, signal.shape[1]))
    sums = np.concatenate([zero, np.cumsum(np.where(seen, signal, 0.0), axis=0)])
    counts = np.concatenate([zero, np.cumsum(seen, axis=0, dtype=np.float64)])
    end = np.arange(1, signal.shape[0] + 1)
    start = np.maximum(end - int(window), 0)
    total, count = sums[end] - sums[start], counts[end] - counts[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)
