"""Calibration: a margin ``z`` → the probability that the event happens.

The forecaster's margin (:mod:`kizashi.prediction.limit_forecaster`) orders
steps by how likely a crossing is, but not on a probability scale. An
isotonic (monotone, piecewise-linear) map from margins to observed
frequencies turns it into one: margins are binned, each bin's frequency of
the outcome is made non-decreasing by isotonic regression
(:func:`scipy.optimize.isotonic_regression`, weighted by the bin sizes), and
the map interpolates linearly between the bins' mean margins (flat beyond).

The constants below were fitted by ``python benchmarks/prediction.py --fit`` on
scenario seeds 100–119 (:func:`kizashi.data.precursors.generate_precursors`),
never on the seeds the benchmark reports (0–9); the outcome is "the series is
at or over its limit (time to limit), or outside its normal band (anomaly
ahead), now or at some step within the horizon".

>>> calibration = IsotonicCalibration(knots=(-1.0, 0.0, 1.0), probabilities=(0.0, 0.2, 0.9))
>>> calibration.probability(np.array([-5.0, 0.5, np.nan, 7.0])).round(3).tolist()
[0.0, 0.55, nan, 0.9]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ANOMALY_AHEAD", "BIN_EDGES", "TIME_TO_LIMIT", "IsotonicCalibration"]

#: Margin bins of the fit (the margins that matter lie between −3 and 3).
BIN_EDGES = (-np.inf, -10.0, -5.0, -3.0, -2.0, -1.5, -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5,
             0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, np.inf)


@dataclass(frozen=True)
class IsotonicCalibration:
    """``probability(z)``: linear interpolation of ``probabilities`` at margins ``knots``
    (both non-decreasing), flat beyond the ends; NaN stays NaN."""

    knots: tuple[float, ...]
    probabilities: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.knots) != len(self.probabilities) or len(self.knots) < 2:
            raise ValueError("need as many probabilities as knots, at least two")
        if np.any(np.diff(self.knots) <= 0) or np.any(np.diff(self.probabilities) < 0):
            raise ValueError("knots must increase and probabilities must not decrease")

    def probability(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        out = np.interp(np.nan_to_num(z, nan=0.0), self.knots, self.probabilities)
        return np.where(np.isnan(z), np.nan, out)

    @classmethod
    def fit(cls, z: np.ndarray, outcome: np.ndarray,
            edges: tuple[float, ...] = BIN_EDGES) -> IsotonicCalibration:
        """The map from finite margins ``z`` and their 0/1 ``outcome`` (see the module docs)."""
        from scipy.optimize import isotonic_regression

        z = np.asarray(z, dtype=np.float64).ravel()
        y = np.asarray(outcome, dtype=np.float64).ravel()
        keep = np.isfinite(z)
        z, y = z[keep], y[keep]
        if z.size == 0 or y.min() == y.max():
            raise ValueError("calibration needs finite margins with both outcomes")
        which = np.digitize(z, edges[1:-1])
        counts = np.bincount(which, minlength=len(edges) - 1).astype(np.float64)
        filled = counts > 0
        mean_z = np.bincount(which, weights=z, minlength=len(edges) - 1)[filled] / counts[filled]
        freq = np.bincount(which, weights=y, minlength=len(edges) - 1)[filled] / counts[filled]
        monotone = isotonic_regression(freq, weights=counts[filled], increasing=True).x
        return cls(tuple(float(v) for v in mean_z), tuple(float(v) for v in monotone))


#: Time to limit: P(the series is at its limit now or within the horizon | margin).
TIME_TO_LIMIT = IsotonicCalibration(
    knots=(-68.12, -7.274, -3.964, -2.488, -1.752, -1.252, -0.8867, -0.6346, -0.3846, -0.1332,
        0.1203, 0.3748, 0.6225, 0.8765, 1.25, 1.742, 2.438, 3.696, 7.456, 17.43),
    probabilities=(0.0001229, 0.000135, 0.0003713, 0.0007541, 0.001532, 0.003251, 0.005782,
        0.01663, 0.03543, 0.0761, 0.1764, 0.3053, 0.3827, 0.4637, 0.5914, 0.6967, 0.8287, 0.8287,
        0.8287, 0.8329))
#: Anomaly ahead: P(the series is outside its normal envelope now or within the horizon | margin).
#: The envelope is the band the engine judges each step against (protected steps not learned).
ANOMALY_AHEAD = IsotonicCalibration(
    knots=(-21.71, -7.165, -3.801, -2.522, -1.754, -1.243, -0.8748, -0.626, -0.3757, -0.1104,
        0.116, 0.3726, 0.613, 0.8614, 1.231, 1.738, 2.466, 3.883, 7.382, 30.05),
    probabilities=(0.004502, 0.004502, 0.01437, 0.1158, 0.1158, 0.1158, 0.1158, 0.1158, 0.1158,
        0.1158, 0.1158, 0.1158, 0.1397, 0.1876, 0.3237, 0.4636, 0.6131, 0.72, 0.9714, 0.9925))
