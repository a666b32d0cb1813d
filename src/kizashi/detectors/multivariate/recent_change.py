"""How far each metric's recent behaviour is from its own behaviour a while ago.

A metric can stay well inside the range it had in training and still be the
cause: it was quiet the day before and now jumps about three times as much
(SMD machine-1-7's long segment: six labelled metrics whose step-to-step
changes triple against the day before, all within their noisy training
range). Against the training rows alone they look normal; against the metric's
own recent past they stand out.

For each row ``t`` and metric ``j`` the *baseline* is the ``baseline`` rows
ending at row ``t − lag`` (by default the day that ended a day ago, in
one-minute steps: an incident younger than ``lag`` is not in its own baseline).
Two scale-free signals per trailing window ``w``:

* **change ratio**: ``log((mean_w |Δx| + ε_j) / (mean_baseline |Δx| + ε_j))``
  — the metric moves more (or less) from step to step than it did;
* **level offset**: ``|mean_w x(t) − mean_w x(t − lag)| / (sd_baseline x + ε'_j)``
  — its level left where it sat at the same time the day before (a daily
  cycle cancels), in units of its spread over the baseline.

``ε_j`` and ``ε'_j`` are ``eps`` times the metric's training spread (of its
changes, of its values), so a metric flat in both periods has ratio 0.

>>> x = np.r_[np.zeros(60), np.tile([0.0, 1.0], 10)][:, None]   # flat, then jumping
>>> signals = recent_signals(x, 0, lag=20, baseline=20, windows=(4,),
...                          unit_change=np.ones(1), unit_level=np.ones(1), eps=0.05)
>>> round(float(signals[0][-1, 0]), 3), round(float(signals[0][30, 0]), 3)  # log(1.05/0.05)
(3.045, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kizashi.detectors.multivariate.trailing import trailing_means

__all__ = ["lagged_means", "recent_signals"]


def lagged_means(signal: np.ndarray, start: int, window: int, lag: int) -> np.ndarray:
    """For rows ``t = start..``, the mean of the ``window`` rows ending at row ``t − lag``.

    Rows whose baseline reaches before the first row use what there is (the
    first row's value when none).

    >>> lagged_means(np.arange(10.0)[:, None], 6, window=3, lag=2)[:, 0].tolist()
    [3.0, 4.0, 5.0, 6.0]
    """
    means = trailing_means(signal, window)
    rows = np.clip(np.arange(start, signal.shape[0]) - int(lag), 0, None)
    return means[rows]


def recent_signals(values: np.ndarray, start: int, lag: int, baseline: int,
                   windows: Sequence[int], unit_change: np.ndarray, unit_level: np.ndarray,
                   eps: float) -> list[np.ndarray]:
    """The change ratios, then the level offsets, one per window, for rows ``start..``.

    ``values`` holds the rows before ``start`` that the baselines read, then
    the rows to judge; ``unit_change`` and ``unit_level`` are the metrics'
    training spreads of their changes and values (positive).
    """
    values = np.asarray(values, dtype=np.float64)
    change = np.abs(np.diff(values, axis=0, prepend=values[:1]))
    floor_change = eps * unit_change
    before_change = lagged_means(change, start, baseline, lag) + floor_change
    out = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for window in windows:
            recent = trailing_means(change, window)[start:] + floor_change
            out.append(np.log(recent / before_change))
        mean = lagged_means(values, start, baseline, lag)
        spread = np.sqrt(np.maximum(lagged_means(values ** 2, start, baseline, lag) - mean ** 2,
                                    0.0)) + eps * unit_level
        for window in windows:
            then = lagged_means(values, start, window, lag)  # the same window, lag rows before
            out.append(np.abs(trailing_means(values, window)[start:] - then) / spread)
    return out
