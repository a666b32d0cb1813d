"""A watch's quantile cutoffs from the store equal ``np.quantile`` of each series' scores.

The reference gathers each series' stored scores with the store's per-series
reader (``recent_scores``) and calls ``np.quantile`` on the finite ones, as the
watch did before. Families: layouts that change (series added and dropped),
unobserved values (no score), NaN/inf scores, blocks before ``since``, single
points, series of another watch, too few scores, and several quantiles.
"""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.watch.quantile_cutoffs import recent_quantiles
from kizashi.watch.store import WatchStore


def reference(store: WatchStore, ids: list[int], since: float, q: float,
              min_scores: int) -> np.ndarray:
    scores = store.recent_scores(ids, "threshold", since)
    out = np.full(len(ids), np.inf)
    for j, sid in enumerate(ids):
        ref = scores[sid][np.isfinite(scores[sid])]
        if ref.size >= min_scores:
            out[j] = float(np.quantile(ref, q))
    return out


def filled_store(seed: int) -> WatchStore:
    rng = np.random.default_rng(seed)
    store = WatchStore(":memory:")
    series = list(range(100, 112))
    for k in range(120):
        if k in (30, 70):  # the watch's series change: a new layout
            series = sorted(set(series) - {int(rng.choice(series))} |
                            {int(rng.integers(200, 210))})
        layout = store.layout("w", series)
        value = rng.normal(0, 1, (1, len(series)))
        value[rng.random(value.shape) < 0.1] = np.nan      # not observed: no score
        level = rng.standard_cauchy((1, len(series)))
        level[rng.random(level.shape) < 0.05] = np.nan
        level[rng.random(level.shape) < 0.03] = np.inf
        store.add_block("w", "threshold", layout, np.array([60.0 * k]), value, level,
                        np.zeros_like(level))
    other = store.layout("other", [100, 300])   # another watch, the same detector name
    store.add_block("other", "threshold", other, np.array([1e6]), np.ones((1, 2)),
                    np.full((1, 2), 1e9), np.zeros((1, 2)))
    store.add_points([(101, "threshold", 60.0 * k + 1, 1.0, float(rng.normal()), 0.0)
                      for k in range(40)])
    return store


@pytest.mark.parametrize("q", [0.01, 0.5, 0.9, 0.999])
@pytest.mark.parametrize("since", [0.0, 60.0 * 55])
@pytest.mark.parametrize("min_scores", [1, 30])
def test_recent_quantiles_equal_the_per_series_reference(q, since, min_scores):
    store = filled_store(seed=int(q * 1000) + int(since))
    ids = [111, 100, 205, 101, 999, *range(102, 111), 300]   # 999: never stored
    got = recent_quantiles(store, ids, "threshold", since, q, min_scores)
    np.testing.assert_array_equal(got, reference(store, ids, since, q, min_scores))
    assert got[ids.index(999)] == np.inf


def test_a_hand_made_median():
    store = WatchStore(":memory:")
    layout = store.layout("w", [1, 2])
    for k, (a, b) in enumerate([(1.0, 5.0), (3.0, np.nan), (2.0, 7.0), (10.0, 6.0)]):
        store.add_block("w", "threshold", layout, np.array([float(k)]), np.ones((1, 2)),
                        np.array([[a, b]]), np.zeros((1, 2)))
    # series 1: median of 1, 3, 2, 10 = 2.5; series 2: of 5, 7, 6 = 6
    assert recent_quantiles(store, [2, 1], "threshold", 0.0, 0.5, 1).tolist() == [6.0, 2.5]
