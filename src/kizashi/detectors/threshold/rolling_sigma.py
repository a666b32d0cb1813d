"""Rolling mean ± k·σ: an adaptive threshold that follows the recent level and spread."""

from __future__ import annotations

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.state import State
from kizashi.streaming import RollingWindow


class RollingSigmaThreshold(Detector):
    """How many standard deviations a value lies from the mean of the recent window.

    The score of ``x_t`` is ``|x_t − mean| / std`` over the previous ``window``
    observed values of the same series (``x_t`` itself is not in the window, so
    a spike cannot hide itself). A point is anomalous under the detector's own
    convention when the score exceeds ``k`` (the classic "mean ± k·σ" band).
    Scores are 0 until a series has ``min_periods`` observations.

    This is kizashi's default ``threshold`` detector.

    Parameters
    ----------
    window : int
        Observations in the rolling window (288 = one day of 5-minute samples).
    k : float
        Band half-width in standard deviations; the default decision threshold.
    min_periods : int
        Observations needed before scoring.
    min_std : float
        A floor under σ, in the data's units (for sparse counts whose spread is
        nearly 0, so that one event is not infinitely odd).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> values = np.r_[rng.normal(0, 1, 100), 8.0]
    >>> detector = RollingSigmaThreshold(window=50, min_periods=10)
    >>> round(float(detector.score(values)[-1]), 1)
    7.9
    """

    conformance_params = {"window": 20, "min_periods": 5}

    def __init__(self, window: int = 288, k: float = 3.0, min_periods: int = 30,
                 min_std: float = 0.0):
        self.window = window
        self.k = k
        self.min_periods = min_periods
        self.min_std = min_std

    @property
    def default_threshold(self) -> float:  # type: ignore[override]
        return float(self.k)

    @property
    def n_warmup(self) -> int:
        return int(self.min_periods)

    def _rolling(self) -> RollingWindow:
        if not 1 <= int(self.min_periods) <= int(self.window):
            raise ValueError(
                f"sigma_threshold: min_periods ({self.min_periods}) must be between 1 "
                f"and window ({self.window})"
            )
        return RollingWindow(self.window)

    def _init_state(self, n_series: int) -> State:
        return {"n_series": n_series, "window": self._rolling().init(n_series)}

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        rolling = self._rolling()
        mean, std = rolling.mean_std(state["window"])
        ready = state["window"]["count"] >= self.min_periods
        floor = np.maximum(1e-9 * (1.0 + np.abs(np.nan_to_num(mean))), self.min_std)
        with np.errstate(invalid="ignore"):
            score = np.where(ready, np.abs(x - mean) / np.maximum(std, floor), 0.0)
        score = np.where(np.isnan(x), np.nan, score)
        rolling.push(state["window"], x)
        return score
