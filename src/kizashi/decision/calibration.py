"""Calibration: map raw anomaly scores to [0, 1] online, using only past scores.

Detectors' scores live on their own scales (σ units, reconstruction errors,
likelihood ratios). Some consumers need a common scale: NAB sweeps one
threshold over all files, and its result files must hold scores in [0, 1].
:class:`OnlineCalibrator` standardises each score against the running mean and
standard deviation of the *earlier* scores of the same series, then squashes
the positive part into [0, 1):

``z_t = (s_t - mean(s_<t)) / std(s_<t)``,  ``p_t = max(z_t, 0) / (max(z_t, 0) + scale)``.

The squash is monotone and never saturates in floating point (unlike a Gaussian
tail probability, which rounds every ``z > 8.3`` to 1 and makes ties), so a
threshold on ``p`` is a threshold on ``z``. With ``halflife`` set, the running
moments forget the past exponentially (per observed score); without it, they
use all past scores. Scores are 0 until a series has ``min_periods`` scores,
NaN stays NaN and does not change the state. Scores beyond ±:data:`LEARN_REACH` are learned
at that reach, so that squares of huge scores do not overflow the moments.

The state is plain data (arrays and numbers in a dict) behind
``state_dict()`` / ``load_state_dict()``; batch :meth:`OnlineCalibrator.transform`
equals streaming :meth:`OnlineCalibrator.update` row by row.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from kizashi.state import State, copy_state, from_json_safe, to_json_safe

__all__ = ["LEARN_REACH", "OnlineCalibrator"]

#: Scores enter the running moments held within ±2⁴⁸⁰ (≈ 3e144): their squares, and sums of
#: up to 10¹⁸ of them, stay finite. A raw score of 1e300 (a detector's bound) squared to
#: ``inf`` kept the moments infinite for good, and every later score calibrated to 0. The
#: score itself is standardised as it is; ordinary scores never come near the bound.
LEARN_REACH = 2.0 ** 480


class OnlineCalibrator:
    """Online standardise-and-squash of anomaly scores into [0, 1), per series.

    Parameters
    ----------
    halflife : float or None
        Half-life, in observed scores, of the running moments; ``None`` keeps
        every past score with equal weight.
    min_periods : int
        Past scores a series needs before it is calibrated (0 before).
    scale : float
        The ``z`` that maps to 0.5.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> raw = np.r_[rng.normal(1.0, 0.2, 200), 5.0]
    >>> calibrated = OnlineCalibrator(min_periods=10).transform(raw)
    >>> float(calibrated[:10].max()), round(float(calibrated[-1]), 3)
    (0.0, 0.954)
    """

    def __init__(self, halflife: float | None = None, min_periods: int = 30, scale: float = 1.0):
        self.halflife = halflife
        self.min_periods = min_periods
        self.scale = scale

    state_: State | None = None

    def __repr__(self) -> str:
        return (f"OnlineCalibrator(halflife={self.halflife!r}, min_periods={self.min_periods!r}, "
                f"scale={self.scale!r})")

    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments."""
        return {"halflife": self.halflife, "min_periods": self.min_periods, "scale": self.scale}

    # ---------------------------------------------------------------- state
    def _check(self) -> float:
        if self.halflife is not None and not self.halflife > 0:
            raise ValueError(f"OnlineCalibrator: halflife must be > 0 or None, got {self.halflife}")
        if int(self.min_periods) < 2:
            raise ValueError(f"OnlineCalibrator: min_periods must be >= 2, got {self.min_periods}")
        if not self.scale > 0:
            raise ValueError(f"OnlineCalibrator: scale must be > 0, got {self.scale}")
        return 1.0 if self.halflife is None else 0.5 ** (1.0 / float(self.halflife))

    def reset(self, n_series: int) -> Self:
        """Start afresh for ``n_series`` series."""
        self._check()
        zeros = np.zeros(int(n_series))
        self.state_ = {"n_series": int(n_series), "count": zeros.copy(), "shift": np.full(
            int(n_series), np.nan), "weight": zeros.copy(), "sum": zeros.copy(),
            "sum_sq": zeros.copy()}
        return self

    def state_dict(self) -> dict[str, Any]:
        """Parameters and state as plain data (a copy)."""
        if self.state_ is None:
            raise ValueError("OnlineCalibrator has no state yet: update or transform first")
        return {"params": self.get_params(), "state": copy_state(self.state_)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> Self:
        """Restore what :meth:`state_dict` returned (also after a JSON round trip)."""
        saved = from_json_safe(state_dict["params"])
        if saved != self.get_params():
            raise ValueError(f"calibration state was saved with parameters {saved}, this "
                             f"calibrator has {self.get_params()}")
        self.state_ = from_json_safe(to_json_safe(state_dict["state"]))
        return self

    def _state_for(self, n_series: int) -> State:
        if self.state_ is None:
            self.reset(n_series)
        elif self.state_["n_series"] != n_series:
            raise ValueError(f"OnlineCalibrator was set up for {self.state_['n_series']} series, "
                             f"got {n_series}; call reset() first")
        return self.state_

    # ------------------------------------------------------------ calibrate
    def _squash(self, x: np.ndarray, count: np.ndarray, weight: np.ndarray, total: np.ndarray,
                total_sq: np.ndarray, shift: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # inf z: below
            mean = total / weight
            var = np.maximum(total_sq / weight - mean * mean, 0.0)
            centre = mean + shift
            floor = 1e-12 * (1.0 + np.abs(centre))
            z = (x - centre) / np.maximum(np.sqrt(var), floor)
        positive = np.where(z > 0, z, 0.0)
        positive = np.where(np.isinf(positive), 1.0 / np.finfo(float).eps, positive)
        out = positive / (positive + float(self.scale))
        out = np.where(count >= int(self.min_periods), out, 0.0)
        return np.where(np.isnan(x), np.nan, out)

    #: The calibrated level above which the decider calls a point anomalous by default
    #: (``z > 4`` standard deviations of the series' own past scores).
    default_cutoff = 0.8

    @property
    def n_warmup(self) -> int:
        """Scores a series needs before it is calibrated."""
        return int(self.min_periods)

    def update(self, row: Any, learn: Any = None) -> Any:
        """Calibrate one time step (a score or one score per series), then learn it.

        ``learn``, a boolean per series, keeps the steps where it is False out
        of the running moments (they are still calibrated).
        """
        decay = self._check()
        x = np.asarray(row, dtype=np.float64)
        scalar = x.ndim == 0
        x = x.reshape(-1)
        state = self._state_for(x.size)
        seen = ~np.isnan(x)
        if learn is not None:
            seen = seen & np.asarray(learn, dtype=bool).reshape(-1)
        kept = np.clip(x, -LEARN_REACH, LEARN_REACH)  # what the moments learn
        shift = np.where(np.isnan(state["shift"]) & seen, kept, state["shift"])
        out = self._squash(x, state["count"], state["weight"], state["sum"], state["sum_sq"],
                           np.where(np.isnan(shift), x, shift))
        d = np.where(seen, decay, 1.0)
        centred = np.where(seen, kept - shift, 0.0)
        state["shift"] = shift
        state["count"] = state["count"] + seen
        state["weight"] = d * state["weight"] + seen
        state["sum"] = d * state["sum"] + centred
        state["sum_sq"] = d * state["sum_sq"] + centred * centred
        return float(out[0]) if scalar else out

    def transform(self, scores: Any, learn: Any = None) -> np.ndarray:
        """Calibrate a ``(time,)`` or ``(time, series)`` block, learning from it as it goes.

        The same as :meth:`update` on every row, vectorised (``learn``: a boolean
        block of the same shape, or None for all).
        """
        decay = self._check()
        array = np.asarray(scores, dtype=np.float64)
        if array.ndim not in (1, 2):
            raise ValueError(f"OnlineCalibrator: expected 1-D or 2-D scores, got {array.shape}")
        matrix = array.reshape(array.shape[0], -1)
        state = self._state_for(matrix.shape[1])
        seen = ~np.isnan(matrix)
        if learn is not None:
            seen = seen & np.asarray(learn, dtype=bool).reshape(matrix.shape)
        # The shift (first score ever seen per series) keeps the moments well conditioned.
        kept = np.clip(matrix, -LEARN_REACH, LEARN_REACH)  # what the moments learn
        first = np.where(seen.any(axis=0), kept[seen.argmax(axis=0), np.arange(matrix.shape[1])],
                         np.nan)
        shift = np.where(np.isnan(state["shift"]), first, state["shift"])
        centred = np.where(seen, kept - shift, 0.0)
        count = state["count"] + np.cumsum(seen, axis=0)
        if decay == 1.0:
            weight = state["weight"] + np.cumsum(seen, axis=0)
            total = state["sum"] + np.cumsum(centred, axis=0)
            total_sq = state["sum_sq"] + np.cumsum(centred * centred, axis=0)
        else:
            weight = _discounted(seen.astype(np.float64), seen, decay, state["weight"])
            total = _discounted(centred, seen, decay, state["sum"])
            total_sq = _discounted(centred * centred, seen, decay, state["sum_sq"])
        # Scores at t use the moments up to t - 1.
        def before(a: np.ndarray, start: np.ndarray) -> np.ndarray:
            return np.vstack([start[None, :], a[:-1]])

        out = self._squash(matrix, before(count, state["count"]),
                           before(weight, state["weight"]), before(total, state["sum"]),
                           before(total_sq, state["sum_sq"]), shift[None, :])
        if matrix.shape[0]:
            state.update(shift=shift, count=count[-1], weight=weight[-1], sum=total[-1],
                         sum_sq=total_sq[-1])
        return out.reshape(array.shape)


def _discounted(x: np.ndarray, seen: np.ndarray, decay: float, start: np.ndarray) -> np.ndarray:
    """``y_t = d_t y_{t-1} + x_t`` per column with ``d_t = decay`` where seen, else 1."""
    out = np.empty_like(x)
    current = start.astype(np.float64).copy()
    factors = np.where(seen, decay, 1.0)
    for t in range(x.shape[0]):  # short loop over time, vectorised over series
        current = factors[t] * current + x[t]
        out[t] = current
    return out
