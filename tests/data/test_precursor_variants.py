"""Every scenario variant keeps the ground truth of the scenario: failures reach their limit
first at their failure row, after their precursor starts; nothing else ever reaches its limit."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.precursor_variants import BYTES_LIMIT, KELVIN, VARIANTS, make_variant
from kizashi.data.precursors import generate_precursors


@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_variant_keeps_the_ground_truth(name):
    scenario = make_variant(name, seed=3)
    frame = scenario.frame
    keys = frame.keys
    assert len(scenario.failures) >= 12 and len(scenario.lookalikes) >= 18
    failing = set()
    for f in scenario.failures:
        j = keys.index((f.entity, f.metric))
        failing.add(j)
        column = frame.values[:, j]
        limit = scenario.limit(f.metric)
        assert limit is not None
        with np.errstate(invalid="ignore"):
            assert f.precursor_start < f.failure and column[f.failure] >= limit
            assert not (column[:f.failure] >= limit).any()
    for j, metric in enumerate(frame.metrics):
        if j not in failing:
            with np.errstate(invalid="ignore"):
                assert not (frame.values[:, j] >= scenario.limit(metric)).any()


def test_units_and_limits_are_the_scenario_rescaled():
    base = generate_precursors(seed=4)
    for name, metric_of, value_of, limit_of in (
            ("bytes", lambda m: m.replace("_pct", "_bytes"),
             lambda v, m: v * (1e10 if m.endswith("_pct") else 1.0),
             lambda m: BYTES_LIMIT if m.endswith("_pct") else 90.0),
            ("kelvin", lambda m: m.replace("cpu_temp_c", "cpu_temp_k"),
             lambda v, m: v + KELVIN * (m == "cpu_temp_c"),
             lambda m: 90.0 + KELVIN if m == "cpu_temp_c" else 100.0),
            ("limit_85", lambda m: m, lambda v, m: v * (0.85 if m.endswith("_pct") else 1.0),
             lambda m: 85.0 if m.endswith("_pct") else 90.0)):
        variant = make_variant(name, seed=4)
        assert variant.frame.metrics == tuple(metric_of(m) for m in base.frame.metrics)
        for j, m in enumerate(base.frame.metrics):
            np.testing.assert_allclose(variant.frame.values[:, j],
                                       value_of(base.frame.values[:, j], m), rtol=1e-12)
            assert variant.limit(variant.frame.metrics[j]) == pytest.approx(limit_of(m))
        # the same failures, at the same rows
        assert [(f.entity, f.precursor_start, f.failure) for f in variant.failures] == \
            [(f.entity, f.precursor_start, f.failure) for f in base.failures]


def test_speed_variants_set_the_precursor_length():
    step_hours = 300 / 3600
    for name, lo, hi in (("fast_2h", 1.0, 3.0), ("slow_3d", 48.0, 96.0)):
        for f in make_variant(name, seed=5).failures:
            hours = (f.failure - f.precursor_start) * step_hours
            assert lo - 2 * step_hours <= hours <= hi + step_hours, (name, f.kind, hours)


def test_gaps_drop_rows_and_values():
    base, gaps = generate_precursors(seed=6), make_variant("gaps", seed=6)
    dropped = base.frame.n_times - gaps.frame.n_times
    assert 3 * 12 <= dropped <= 3 * 36  # three stretches of 1–3 h of 5-minute rows
    assert 0.01 < np.isnan(gaps.frame.values).mean() < 0.03
    assert np.isin(gaps.frame.timestamps, base.frame.timestamps).all()


def test_unknown_variants_are_refused():
    with pytest.raises(ValueError, match="unknown scenario variant 'weekly'; known: default"):
        make_variant("weekly")


def test_precursor_hours_must_be_an_ordered_positive_pair():
    for bad in ((0.0, 2.0), (5.0, 3.0), (-1.0, 1.0)):
        with pytest.raises(ValueError, match="precursor_hours"):
            generate_precursors(seed=0, days=4, precursor_hours=bad)


def test_silent_stretches_blank_each_series_but_keep_the_rows():
    base, silent = generate_precursors(seed=8), make_variant("silent_3x", seed=8)
    assert silent.frame.n_times == base.frame.n_times
    blank = np.isnan(silent.frame.values)
    # 3 stretches of 12–36 five-minute rows per series (fewer where two overlap)
    assert ((blank.sum(axis=0) >= 12) & (blank.sum(axis=0) <= 3 * 36)).all()
    np.testing.assert_array_equal(silent.frame.values[~blank], base.frame.values[~blank])
