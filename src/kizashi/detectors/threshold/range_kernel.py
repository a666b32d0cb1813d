"""The range rule's step, compiled: one pass over a ``(time, series)`` block.

Same arithmetic as :class:`~kizashi.detectors.threshold.range_rule.RangeRule`'s
numpy step (Numenta's rule, the forgetting envelope and the growth limit), so
single steps and blocks agree bit for bit.

Examples
--------
>>> values = np.array([[0.0], [10.0], [10.4], [11.0], [-0.6], [5.0]])
>>> low, high = np.full(1, np.nan), np.full(1, np.nan)
>>> count, out = np.zeros(1, np.int64), np.empty((6, 1))
>>> range_block(values, out, low, high, count, 0.05, 1.0, 0, np.nan)
>>> out[:, 0].tolist()
[0.0, 0.0, 0.0, 1.0, 1.0, 0.0]
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import njit

__all__ = ["range_block"]


@njit(cache=True, error_model="numpy")
def range_block(values: np.ndarray, out: np.ndarray, low: np.ndarray, high: np.ndarray,
                count: np.ndarray, tolerance: float, decay: float, min_periods: int,
                max_growth: float) -> None:
    """Score ``values`` (1 outside the range so far ± ``tolerance`` of it) and learn them.

    ``low``, ``high`` and ``count`` are updated in place; ``decay`` 1 never forgets;
    ``max_growth`` NaN means None.
    """
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            x = values[i, j]
            if math.isnan(x):
                out[i, j] = np.nan
                continue
            lo, hi = low[j], high[j]
            spread = hi - lo
            margin = spread * tolerance
            outside = spread > 0 and (x > hi + margin or x < lo - margin)
            out[i, j] = 1.0 if outside and count[j] >= min_periods else 0.0
            learned = x
            if not math.isnan(max_growth) and hi > lo:
                reach = max_growth * (hi - lo)
                if math.isfinite(reach):
                    floor, ceiling = lo - reach, hi + reach
                    learned = floor if x < floor else ceiling if x > ceiling else x
            if decay == 1.0:
                low[j] = learned if math.isnan(lo) or learned < lo else lo
                high[j] = learned if math.isnan(hi) or learned > hi else hi
            else:
                high[j] = learned if not (learned < hi) else learned + decay * (hi - learned)
                low[j] = learned if not (learned > lo) else learned + decay * (lo - learned)
            count[j] += 1
