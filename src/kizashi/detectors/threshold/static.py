"""Static bounds: the simplest threshold, and the one operators start with."""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.state import State
from kizashi.streaming.robust import MAX_SCORE


class StaticThreshold(Detector):
    """Fixed lower and/or upper bounds.

    The score is how far a value lies beyond the nearer bound, in the data's own
    units (at most :data:`~kizashi.streaming.robust.MAX_SCORE`), and 0 inside the
    bounds. ``default_threshold`` is 0, so a point is anomalous when it leaves the
    bounds.

    Parameters
    ----------
    low, high : float or None
        Bounds; give at least one.

    Examples
    --------
    >>> detector = StaticThreshold(high=90.0)
    >>> detector.score([50.0, 95.0, 89.0]).tolist()
    [0.0, 5.0, 0.0]
    """

    unit_params = ("low", "high")

    default_threshold = 0.0
    conformance_params = {"low": -2.5, "high": 2.5}

    def __init__(self, low: float | None = None, high: float | None = None):
        self.low = low
        self.high = high

    def _bounds(self) -> tuple[float, float]:
        low = -math.inf if self.low is None else float(self.low)
        high = math.inf if self.high is None else float(self.high)
        if self.low is None and self.high is None:
            raise ValueError("static_threshold needs low= and/or high= (e.g. --param high=90)")
        if not low < high:
            raise ValueError(f"static_threshold: low ({low}) must be below high ({high})")
        return low, high

    def _init_state(self, n_series: int) -> State:
        self._bounds()
        return {"n_series": n_series}

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        return self._score_batch(state, x, None)

    def _score_batch(self, state: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        low, high = self._bounds()
        with np.errstate(over="ignore", invalid="ignore"):  # in place: few passes over a block
            score = np.subtract(values, high)
            np.maximum(score, np.subtract(low, values), out=score)
            np.maximum(score, 0.0, out=score)
            return np.minimum(score, MAX_SCORE, out=score)  # ≥ 0 already: bounded above
