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
    knots=(-68.14, -7.253, -3.955, -2.504, -1.748, -1.252, -0.8865, -0.6349, -0.3834,
        -0.1332, 0.1217, 0.3768, 0.6209, 0.8774, 1.247, 1.739, 2.426, 3.72, 7.261, 17.56),
    probabilities=(0.0001979, 0.0002913, 0.0003728, 0.0009987, 0.00186, 0.002744, 0.00572,
        0.01944, 0.04481, 0.08947, 0.1902, 0.337, 0.3932, 0.4492, 0.5838, 0.6789, 0.8137,
        0.8137, 0.8137, 0.8615))
#: Anomaly ahead: P(the series is outside its normal envelope now or within the horizon | margin).
#: The envelope is the band the engine judges each step against (protected steps not learned).
ANOMALY_AHEAD = IsotonicCalibration(
    knots=(-21.72, -7.163, -3.797, -2.52, -1.752, -1.245, -0.8762, -0.6272, -0.3765,
        -0.1102, 0.1156, 0.3704, 0.6147, 0.8656, 1.235, 1.744, 2.445, 3.92, 7.334, 30.29),
    probabilities=(0.004561, 0.004561, 0.01439, 0.1175, 0.1175, 0.1175, 0.1175, 0.1175,
        0.1175, 0.1175, 0.1175, 0.1175, 0.1532, 0.1962, 0.2959, 0.4058, 0.5729, 0.7782,
        0.9626, 0.9906))
