"""A watch's quantile cutoffs (``cutoff: q0.999``) from its stored scores, vectorised.

The watch refreshes a quantile cutoff from each series' scores of the last
``QUANTILE_STEPS`` steps in the store. It used to gather them into a Python
list per series (a loop over every series of every stored block) and call
``np.quantile`` per series; at 100,000 series that is hundreds of millions of
Python steps. :func:`recent_quantiles` streams the stored blocks instead,
placing each block's scores into the watch's columns with one index array per
layout and keeping only the few extreme scores per series the quantile needs
(:class:`~kizashi.decision.quantiles.ExtremeKeeper`: two per series for
``q0.999`` over 1,000 steps), so the result is exactly what ``np.quantile``
gives on each series' scores.

Examples
--------
>>> from kizashi.watch.store import WatchStore
>>> store = WatchStore(":memory:")
>>> layout = store.layout("w", [7, 9])
>>> for k in range(40):
...     level = np.array([[float(k)], [np.nan if k % 2 else 1.0]])
...     store.add_block("w", "threshold", layout, np.array([60.0 * k]),
...                     np.ones((1, 2)), level.T, np.zeros((1, 2)))
>>> recent_quantiles(store, [9, 7], "threshold", 0.0, 0.5, min_scores=30).tolist()
[inf, 19.5]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from kizashi.decision.quantiles import ExtremeKeeper, values_needed

__all__ = ["recent_quantiles"]


def recent_quantiles(store: Any, series_ids: Sequence[int], detector: str, since: float,
                     q: float, min_scores: int) -> np.ndarray:
    """Per series of ``series_ids``, ``np.quantile`` of its stored finite scores of
    ``detector`` from ``since`` on (a score counts where its value was observed);
    ``inf`` for a series with fewer than ``min_scores`` scores."""
    ids = np.asarray(list(series_ids), dtype=np.int64)
    if not ids.size:
        return np.zeros(0)
    blocks = store.db.execute("SELECT count(*) FROM blocks WHERE detector=? AND t>=?",
                              (detector, since)).fetchone()[0]
    point_ids, point_scores = store.score_points(detector, since)
    most = int(blocks) + (int(np.bincount(point_ids - point_ids.min()).max())
                          if point_ids.size else 0)
    keeper = ExtremeKeeper(ids.size, q, values_needed(q, max(most, 1)))
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    places: dict[int, tuple[np.ndarray, np.ndarray, bool]] = {}

    def columns_of(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which entries of ``series`` are ours, and their columns."""
        at = np.clip(np.searchsorted(ordered, series), 0, ordered.size - 1)
        ours = ordered[at] == series
        return ours, order[at[ours]]

    for series, block in store.score_blocks(detector, since):
        key = id(series)
        if key not in places:   # the watch's own layout, in its order, needs no placing
            places[key] = (*columns_of(series), np.array_equal(series, ids))
        ours, columns, same = places[key]
        scores = np.where(np.isnan(block[:, 0]), np.nan, block[:, 1])
        if same:
            keeper.add(scores)
        else:
            keeper.add(scores[ours], columns)
    if point_ids.size:
        ours, columns = columns_of(point_ids)
        keeper.add_many(columns, point_scores[ours])
    return keeper.quantiles(min_scores)
