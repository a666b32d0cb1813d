"""The counter families are what they say: counts that never fall but at their restarts,
odd counters, and gauges that fall (the third leaving its band where it says)."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.counter_families import (
    DAY,
    LEAVING,
    named_gauges,
    odd_totals,
    restarting_bytes,
    sparse_errors,
)

N = 6 * DAY


@pytest.mark.parametrize("seed", range(5))
def test_counts_fall_only_at_their_restarts(seed):
    errors = sparse_errors(N, seed)
    assert np.all(np.diff(errors) >= 0) and np.all(errors == np.round(errors))
    assert np.diff(errors).astype(bool).sum() < N / 4  # sparse: rises at few steps
    for restarted in (sparse_errors(N, seed, resets=True), restarting_bytes(N, seed)):
        falls = np.flatnonzero(np.diff(restarted) < 0) + 1
        assert falls.size <= 4 and np.all(falls >= DAY)
        assert np.all(restarted[falls] <= restarted[falls - 1])


@pytest.mark.parametrize("seed", range(3))
def test_odd_totals_and_named_gauges(seed):
    odd = odd_totals(N, seed)
    assert np.isnan(odd[:DAY, 5]).all() and np.isfinite(odd[DAY:, 5]).mean() > 0.85
    assert (odd[:, 4] == 0).all() and np.ptp(odd[:, 3]) == 0
    assert (np.diff(odd[:, 2]) < 0).sum() > 0  # the CPU counter steps back now and then
    gauges = named_gauges(N, seed)
    assert (np.diff(gauges, axis=0) < 0).mean(axis=0).min() > 0.3  # gauges fall often
    before = gauges[LEAVING[0] - 12:LEAVING[0], 2].mean()
    assert gauges[LEAVING[0] + 36:LEAVING[1], 2].mean() > before + 150
