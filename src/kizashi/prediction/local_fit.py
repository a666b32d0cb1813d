"""Rolling least-squares polynomial fits, as FIR filters over time (vectorised over series).

A polynomial of degree ``d`` fitted by least squares to the last ``window``
values of a series has coefficients that are fixed linear combinations of
those values, so each coefficient over all steps is one FIR filter
(:func:`scipy.signal.lfilter`) down the time axis: exact, streaming-honest
(row ``t`` uses rows ``t − window + 1 … t`` only) and fast for many series.

Coefficients are in *steps* relative to the window's last row: ``c0`` is the
fitted value at ``t``, ``c1`` the slope per step, ``c2`` the curvature term, so
the extrapolation ``h`` steps ahead is ``c0 + c1·h + c2·h²``.

>>> import numpy as np
>>> line = 3.0 + 0.5 * np.arange(10.0)
>>> coefs = rolling_polyfit(line, window=4, degree=1)
>>> coefs[-1, 0].round(6).tolist()
[7.5, 0.5]
>>> bool(np.isnan(coefs[2, 0, 0]))
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["fill_forward", "polyfit_filters", "recent_mean", "rolling_polyfit", "trailing_mean"]


def polyfit_filters(window: int, degree: int) -> np.ndarray:
    """``(degree + 1, window)`` filter taps: coefficient ``k`` at ``t`` is
    ``Σ_j taps[k, j] · y[t − j]``.

    >>> polyfit_filters(3, 0).round(4).tolist()
    [[0.3333, 0.3333, 0.3333]]
    """
    if window < degree + 1:
        raise ValueError(f"a degree-{degree} fit needs a window of at least {degree + 1}")
    lags = np.arange(window, dtype=np.float64)  # lag j: x = −j steps
    design = np.vander(-lags, degree + 1, increasing=True)
    return np.linalg.pinv(design)


def rolling_polyfit(values: np.ndarray, window: int, degree: int) -> np.ndarray:
    """Coefficients ``(T, S, degree + 1)`` of the fit over each trailing window.

    Rows before the first full window are NaN. ``values`` must be finite
    (see :func:`fill_forward`); a 1-D input is one series.
    """
    from scipy.signal import lfilter

    y = np.asarray(values, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    taps = polyfit_filters(window, degree)
    out = np.empty((*y.shape, degree + 1))
    for k in range(degree + 1):
        out[..., k] = lfilter(taps[k], [1.0], y, axis=0)
    out[: window - 1] = np.nan
    return out


def fill_forward(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` with each NaN replaced by the last observed value of its series
    (leading NaNs by the first one), and the mask of observed values.

    A series never observed stays 0 (its mask is all False).

    >>> filled, seen = fill_forward(np.array([[np.nan], [1.0], [np.nan], [4.0]]))
    >>> filled[:, 0].tolist(), seen[:, 0].tolist()
    ([1.0, 1.0, 1.0, 4.0], [False, True, False, True])
    """
    y = np.asarray(values, dtype=np.float64)
    seen = np.isfinite(y)
    rows = np.where(seen, np.arange(y.shape[0])[:, None], -1)
    last = np.maximum.accumulate(rows, axis=0)
    first = np.argmax(seen, axis=0)
    last = np.where(last < 0, first[None, :], last)
    filled = np.take_along_axis(np.where(seen, y, 0.0), last, axis=0)
    return filled, seen


def trailing_mean(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the finite values among the last ``window`` rows (inclusive), and their count.

    >>> mean, count = trailing_mean(np.array([[1.0], [np.nan], [3.0], [5.0]]), 2)
    >>> mean[:, 0].tolist(), count[:, 0].tolist()
    ([1.0, 1.0, 3.0, 4.0], [1.0, 1.0, 1.0, 2.0])
    """
    finite = np.isfinite(values)
    total = np.cumsum(np.where(finite, values, 0.0), axis=0)
    count = np.cumsum(finite, axis=0).astype(np.float64)
    total[window:] = total[window:] - total[:-window]
    count[window:] = count[window:] - count[:-window]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return mean, count


def recent_mean(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the finite values among the last ``window`` rows (inclusive), and their
    count, summed lag by lag (lag 0 first) rather than by a running sum: for short windows,
    so that a streaming sum over the same ring of values (in the same order) gives the
    same bits.

    >>> mean, count = recent_mean(np.array([[1.0], [np.nan], [3.0], [5.0]]), 2)
    >>> mean[:, 0].tolist(), count[:, 0].tolist()
    ([1.0, 1.0, 3.0, 4.0], [1.0, 1.0, 1.0, 2.0])
    """
    values = np.asarray(values, dtype=np.float64)
    total = np.zeros(values.shape)
    count = np.zeros(values.shape)
    for lag in range(min(window, values.shape[0])):
        shifted = values[: values.shape[0] - lag]
        finite = np.isfinite(shifted)
        total[lag:] += np.where(finite, shifted, 0.0)
        count[lag:] += finite
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return mean, count
