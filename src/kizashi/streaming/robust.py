"""Arithmetic that one wild value cannot break: bounded scores and scale-relative floors.

Telemetry sometimes carries an absurd value (an exporter's ``1e308`` sentinel, a
wrapped counter). Such a value is an anomaly to score, not a new scale to learn:
detectors score the raw value but learn from it only after clipping it to a robust
range of their own (``clip`` parameters), and the helpers here keep the arithmetic
around that finite.

Examples
--------
>>> bounded(np.array([2.0, np.inf, -np.inf, np.nan])).tolist()
[2.0, 1e+300, -1e+300, nan]
>>> ratio(np.array([1e308]), np.array([1e-3])).tolist()
[1e+300]
>>> spread_floor(np.array([100.0, 0.0, np.nan]), None).tolist()
[0.1, 1e-09, 1e-09]
>>> spread_floor(np.array([100.0, 0.0]), 0.5).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

import numpy as np

__all__ = ["ABSOLUTE_FLOOR", "FLOAT_MAX", "MAX_SCORE", "RELATIVE_FLOOR", "bounded", "ratio",
           "spread_floor"]

#: The largest float64: variances and spreads are capped here instead of overflowing.
FLOAT_MAX = float(np.finfo(np.float64).max)
#: Scores are kept within ±MAX_SCORE, so that sums of many of them stay finite.
MAX_SCORE = 1e300
#: Default spread floor, relative to the level of a series (:func:`spread_floor`).
RELATIVE_FLOOR = 1e-3
#: The smallest spread floor, in the data's units (:func:`spread_floor`).
ABSOLUTE_FLOOR = 1e-9


def bounded(score: np.ndarray) -> np.ndarray:
    """``score`` clipped to ±:data:`MAX_SCORE` (±Inf becomes a large finite score; NaN stays)."""
    return np.minimum(np.maximum(score, -MAX_SCORE), MAX_SCORE)


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` for positive denominators, bounded like :func:`bounded`
    where it would overflow."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return bounded(numerator / denominator)


def spread_floor(level: np.ndarray, minimum: float | None) -> np.ndarray:
    """The smallest spread (σ, band width) a detector divides by, per series.

    With ``minimum=None`` the floor is relative to the series' own ``level``:
    ``max(ABSOLUTE_FLOOR, RELATIVE_FLOOR · |level|)``, so that on a perfectly flat
    series at 100 a change of 0.1 counts as one spread while a flat series at 0
    keeps a tiny floor. An explicit ``minimum`` is used as given (with the tiny
    ``1e-9 · (1 + |level|)`` floor that keeps a division finite). A NaN level (an
    empty window) gives ``ABSOLUTE_FLOOR`` (or ``minimum``).
    """
    magnitude = np.abs(level)
    if minimum is None:  # fmax: a NaN level gives the other operand
        return np.fmax(RELATIVE_FLOOR * magnitude, ABSOLUTE_FLOOR)
    return np.fmax(ABSOLUTE_FLOOR * (1.0 + magnitude), float(minimum))
