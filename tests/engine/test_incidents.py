"""``incidents`` (every series' runs at once) equals a per-series loop over each run.

The reference walks each series' active flags step by step and takes the
largest non-NaN level of each run. Families: runs at the first and last
step, single-step runs, a series active throughout, none active, NaN and inf
levels, runs whose levels are all NaN, one series and many.
"""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.engine.batch import incidents


def reference(active: np.ndarray, levels: np.ndarray | None) -> list[tuple]:
    out = []
    n_time, n_series = active.shape
    for j in range(n_series):
        k = 0
        while k < n_time:
            if not active[k, j]:
                k += 1
                continue
            start = k
            while k < n_time and active[k, j]:
                k += 1
            peak = np.nan
            if levels is not None:
                seen = [v for v in levels[start:k, j] if not np.isnan(v)]
                peak = max(seen) if seen else np.nan
            out.append((j, start, k - 1, peak))
    return sorted(out, key=lambda r: (r[1], r[0]))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("n_series", [1, 5])
def test_incidents_equal_a_loop_over_each_run(seed, n_series):
    rng = np.random.default_rng(seed)
    n_time = int(rng.integers(1, 60))
    active = rng.random((n_time, n_series)) < rng.uniform(0.1, 0.9)
    if n_series > 1:
        active[:, 0] = True           # active throughout
        active[:, 1] = False          # never
    levels = rng.normal(0, 3, (n_time, n_series))
    levels[rng.random(levels.shape) < 0.3] = np.nan
    levels[rng.random(levels.shape) < 0.05] = np.inf
    for given in (levels, None):
        got = [(i.series, i.start, i.end, i.peak) for i in incidents(active, given)]
        want = reference(active, given)
        assert [g[:3] for g in got] == [w[:3] for w in want]
        np.testing.assert_array_equal([g[3] for g in got], [w[3] for w in want])


def test_a_hand_made_case():
    active = np.array([[1, 0], [1, 1], [0, 1], [1, 0]], dtype=bool)
    levels = np.array([[2.0, np.nan], [5.0, np.nan], [9.0, np.nan], [1.0, 0.0]])
    got = [(i.series, i.start, i.end, i.peak) for i in incidents(active, levels)]
    # in time order: series 0 rows 0–1 (peak 5), series 1 rows 1–2 (no level), series 0 row 3
    assert got[0] == (0, 0, 1, 5.0) and got[2] == (0, 3, 3, 1.0)
    assert got[1][:3] == (1, 1, 2) and np.isnan(got[1][3])


@pytest.mark.parametrize("n_series", [1, 2, 9, 33])
@pytest.mark.parametrize("density", [0.002, 0.05, 0.5, 0.97])
def test_long_sparse_and_dense_flags_equal_the_loop(n_series, density):
    """Lengths around multiples of 8 rows (the one-series walk skips unset rows a 64-bit
    word at a time) and runs across word edges; many series (runs opened and closed only
    where a row differs from the one before): sparse, dense and all-set flags."""
    rng = np.random.default_rng(int(density * 1000) + n_series)
    for n_time in (1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 200, 1031):
        starts = rng.random((n_time, n_series)) < density
        lengths = rng.integers(1, 12, (n_time, n_series))
        active = np.zeros((n_time, n_series), dtype=bool)
        for k, j in zip(*np.nonzero(starts), strict=True):
            active[k:k + lengths[k, j], j] = True
        if n_series > 1:
            active[:, -1] = True  # set throughout
        levels = rng.normal(0, 3, (n_time, n_series))
        levels[rng.random(levels.shape) < 0.2] = np.nan
        for given in (levels, None):
            got = [(i.series, i.start, i.end, i.peak) for i in incidents(active, given)]
            want = reference(active, given)
            assert [g[:3] for g in got] == [w[:3] for w in want]
            np.testing.assert_array_equal([g[3] for g in got], [w[3] for w in want])
