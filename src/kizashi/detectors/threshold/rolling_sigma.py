"""Rolling mean ± k·σ: an adaptive threshold that follows the recent level and spread."""

from __future__ import annotations

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.detectors.threshold.rolling_kernels import MOMENT_ROWS, init_moments, sigma_block
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

    σ has a floor relative to the series' own level, so that a perfectly flat
    series is not infinitely surprised by a tiny wobble: by default (``min_std=None``)
    the floor is ``max(1e-9, 1e-3 · |mean|)`` — a thousandth of the level (see
    :func:`kizashi.streaming.robust.spread_floor`). A flat series at 100 thus has
    σ ≥ 0.1, while a flat series at 0 keeps a floor of 1e-9 and any jump off it
    scores very high. Give ``min_std`` a number to use a fixed floor in the
    data's units instead (``min_std=0.0`` is the old, floorless behaviour).

    A value is scored as it is, but the window learns it clipped to
    ``mean ± clip · σ``, so that one wild value (a ``1e308`` from a broken
    exporter) counts as a ``clip``-σ outlier instead of becoming the scale of the
    next ``window`` values.

    Parameters
    ----------
    window : int
        Observations in the rolling window (288 = one day of 5-minute samples).
    k : float
        Band half-width in standard deviations; the default decision threshold.
    min_periods : int
        Observations needed before scoring.
    min_std : float or None
        A floor under σ, in the data's units (for sparse counts whose spread is
        nearly 0, so that one event is not infinitely odd); ``None`` means a
        thousandth of the window's mean, at least 1e-9.
    clip : float or None
        Once a series is scored, values beyond ``clip`` σ from the mean enter
        the window as if they were ``clip`` σ away; ``None`` learns every value
        as it is.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> values = np.r_[rng.normal(0, 1, 100), 8.0]
    >>> detector = RollingSigmaThreshold(window=50, min_periods=10)
    >>> round(float(detector.score(values)[-1]), 1)
    7.9

    On a flat series at 100 a blip of 0.16 is 1.6 floors of 0.1 away, not 10⁸ σ:

    >>> flat = np.r_[np.full(50, 100.0), 100.16]
    >>> round(float(RollingSigmaThreshold(window=50, min_periods=10).score(flat)[-1]), 6)
    1.6
    """

    unit_params = ("min_std",)

    conformance_params = {"window": 20, "min_periods": 5}

    def __init__(self, window: int = 288, k: float = 3.0, min_periods: int = 30,
                 min_std: float | None = None, clip: float | None = 10.0):
        self.window = window
        self.k = k
        self.min_periods = min_periods
        self.min_std = min_std
        self.clip = clip

    @property
    def default_threshold(self) -> float:  # type: ignore[override]
        return float(self.k)

    @property
    def baseline_steps(self) -> int:
        return int(self.window)

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
        window = self._rolling().init(n_series)
        return {"n_series": n_series, "window": window,
                "moments": np.zeros((MOMENT_ROWS, n_series))}

    def _run(self, state: State, values: np.ndarray, band: bool = False
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scores of ``values`` (and the band's mean and σ), learning them: one compiled pass."""
        arrays = self.kernel_state(state)
        values = np.ascontiguousarray(values, dtype=np.float64)
        scores = np.empty(values.shape)
        forecast = np.empty(values.shape) if band else scores
        spread = np.empty(values.shape) if band else scores
        sigma_block(values, scores, forecast, spread, band, *arrays, *self.kernel_params())
        return scores, forecast, spread

    def kernel_state(self, state: State) -> tuple[np.ndarray, ...]:
        """The arrays the compiled kernels update in place — window, position, count,
        moments — made contiguous in ``state`` first (the moments completed from the
        window for a state saved before they were kept)."""
        self._rolling()
        window = state["window"]
        for key, dtype in (("values", np.float64), ("position", np.int64),
                           ("count", np.int64)):
            window[key] = np.ascontiguousarray(window[key], dtype=dtype)
        if "moments" not in state:  # a state saved before the moments were kept
            state["moments"] = init_moments(window["values"], window["count"])
        state["moments"] = np.ascontiguousarray(state["moments"], dtype=np.float64)
        return window["values"], window["position"], window["count"], state["moments"]

    def kernel_params(self) -> tuple[int, float, float]:
        """min_periods, min_std and clip as the compiled kernels take them (NaN: None)."""
        return (int(self.min_periods), np.nan if self.min_std is None else float(self.min_std),
                np.nan if self.clip is None else float(self.clip))

    def _explain(self, state: State, values: np.ndarray, t: np.ndarray | None
                 ) -> dict[str, np.ndarray]:
        """Scores, and the band ``mean ± k·σ`` each step was judged against."""
        scores, forecast, spread = self._run(state, values, band=True)
        reach = float(self.k) * spread
        return {"score": scores, "forecast": forecast, "lower": forecast - reach,
                "upper": forecast + reach}

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        return self._run(state, x[None, :])[0][0]

    def _score_batch(self, state: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        return self._run(state, values)[0]
