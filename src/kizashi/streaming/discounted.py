"""Exponentially time-discounted mean and variance, vectorised over series."""

from __future__ import annotations

import numpy as np

from kizashi.state import State
from kizashi.streaming.robust import FLOAT_MAX


def decay_factor(elapsed: np.ndarray | float, halflife: float) -> np.ndarray:
    """Weight left to old observations after ``elapsed`` time: ``0.5 ** (elapsed / halflife)``."""
    return np.power(0.5, np.maximum(np.asarray(elapsed, dtype=np.float64), 0.0) / halflife)


class DiscountedMoments:
    """Running mean and variance where old observations fade with a half-life.

    The first observation sets the mean exactly; afterwards each new one gets
    weight 1 and all earlier ones fade by ``decay`` (a number in (0, 1] per
    update, or computed from elapsed time with :func:`decay_factor`). Values
    near the float limit keep the moments finite (the variance is capped at the
    largest float); learning from clipped values is the owner's choice.

    Examples
    --------
    >>> moments = DiscountedMoments()
    >>> state = moments.init(1)
    >>> for x in (1.0, 2.0, 3.0):
    ...     moments.update(state, np.array([x]), decay=1.0)  # no fading: plain mean
    >>> float(state["mean"][0]), round(float(state["var"][0]), 6)
    (2.0, 0.666667)
    """

    def init(self, n_series: int) -> State:
        return {
            "mean": np.zeros(n_series),
            "var": np.zeros(n_series),
            "weight": np.zeros(n_series),
        }

    def update(self, state: State, x: np.ndarray, decay: np.ndarray | float,
               where: np.ndarray | None = None) -> None:
        """Add one observation per series (``where`` False or NaN ``x`` skips a series)."""
        ok = ~np.isnan(x)
        if where is not None:
            ok &= where
        if not ok.any():
            return
        weight = state["weight"] * decay + 1.0
        gain = np.where(ok, 1.0 / weight, 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            delta = np.where(ok, x - state["mean"], 0.0)
            new_mean = state["mean"] + gain * delta
            # West's weighted update of the variance (population form).
            new_var = (1.0 - gain) * (state["var"] + gain * delta * delta)
        wild = ~(np.isfinite(new_mean) & np.isfinite(new_var))
        if wild.any():
            near_mean, near_var = self._near_limit(state, x, gain, ok)
            new_mean = np.where(wild, near_mean, new_mean)
            new_var = np.where(wild, near_var, new_var)
        state["mean"] = np.where(ok, new_mean, state["mean"])
        state["var"] = np.where(ok, new_var, state["var"])
        state["weight"] = np.where(ok, weight, state["weight"])

    @staticmethod
    def _near_limit(state: State, x: np.ndarray, gain: np.ndarray,
                    ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The same update done in halves, for values near the float limit (the
        variance is capped at the largest float instead of overflowing)."""
        with np.errstate(over="ignore", invalid="ignore"):
            half = np.where(ok, x / 2.0 - state["mean"] / 2.0, 0.0)
            new_mean = np.clip(state["mean"] + 2.0 * (gain * half), -FLOAT_MAX, FLOAT_MAX)
            added = np.minimum(state["var"] + np.minimum(4.0 * gain * half * half, FLOAT_MAX),
                               FLOAT_MAX)
        return new_mean, (1.0 - gain) * added
