"""One score per row from the standardised errors of every metric of a node.

A multivariate deep detector standardises each metric's error against that
metric's own error history, so that the errors of metrics of any scale read
alike, then combines them across metrics:

``mean``
    the mean standardised error: a shift that many metrics share counts most;
``l2``
    the root mean square of the positive parts: a few metrics far off count more
    than under ``mean``, errors smaller than usual do not cancel them;
``max``
    the largest: the noisiest metric decides.
"""

from __future__ import annotations

import numpy as np

from kizashi.streaming.robust import bounded

#: The ``aggregate`` parameter's choices (see the module docstring).
AGGREGATES = ("mean", "l2", "max")


def aggregate_errors(scores: np.ndarray, how: str) -> np.ndarray:
    """Standardised errors ``(time, metrics)`` combined into ``(time,)``; a row with a NaN
    gives NaN.

    >>> z = np.array([[1.0, -1.0, 3.0], [np.nan, 0.0, 0.0]])
    >>> [aggregate_errors(z, how).tolist() for how in AGGREGATES]
    [[1.0, nan], [1.8257418583505538, nan], [3.0, nan]]
    """
    with np.errstate(over="ignore"):  # bounded scores near MAX_SCORE square to inf
        if how == "mean":
            return bounded(scores.mean(axis=1))
        if how == "l2":
            return bounded(np.sqrt(np.mean(np.maximum(scores, 0.0) ** 2, axis=1)))
        if how == "max":
            return scores.max(axis=1)
    raise ValueError(f"unknown aggregate {how!r}; use one of {', '.join(AGGREGATES)}")
