"""The families of failures and look-alikes: each failure reaches its limit first at its
failure row, each look-alike never does (the spike only at its one row), seeded."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.precursor_families import (
    FAILURE_FAMILIES,
    LOOKALIKE_FAMILIES,
    generate_families,
    make_family_series,
)


@pytest.fixture(scope="module", params=[0, 1, 2])
def scenario(request):
    return generate_families(seed=request.param)


def _column(scenario, entity, metric):
    return scenario.frame.values[:, scenario.frame.keys.index((entity, metric))]


def test_every_family_is_there(scenario):
    kinds = [f.kind for f in scenario.failures] + [k for _, _, k in scenario.lookalikes]
    for family in (*FAILURE_FAMILIES, *LOOKALIKE_FAMILIES):
        assert kinds.count(family) == 3


def test_failures_reach_their_limit_first_at_the_failure_row(scenario):
    for f in scenario.failures:
        values, limit = _column(scenario, f.entity, f.metric), scenario.limit(f.metric)
        assert values[f.failure] >= limit, f
        assert np.all(values[:f.failure] < limit), f
        assert f.failure - f.precursor_start >= 12, f  # at least an hour of precursor


def test_lookalikes_never_reach_their_limit_but_the_one_spike(scenario):
    spikes = {(e, m): row for e, m, row in scenario.spikes}
    for entity, metric, kind in scenario.lookalikes:
        values, limit = _column(scenario, entity, metric), scenario.limit(metric)
        if kind == "counter":
            assert limit is None and np.all(np.diff(values) >= 0)
            continue
        over = np.flatnonzero(values >= limit)
        expected = [spikes[(entity, metric)]] if kind == "outlier_spike" else []
        assert over.tolist() == expected, (entity, kind)


def test_shares_stay_in_zero_one_and_sawtooth_peaks_sit_high(scenario):
    for entity, metric, kind in scenario.lookalikes:
        values = _column(scenario, entity, metric)
        if kind == "fraction_steady":
            assert 0.8 < values.min() and values.max() < 0.95
        if kind == "sawtooth_under":  # every day's highest value is 92–99.5 %
            days = values[: values.size // 288 * 288].reshape(-1, 288).max(axis=1)
            assert np.all((days > 92) & (days < 99.6)), days


def test_deterministic_in_the_seed():
    a, b = make_family_series("gc_leak", 2304, seed=5), make_family_series("gc_leak", 2304,
                                                                            seed=5)
    assert a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2] == b[2]
    c = make_family_series("gc_leak", 2304, seed=6)
    assert not np.array_equal(a[1], c[1])
    with pytest.raises(ValueError, match="unknown scenario family"):
        make_family_series("nope", 10)


def test_irregular_sampling_keeps_the_truth():
    regular, irregular = generate_families(seed=4), generate_families(seed=4, irregular=True)
    stamps = irregular.frame.timestamps.astype(np.int64) / 1e9
    gaps = np.diff(stamps)
    assert np.all(gaps > 0) and gaps.min() < 300 * 0.7 and gaps.max() > 300 * 1.5
    assert irregular.frame.n_times < regular.frame.n_times
    for f in irregular.failures:
        values, limit = _column(irregular, f.entity, f.metric), irregular.limit(f.metric)
        assert values[f.failure] >= limit and np.all(values[:f.failure] < limit)
    for entity, metric, row in irregular.spikes:
        assert _column(irregular, entity, metric)[row] > 100
