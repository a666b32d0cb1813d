"""Which inputs are behind a score: per-step attribution from any detector, ranked causes.

A multivariate detector says itself how much each input weighs in a step's
score (``DetectorOutput.attribution``, e.g. each metric's share of an
autoencoder's reconstruction error). A univariate detector scores every metric
apart, so its scores *are* the per-metric deviations: a metric's share of the
step is its score over the sum of the scores. :func:`attribution_of` gives both
the same shape, so diagnosis code (HitRate, ``detect --explain``, alerts) works
with every registered detector.

>>> from kizashi.detectors.registry import create
>>> values = np.zeros((40, 3)) + np.random.default_rng(0).normal(0, 0.1, (40, 3))
>>> values[-1, 2] += 5.0                        # metric 2 breaks on the last step
>>> detector = create("threshold", window=30, min_periods=10)
>>> shares = attribution_of(detector, values)
>>> int(np.argmax(shares[-1])), round(float(np.nansum(shares[-1])), 6)
(2, 1.0)
>>> rank_causes(shares[-1], ["cpu", "mem", "fs"], k=2)[0][0]
'fs'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["attribution_of", "rank_causes", "shares_of"]


def shares_of(contributions: np.ndarray) -> np.ndarray:
    """Rows of non-negative contributions scaled to sum to 1 (NaN where a row has none).

    >>> shares_of(np.array([[1.0, 3.0], [0.0, 0.0], [np.nan, 2.0]])).tolist()
    [[0.25, 0.75], [nan, nan], [nan, 1.0]]
    """
    positive = np.clip(np.asarray(contributions, dtype=np.float64), 0.0, None)
    totals = np.nansum(positive, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, positive / totals, np.nan)


def attribution_of(detector: Any, values: Any, timestamps: Any = None) -> np.ndarray:
    """``(time, inputs)`` shares of each input in each step's score (rows sum to 1).

    From ``detector.explain`` (the detector's own state is left unchanged): its
    ``attribution`` when it has one, else, for a univariate detector, its
    per-series scores as shares. A multivariate detector without attribution
    gives an all-NaN array (no input can be blamed).
    """
    out = detector.explain(values, timestamps)
    if out.attribution is not None:
        return np.asarray(out.attribution, dtype=np.float64)
    score = np.asarray(out.score, dtype=np.float64)
    n_inputs = np.asarray(values).reshape(score.shape[0], -1).shape[1]
    if detector.multivariate or score.shape[1] != n_inputs:
        return np.full((score.shape[0], n_inputs), np.nan)
    return shares_of(score)


def rank_causes(shares: Sequence[float] | np.ndarray, names: Sequence[str], k: int = 3,
                min_share: float = 0.0) -> list[tuple[str, float]]:
    """The ``k`` names with the largest shares, largest first (NaN and ≤ ``min_share`` left out).

    >>> rank_causes([0.1, 0.6, np.nan, 0.3], ["a", "b", "c", "d"])
    [('b', 0.6), ('d', 0.3), ('a', 0.1)]
    """
    values = np.asarray(shares, dtype=np.float64).reshape(-1)
    if values.size != len(names):
        raise ValueError(f"rank_causes: {values.size} shares for {len(names)} names")
    order = np.argsort(-np.nan_to_num(values, nan=-np.inf), kind="stable")
    out = [(str(names[j]), float(values[j])) for j in order
           if np.isfinite(values[j]) and values[j] > min_share]
    return out[:k]
