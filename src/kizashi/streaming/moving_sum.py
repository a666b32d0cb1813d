"""Sum and mean of the last ``size`` values of many series, in time order."""

from __future__ import annotations

import numpy as np

from kizashi.state import State

__all__ = ["MovingSum"]


class MovingSum:
    """The last ``size`` accepted values of each series, oldest first.

    Sums are taken oldest → newest in one fixed order, so :meth:`push` row by
    row and :meth:`run` on a block give bit-identical results. Empty slots hold
    0 and do not change a sum.

    Examples
    --------
    >>> window = MovingSum(3)
    >>> state = window.init(2)
    >>> for row in ([1.0, 10.0], [2.0, np.nan], [3.0, 30.0], [4.0, 40.0]):
    ...     total = window.push(state, np.array(row), ~np.isnan(np.array(row)))
    >>> total.tolist(), state["count"].tolist()
    ([9.0, 80.0], [3, 3])
    """

    def __init__(self, size: int):
        if int(size) < 1:
            raise ValueError(f"moving window size must be at least 1, got {size}")
        self.size = int(size)

    def init(self, n_series: int) -> State:
        return {
            "values": np.zeros((self.size, n_series)),
            "count": np.zeros(n_series, dtype=np.int64),
        }

    @staticmethod
    def _sum(rows: np.ndarray) -> np.ndarray:
        total = rows[0].copy()
        for i in range(1, rows.shape[0]):
            total = total + rows[i]
        return total

    def push(self, state: State, x: np.ndarray, accept: np.ndarray) -> np.ndarray:
        """Add ``x`` where ``accept``; return the sums of the windows (after adding)."""
        shifted = np.concatenate([state["values"][1:], np.where(accept, x, 0.0)[None]])
        state["values"] = np.where(accept, shifted, state["values"])
        state["count"] = np.minimum(state["count"] + accept, self.size)
        return self._sum(state["values"])

    def run(self, state: State, block: np.ndarray) -> np.ndarray:
        """Add a block ``(time, series)`` of values (all accepted); the sums after each."""
        n_time = block.shape[0]
        if n_time == 0:
            return np.zeros_like(block)
        extended = np.concatenate([state["values"], block], axis=0)
        total = extended[1: 1 + n_time].copy()
        for i in range(1, self.size):
            total = total + extended[1 + i: 1 + i + n_time]
        state["values"] = extended[-self.size:].copy()
        state["count"] = np.minimum(state["count"] + n_time, self.size)
        return total
