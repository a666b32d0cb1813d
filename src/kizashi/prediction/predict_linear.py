"""Prometheus' ``predict_linear(metric[range], t) >= limit`` rule, evaluated at every step.

Prometheus (``promql/functions.go``: ``funcPredictLinear`` → ``linearRegression``)
fits a least-squares line to the samples of the range ``(now − range, now]``
with time measured from the evaluation time, and returns ``intercept +
slope·t``: the line's value ``t`` seconds after *now* (not after the last
sample). Fewer than two samples give no result; a constant series gives its
value. This module evaluates the same at each timestamp of a frame, skipping
missing samples as Prometheus has none there.

>>> import numpy as np
>>> seconds = np.arange(0, 7 * 3600 + 1, 300.0)
>>> line = 50 + seconds / 3600  # +1 per hour
>>> out = predict_linear(seconds, line[:, None], range_seconds=6 * 3600, ahead_seconds=6 * 3600)
>>> round(float(out[-1, 0]), 6)  # value at 7 h is 57; 6 h later 63
63.0
>>> bool(np.isnan(out[0, 0]))  # one sample: no result
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["predict_linear"]


def predict_linear(seconds: np.ndarray, values: np.ndarray, range_seconds: float,
                   ahead_seconds: float) -> np.ndarray:
    """``predict_linear(values[range], ahead)`` at every timestamp ``seconds`` ``(T,)``;
    ``values`` ``(T, S)`` with NaN for missing samples. NaN where a window has < 2 samples."""
    t = np.asarray(seconds, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    x = (t - t[0])[:, None]  # seconds from the first sample, for precision
    seen = np.isfinite(y)
    yv = np.where(seen, y, 0.0)
    xv = np.where(seen, x, 0.0)

    def windowed(a: np.ndarray) -> np.ndarray:
        total = np.vstack([np.zeros((1, a.shape[1])), np.cumsum(a, axis=0)])
        start = np.searchsorted(t, t - range_seconds, side="right")  # (now − range, now]
        return total[1:] - total[start]

    n = windowed(seen.astype(np.float64))
    sx, sy = windowed(xv), windowed(yv)
    sxy, sxx = windowed(xv * yv), windowed(xv * xv)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_x, mean_y = sx / n, sy / n
        var_x = sxx - sx * mean_x
        slope = (sxy - sx * mean_y) / var_x
        slope = np.where(var_x > 0, slope, 0.0)
        # the line through the means, read at now + ahead (x measured from the first sample)
        out = mean_y + slope * (x + ahead_seconds - mean_x)
    out[n < 2] = np.nan
    return out
