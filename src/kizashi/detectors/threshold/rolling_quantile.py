"""Rolling quantile band: a threshold that follows the recent distribution, robust to outliers."""

from __future__ import annotations

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.state import State
from kizashi.streaming import RollingWindow


class RollingQuantileThreshold(Detector):
    """How far a value lies outside the band between two quantiles of the recent window.

    With ``q_low``, ``q_high`` the quantiles of the previous ``window``
    observations, the score of ``x`` is ``max(x − q_high, q_low − x) / (q_high − q_low)``:
    the distance beyond the band in band-widths, and 0 inside the band.
    Quantiles ignore a few outliers where a mean and σ would not.

    Parameters
    ----------
    window : int
        Observations in the rolling window.
    low, high : float
        The band's quantiles, in [0, 1].
    min_periods : int
        Observations needed before scoring (scores are 0 before).

    Examples
    --------
    >>> values = np.r_[np.tile([1.0, 2.0, 3.0, 4.0], 25), 7.0]
    >>> detector = RollingQuantileThreshold(window=40, low=0.0, high=1.0, min_periods=8)
    >>> float(detector.score(values)[-1])  # 3 above a band 3 wide
    1.0
    """

    default_threshold = 0.25
    conformance_params = {"window": 20, "min_periods": 5}

    def __init__(self, window: int = 288, low: float = 0.01, high: float = 0.99,
                 min_periods: int = 30):
        self.window = window
        self.low = low
        self.high = high
        self.min_periods = min_periods

    @property
    def n_warmup(self) -> int:
        return int(self.min_periods)

    def _rolling(self) -> RollingWindow:
        if not 0.0 <= self.low < self.high <= 1.0:
            raise ValueError(
                f"quantile_threshold: need 0 <= low < high <= 1, got low={self.low}, "
                f"high={self.high}"
            )
        if not 1 <= int(self.min_periods) <= int(self.window):
            raise ValueError("quantile_threshold: min_periods must be between 1 and window")
        return RollingWindow(self.window)

    def _init_state(self, n_series: int) -> State:
        return {"n_series": n_series, "window": self._rolling().init(n_series)}

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        rolling = self._rolling()
        q_low, q_high = rolling.quantiles(state["window"], (self.low, self.high))
        ready = state["window"]["count"] >= self.min_periods
        width = q_high - q_low
        width = np.maximum(width, 1e-9 * (1.0 + np.abs(np.nan_to_num(q_high))))
        with np.errstate(invalid="ignore"):
            score = np.where(ready, np.maximum(np.maximum(x - q_high, q_low - x), 0.0) / width, 0.0)
        score = np.where(np.isnan(x), np.nan, score)
        rolling.push(state["window"], x)
        return score
