"""Rolling quantile band: a threshold that follows the recent distribution, robust to outliers."""

from __future__ import annotations

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.detectors.threshold.rolling_kernels import quantile_block
from kizashi.state import State
from kizashi.streaming import RollingWindow


class RollingQuantileThreshold(Detector):
    """How far a value lies outside the band between two quantiles of the recent window.

    With ``q_low``, ``q_high`` the quantiles of the previous ``window``
    observations, the score of ``x`` is ``max(x − q_high, q_low − x) / (q_high − q_low)``:
    the distance beyond the band in band-widths, and 0 inside the band.
    Quantiles ignore a few outliers where a mean and σ would not: a single wild
    value (a ``1e308`` from a broken exporter) moves the band only while it is
    in the window and ``window · (1 − high) < 1`` (or ``window · low < 1``).

    The band width has a floor relative to the series' own level, so that a
    perfectly flat series is not infinitely surprised by a tiny wobble: by
    default (``min_width=None``) it is ``max(1e-9, 1e-3 · |centre|)``, with
    ``centre`` the middle of the band (see
    :func:`kizashi.streaming.robust.spread_floor`).

    Parameters
    ----------
    window : int
        Observations in the rolling window.
    low, high : float
        The band's quantiles, in [0, 1].
    min_periods : int
        Observations needed before scoring (scores are 0 before).
    min_width : float or None
        A floor under the band width in the data's units; ``None`` means a
        thousandth of the band's centre, at least 1e-9.

    Examples
    --------
    >>> values = np.r_[np.tile([1.0, 2.0, 3.0, 4.0], 25), 7.0]
    >>> detector = RollingQuantileThreshold(window=40, low=0.0, high=1.0, min_periods=8)
    >>> float(detector.score(values)[-1])  # 3 above a band 3 wide
    1.0
    >>> flat = np.r_[np.full(50, 100.0), 100.16]  # the band is 0.1 wide at least
    >>> round(float(RollingQuantileThreshold(window=50, min_periods=10).score(flat)[-1]), 6)
    1.6
    """

    unit_params = ("min_width",)

    default_threshold = 0.25
    conformance_params = {"window": 20, "min_periods": 5}

    def __init__(self, window: int = 288, low: float = 0.01, high: float = 0.99,
                 min_periods: int = 30, min_width: float | None = None):
        self.window = window
        self.low = low
        self.high = high
        self.min_periods = min_periods
        self.min_width = min_width

    @property
    def baseline_steps(self) -> int:
        return int(self.window)

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
        return self._score_batch(state, x[None, :], None)[0]

    def _score_batch(self, state: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        """One compiled pass: each window sorted once, then kept sorted point by point."""
        self._rolling()
        window = state["window"]
        for key, dtype in (("values", np.float64), ("position", np.int64),
                           ("count", np.int64)):
            window[key] = np.ascontiguousarray(window[key], dtype=dtype)
        values = np.asarray(values, dtype=np.float64)
        scores = np.empty(values.shape)
        quantile_block(values, scores, window["values"], window["position"], window["count"],
                       float(self.low), float(self.high), int(self.min_periods),
                       np.nan if self.min_width is None else float(self.min_width))
        return scores
