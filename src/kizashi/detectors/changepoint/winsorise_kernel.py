"""Compiled winsorising of the values that enter a singular-spectrum history.

:class:`~kizashi.detectors.changepoint.singular_spectrum.SingularSpectrumTransform`
keeps the last values of each series and builds trajectory matrices, Gram
matrices and their Krylov spaces from them. One absurd value (a ``1e308`` from a
broken exporter) would overflow those sums and leave NaN in the state that is
carried on (the Lanczos seed, the Ritz values), so every new value is first
brought within ``reach`` standard deviations of the mean of the ``span`` values
before it. The loop is sequential (each clipped value is part of the next
one's reference), per series and per step, so it is compiled; without numba it
runs as plain Python and gives the same numbers.
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import njit

__all__ = ["winsorise_block"]


@njit(cache=True, error_model="numpy")
def winsorise_block(history: np.ndarray, block: np.ndarray, count: np.ndarray, span: int,
                    reach: float, relative: float, absolute: float, guard: float) -> None:
    """Clip each new value of ``block`` (series, time) in place.

    ``history`` (series, ≥ ``span``) ends with the values before the block, of
    which ``count`` per series were observed. Once a series has ``span`` values
    before a new one, that value is clipped to ``mean ± reach · σ`` of those
    ``span`` values (the already clipped ones), with σ at least
    ``max(absolute, relative · |mean|)``; every value is clipped to ±``guard``.
    """
    n_series, n_time = block.shape
    length = history.shape[1]
    for s in range(n_series):
        for i in range(n_time):
            x = min(max(block[s, i], -guard), guard)
            if count[s] + i >= span:
                total = 0.0
                for j in range(i - span, i):
                    total += history[s, length + j] if j < 0 else block[s, j]
                mean = total / span
                square = 0.0
                for j in range(i - span, i):
                    d = (history[s, length + j] if j < 0 else block[s, j]) - mean
                    square += d * d
                sigma = max(math.sqrt(square / span), absolute, relative * abs(mean))
                x = min(max(x, mean - reach * sigma), mean + reach * sigma)
            block[s, i] = x
