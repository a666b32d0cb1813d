"""The range rule of Numenta's NAB detector: a value beyond the range seen so far."""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.detectors.threshold.range_kernel import range_block
from kizashi.state import State


class RangeRule(Detector):
    """Score 1 when a value leaves the running min/max by more than a fraction of the range.

    Numenta's NAB detector (``nab/detectors/numenta/numenta_detector.py``,
    ``SPATIAL_TOLERANCE``) adds this rule to HTM's likelihood: with ``lo``
    and ``hi`` the smallest and largest values seen so far (before ``x_t``)
    and ``tol = tolerance * (hi - lo)``, the score of ``x_t`` is 1 when
    ``x_t > hi + tol`` or ``x_t < lo - tol``, else 0. Nothing fires until
    two different values have been seen (``hi > lo``). It stands for the
    human labeller's eye for a value larger than anything before.

    Numenta's range never shrinks, so one old excursion keeps a series "wide"
    for good. With ``halflife`` set, the envelope forgets: after each observed
    value the distance from it to ``hi`` (and to ``lo``) decays by
    ``0.5 ** (1 / halflife)`` while a new extreme is still taken at once, so
    an extreme ``halflife`` observations old counts half as far as it went.
    ``halflife=None`` (the default) is Numenta's rule exactly.

    The rule fires often while a series is young and its range still grows;
    ``min_periods`` keeps scores at 0 until a series has that many observed
    values (it still learns its range meanwhile). The default 0 is Numenta's
    rule, whose runner hides the probationary period anyway.

    Parameters
    ----------
    tolerance : float
        Fraction of the range seen so far a value must overshoot it by
        (Numenta: 0.05).
    halflife : float or None
        Half-life, in observed values, of the envelope's distance above (and
        below) the current value; ``None`` never forgets.
    min_periods : int
        Observed values a series needs before it may score 1.
    max_growth : float or None
        The most one value may widen the range, in widths of the range so far:
        a value further out still scores 1 but widens it only that far, so one
        absurd value (say 1e308) does not blind the rule for good. ``None`` is
        Numenta's rule (the range takes any value).

    Examples
    --------
    >>> RangeRule().score([0.0, 10.0, 10.4, 11.0, -0.6, 5.0]).tolist()
    [0.0, 0.0, 0.0, 1.0, 1.0, 0.0]
    """

    default_threshold = 0.5
    protect_baseline = False  # it must widen its range to stop alerting
    conformance_params = {"halflife": 50.0}

    def __init__(self, tolerance: float = 0.05, halflife: float | None = None,
                 min_periods: int = 0, max_growth: float | None = 10.0):
        self.tolerance = tolerance
        self.halflife = halflife
        self.min_periods = min_periods
        self.max_growth = max_growth

    @property
    def n_warmup(self) -> int:
        return int(self.min_periods)

    def _decay(self) -> float:
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise ValueError(f"range_rule: tolerance must be a number >= 0, got {self.tolerance!r}")
        if isinstance(self.min_periods, bool) or int(self.min_periods) != self.min_periods \
                or self.min_periods < 0:
            raise ValueError(f"range_rule: min_periods must be a whole number >= 0, got "
                             f"{self.min_periods!r}")
        if self.max_growth is not None and not (math.isfinite(self.max_growth)
                                                and self.max_growth > 0):
            raise ValueError(f"range_rule: max_growth must be > 0 or None, got "
                             f"{self.max_growth!r}")
        if self.halflife is None:
            return 1.0
        if not self.halflife > 0:
            raise ValueError(f"range_rule: halflife must be > 0 or None (never forget), got "
                             f"{self.halflife!r}")
        return 0.5 ** (1.0 / float(self.halflife))

    def _init_state(self, n_series: int) -> State:
        self._decay()
        return {"n_series": n_series, "low": np.full(n_series, np.nan),
                "high": np.full(n_series, np.nan), "count": np.zeros(n_series, dtype=np.int64)}

    def _score(self, x: np.ndarray, low: np.ndarray, high: np.ndarray,
               count: np.ndarray) -> np.ndarray:
        spread = high - low
        margin = spread * float(self.tolerance)
        with np.errstate(invalid="ignore"):
            outside = (spread > 0) & ((x > high + margin) | (x < low - margin))
        out = np.where(outside & (count >= int(self.min_periods)), 1.0, 0.0)
        return np.where(np.isnan(x), np.nan, out)

    def _learned(self, x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """``x`` as the range learns it: at most ``max_growth`` range widths beyond it."""
        if self.max_growth is None:
            return x
        with np.errstate(invalid="ignore", over="ignore"):
            reach = float(self.max_growth) * (high - low)
            limited = np.clip(x, low - reach, high + reach)
        return np.where((high > low) & np.isfinite(reach), limited, x)

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        return self._score_batch(state, x[None, :], None)[0]

    def _score_batch(self, state: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        """One compiled pass over the block (:mod:`.range_kernel`)."""
        decay = self._decay()
        for key, dtype in (("low", np.float64), ("high", np.float64), ("count", np.int64)):
            state[key] = np.ascontiguousarray(state[key], dtype=dtype)
        values = np.ascontiguousarray(values, dtype=np.float64)
        scores = np.empty(values.shape)
        range_block(values, scores, state["low"], state["high"], state["count"],
                    float(self.tolerance), decay, int(self.min_periods),
                    np.nan if self.max_growth is None else float(self.max_growth))
        return scores
