"""Trajectory (Hankel) matrices of the latest values of many series."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["HankelHistory"]


class HankelHistory:
    """The last ``length`` observed values of each series, oldest first.

    A singular-spectrum method looks at a *segment* of ``window + n_columns −
    1`` consecutive values as a trajectory matrix whose ``n_columns`` columns
    are the lag vectors ``(x_{s+j}, …, x_{s+j+window−1})``. Series are on the
    first axis, so a block of steps of many series becomes one batched array.

    Examples
    --------
    >>> hankel = HankelHistory(length=5)
    >>> history = hankel.init(1)
    >>> full = hankel.extend(history, np.arange(1.0, 4.0)[None])  # 3 new values
    >>> hankel.segments(full, n_new=3, size=4)[0, -1].tolist()
    [0.0, 1.0, 2.0, 3.0]
    >>> HankelHistory.lag_vectors(np.arange(4.0)[None], window=3)[0].tolist()
    [[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]]
    """

    def __init__(self, length: int):
        self.length = int(length)

    def init(self, n_series: int) -> np.ndarray:
        return np.zeros((n_series, self.length))

    @staticmethod
    def extend(history: np.ndarray, block: np.ndarray) -> np.ndarray:
        """History followed by a block ``(series, time)`` of new values."""
        return np.concatenate([history, block], axis=1)

    def keep(self, full: np.ndarray) -> np.ndarray:
        """The new history: the last ``length`` values of ``full``."""
        return np.ascontiguousarray(full[:, full.shape[1] - self.length:])

    @staticmethod
    def segments(full: np.ndarray, n_new: int, size: int, delay: int = 0) -> np.ndarray:
        """For each of the ``n_new`` last steps, the ``size`` values ending ``delay`` steps
        before it: shape ``(series, n_new, size)`` (a copy)."""
        stop = full.shape[1] - delay
        start = stop - n_new - size + 1
        return np.ascontiguousarray(sliding_window_view(full[:, start:stop], size, axis=1))

    @staticmethod
    def lag_vectors(segments: np.ndarray, window: int) -> np.ndarray:
        """The trajectory matrices of segments, transposed: ``(..., n_columns, window)``."""
        return np.ascontiguousarray(sliding_window_view(segments, window, axis=-1))
