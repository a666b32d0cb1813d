"""Tell the operator when a series got no level at all because every step was learning.

A detector and its calibration learn before they judge (a rolling window, a trained
model's first 30 % of the file, the likelihood's history): a file shorter than that gives
every step an empty level, so no decision, and the summary's ``max level n/a`` alone reads
like "nothing anomalous". :func:`learning_note` says it in one warning instead. Series
with no value at all, or (for a node scored from all its metrics) with no step where
every metric has a value, are left out: the reading and coverage warnings explain those.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kizashi.data.frame import SeriesFrame


def _scorable(frame: SeriesFrame, entity: str, metric: str) -> bool:
    """Whether the series (or, for ``metric == "*"``, the node) has a complete step."""
    columns = [j for j, (e, m) in enumerate(frame.keys)
               if e == entity and (metric == "*" or m == metric)]
    if not columns:
        return False
    return bool(np.isfinite(frame.values[:, columns]).all(axis=1).any())


def learning_note(result: Any, frame: SeriesFrame, where: str, detector: str,
                  longer: str = "give a longer file") -> str | None:
    """The warning for the series with values but no level (so no decision) at any step,
    ending with ``longer``, what to do (a longer file, a longer range of a query).

    >>> from types import SimpleNamespace
    >>> frame = SeriesFrame.from_arrays(np.arange(3) * 60.0, np.ones((3, 2)),
    ...                                 entities=["n1", "n1"], metrics=["cpu", "mem"])
    >>> result = SimpleNamespace(entities=["n1", "n1"], metrics=["cpu", "mem"],
    ...                          levels=np.full((3, 2), np.nan))
    >>> learning_note(result, frame, "cpu.csv", "threshold")  # doctest: +NORMALIZE_WHITESPACE
    "warning: cpu.csv: 2 of 2 series got no level (no step judged) at any of the 3 steps:
    all still learning (detector 'threshold' and its calibration need more rows); give a
    longer file"
    """
    levels = np.asarray(result.levels)
    unfitted = {entity for entity, _ in getattr(result, "unfitted", ())}  # said on their own
    silent = [j for j, (entity, metric) in enumerate(zip(result.entities, result.metrics,
                                                         strict=True))
              if not np.isfinite(levels[:, j]).any() and entity not in unfitted
              and _scorable(frame, entity, metric)]
    if not silent:
        return None
    return (f"warning: {where}: {len(silent)} of {len(result.entities)} series got no level "
            f"(no step judged) at any of the {levels.shape[0]} steps: all still learning (detector "
            f"{detector!r} and its calibration need more rows); {longer}")


#: unfitted entities named one by one in the warning before the rest are counted
SHOWN_UNFITTED = 3


def unfitted_note(result: Any, where: str, train: str | None = None) -> str | None:
    """The warning for the entities whose model could not be fitted (scores left empty);
    ``train``: the training file, when one was given.

    >>> from types import SimpleNamespace
    >>> result = SimpleNamespace(entities=("n1", "n2"), unfitted=(("n2", "too few rows"),))
    >>> unfitted_note(result, "cpu.csv")  # doctest: +NORMALIZE_WHITESPACE
    "warning: cpu.csv: 1 of 2 entities not scored, no model could be fitted on their
    training rows: 'n2' (too few rows); give --train FILE with values for them"
    """
    unfitted = tuple(getattr(result, "unfitted", ()))
    if not unfitted:
        return None
    shown = ", ".join(f"{entity!r} ({reason})" for entity, reason in unfitted[:SHOWN_UNFITTED])
    if len(unfitted) > SHOWN_UNFITTED:
        shown += f" and {len(unfitted) - SHOWN_UNFITTED} more"
    remedy = "give --train FILE with values for them" if train is None else \
        f"give {train} values for them"
    return (f"warning: {where}: {len(unfitted)} of {len(result.entities)} entities not "
            f"scored, no model could be fitted on their training rows: {shown}; {remedy}")
