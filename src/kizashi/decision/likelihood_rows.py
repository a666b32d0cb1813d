"""The likelihood's rows compiled: moving averages, the Gaussian in force, the z-scores.

:meth:`kizashi.decision.likelihood.AnomalyLikelihood.transform` scores a block of
rows. Per series, in time order, :func:`block_z` takes each row's moving average
(the last ``width - 1`` learned scores summed oldest first from 0, then the
row's score, divided by how many there are), picks the Gaussian in force (the
last fit at or below the row's learned count, else the state's), and writes the
reference's z-score of the average and of the previous learned average under
that Gaussian, with the arithmetic of
:meth:`~kizashi.decision.likelihood.AnomalyLikelihood._step` (the same
operations in the same order, so the same numbers). The Gaussian tail
(``scipy.special.erfc``), the red-zone filter and the log scale then run over
the whole block in numpy, as in the step. This replaces some thirty full-size
numpy passes by one loop.

Examples
--------
>>> x = np.array([[1.0], [2.0], [3.0], [np.nan]])
>>> learned = ~np.isnan(x)
>>> z, z_last = np.empty((4, 1)), np.empty((4, 1))
>>> warm, last = np.empty((4, 1), dtype=np.bool_), np.full(1, np.nan)
>>> fit = np.array([10.0])  # the fit due once 3 scores are learned
>>> block_z(x, learned, np.zeros((5, 1)), np.zeros(1, np.int64), 2, 5, 3, 100, True,
...         np.array([2.0]), np.array([0.5]), fit, fit, np.zeros(1, np.int64),
...         np.zeros(1, np.int64), z, z_last, warm, last)
>>> z[:, 0].tolist(), warm[:, 0].tolist(), last.tolist()  # averages 1, 1.5, 2.5
([2.0, 1.0, 1.0, nan], [False, False, False, True], [2.5])
"""

from __future__ import annotations

import numpy as np

from kizashi.detectors.changepoint.jit import njit

__all__ = ["block_z", "pack_learned"]


@njit(cache=True, error_model="numpy")
def _z(average: float, mean: float, std: float, two_sided: bool) -> float:
    """The z-score ``_tail`` takes: a low average mirrored when two-sided, 0 at the mean."""
    x = 2.0 * mean - average if two_sided and average < mean else average
    diff = x - mean
    return 0.0 if diff == 0.0 else diff / std


@njit(cache=True, error_model="numpy")
def block_z(x: np.ndarray, learned: np.ndarray, history: np.ndarray, count0: np.ndarray,
            width: int, window: int, warmup: int, period: int, two_sided: bool,
            state_mean: np.ndarray, state_std: np.ndarray, fit_mean: np.ndarray,
            fit_std: np.ndarray, offsets: np.ndarray, due0: np.ndarray, z: np.ndarray,
            z_last: np.ndarray, warm: np.ndarray, last_average: np.ndarray) -> None:
    """Each row's z-score ``z``, the previous learned average's ``z_last`` under the same
    Gaussian, and ``warm`` (the series had learned ``warmup`` scores before the row), for
    ``x`` ``(time, series)``; ``learned`` marks the scores learned (not NaN, learn).

    ``history``, ``count0``, ``state_mean``, ``state_std`` and ``last_average`` are the
    state before the block (``last_average`` is updated in place); the block's fits are
    ``fit_mean[offsets[j] + k]`` for series ``j``'s ``k``-th, ``due0`` the fits each
    series had before.
    """
    n_rows, n = x.shape
    # a series' learned scores in order, the width - 1 before the block first (0 where
    # there were none: _step adds 0.0 for them too)
    sequence = np.empty(width - 1 + n_rows)
    for j in range(n):
        count = count0[j]
        for back in range(width - 1, 0, -1):
            sequence[width - 1 - back] = \
                history[(count - back) % window, j] if count >= back else 0.0
        k = 0  # scores learned in this block so far
        last = last_average[j]
        for i in range(n_rows):
            total = 0.0
            for at in range(k, k + width - 1):
                total += sequence[at]
            average = (total + x[i, j]) / float(min(count + 1, width))
            fitted = (1 + count // period - warmup // period if count >= warmup else 0) \
                - due0[j]
            if fitted >= 1:
                mean, std = fit_mean[offsets[j] + fitted - 1], fit_std[offsets[j] + fitted - 1]
            else:
                mean, std = state_mean[j], state_std[j]
            z[i, j] = _z(average, mean, std, two_sided)
            z_last[i, j] = _z(last, mean, std, two_sided)
            warm[i, j] = count >= warmup
            if learned[i, j]:
                sequence[width - 1 + k] = x[i, j]
                k += 1
                last = average
                count += 1
        last_average[j] = last


@njit(cache=True, error_model="numpy")
def pack_learned(x: np.ndarray, learned: np.ndarray, values: np.ndarray,
                 n_learned: np.ndarray) -> None:
    """Each column's learned scores moved to its top, in order (``values``, zero below),
    and how many there are (``n_learned``)."""
    n_rows, n = x.shape
    for j in range(n):
        k = 0
        for i in range(n_rows):
            if learned[i, j]:
                values[k, j] = x[i, j]
                k += 1
        for i in range(k, n_rows):
            values[i, j] = 0.0
        n_learned[j] = k
