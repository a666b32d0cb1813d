"""A rolling window of the last ``size`` observed values of each series."""

from __future__ import annotations

import numpy as np

from kizashi.state import State
from kizashi.streaming.robust import FLOAT_MAX


def _largest(values: np.ndarray) -> np.ndarray:
    """The largest magnitude in each column (1 where a column has none)."""
    largest = np.nanmax(np.abs(np.where(np.isnan(values), 0.0, values)), axis=0)
    return np.where(largest > 0.0, largest, 1.0)


class RollingWindow:
    """The last ``size`` non-missing values of each of many series, in one array.

    Missing values (NaN) are skipped per series, so each series' window holds its
    own last ``size`` observations. Statistics are computed from the values in
    the window, excluding the empty slots of a window that is not yet full.

    Examples
    --------
    >>> window = RollingWindow(3)
    >>> state = window.init(2)
    >>> for row in ([1.0, 10.0], [2.0, np.nan], [3.0, 30.0], [4.0, 40.0]):
    ...     window.push(state, np.array(row))
    >>> window.mean(state), window.count(state)
    (array([ 3.        , 26.66666667]), array([3, 3]))
    """

    def __init__(self, size: int):
        if int(size) < 1:
            raise ValueError(f"window size must be at least 1, got {size}")
        self.size = int(size)

    def init(self, n_series: int) -> State:
        return {
            "values": np.full((self.size, n_series), np.nan),
            "position": np.zeros(n_series, dtype=np.int64),
            "count": np.zeros(n_series, dtype=np.int64),
        }

    def push(self, state: State, x: np.ndarray) -> None:
        """Add one row (NaN entries are skipped)."""
        columns = np.flatnonzero(~np.isnan(x))
        if columns.size == 0:
            return
        position = state["position"]
        state["values"][position[columns], columns] = x[columns]
        position[columns] = (position[columns] + 1) % self.size
        state["count"][columns] = np.minimum(state["count"][columns] + 1, self.size)

    @staticmethod
    def count(state: State) -> np.ndarray:
        return state["count"].copy()

    @staticmethod
    def mean(state: State) -> np.ndarray:
        """Mean of each window (NaN where a window is empty)."""
        values = state["values"]
        count = state["count"]
        with np.errstate(over="ignore", invalid="ignore"):
            total = np.where(np.isnan(values), 0.0, values).sum(axis=0)
            mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        overflowed = ~np.isfinite(total)
        if overflowed.any():  # values near the float limit: average them scaled down
            part = values[:, overflowed]
            scale = _largest(part)
            scaled = np.where(np.isnan(part), 0.0, part / scale)
            mean[overflowed] = scale * (scaled.sum(axis=0) / np.maximum(count[overflowed], 1))
        return mean

    @classmethod
    def mean_std(cls, state: State) -> tuple[np.ndarray, np.ndarray]:
        """Mean and (population) standard deviation of each window.

        Squares that would overflow are taken after scaling the deviations down,
        so a window holding a value near the float limit has a huge but finite σ
        (capped at the largest float).
        """
        values = state["values"]
        mean = cls.mean(state)
        count = np.maximum(state["count"], 1)
        with np.errstate(over="ignore", invalid="ignore"):
            deviation = np.where(np.isnan(values), 0.0, values - mean)
            std = np.sqrt((deviation * deviation).sum(axis=0) / count)
        overflowed = ~np.isfinite(std) & (state["count"] > 0)
        if overflowed.any():
            with np.errstate(over="ignore", invalid="ignore"):
                part = np.where(np.isnan(values[:, overflowed]), 0.0,
                                values[:, overflowed] / 2.0 - mean[overflowed] / 2.0)
                scale = _largest(part)
                scaled = part / scale
                std[overflowed] = np.minimum(
                    2.0 * scale * np.sqrt((scaled * scaled).sum(axis=0) / count[overflowed]),
                    FLOAT_MAX)
        return mean, np.where(state["count"] > 0, std, np.nan)

    @staticmethod
    def quantiles(state: State, qs: tuple[float, ...]) -> np.ndarray:
        """Linear-interpolated quantiles of each window, shape ``(len(qs), n_series)``."""
        ordered = np.sort(state["values"], axis=0)  # NaN (empty slots) sort last
        count = state["count"]
        columns = np.arange(ordered.shape[1])
        out = np.full((len(qs), ordered.shape[1]), np.nan)
        has = count > 0
        last = np.maximum(count - 1, 0)
        for i, q in enumerate(qs):
            position = q * last
            low = np.floor(position).astype(np.int64)
            high = np.minimum(low + 1, last)
            frac = position - low
            value = ordered[low, columns] * (1 - frac) + ordered[high, columns] * frac
            out[i] = np.where(has, value, np.nan)
        return out
