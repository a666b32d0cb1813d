"""The range rule of Numenta's NAB detector, on hand-computed sequences."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.registry import create
from kizashi.detectors.threshold.range_rule import RangeRule
from kizashi.testing import conformance


def test_numentas_rule_by_hand():
    values = [0.0, 20.0, 21.0, 22.5, -1.0, -2.2, 10.0, np.nan, 30.0]
    # 0: nothing seen. 20: range still 0. 21: range 20, tolerance 1, 21 is not > 21.
    # 22.5: range 21, > 21 + 1.05. -1: range 22.5, not < -1.125. -2.2: range 23.5,
    # < -1 - 1.175. 10: inside. NaN: NaN. 30: range 24.7, > 22.5 + 1.235.
    expected = [0, 0, 0, 1, 0, 1, 0, np.nan, 1]
    np.testing.assert_array_equal(RangeRule().score(values), expected)
    detector = RangeRule()
    np.testing.assert_array_equal([detector.update(v) for v in values], expected)
    assert detector.state_["low"][0] == -2.2 and detector.state_["high"][0] == 30.0


def test_zero_tolerance_fires_on_any_new_extreme():
    assert RangeRule(tolerance=0.0).score([0.0, 1.0, 1.0, 1.5, 0.5]).tolist() == \
        [0.0, 0.0, 0.0, 1.0, 0.0]


def test_forgetting_by_hand():
    values = [0.0, 10.0, 5.0, 5.0, 5.0, 8.0]
    # halflife 1: the gaps between the value and the envelope halve at every step.
    # After 10: low = 10 + (0 - 10) / 2 = 5, high = 10. After the 5s: high 7.5, 6.25,
    # 5.625, low 5. Then 8 > 5.625 + 0.05 * 0.625: fires; high becomes 8 and low
    # 8 + (5 - 8) / 2 = 6.5. Without forgetting the range stays [0, 10], 8 is inside.
    assert RangeRule(halflife=1.0).score(values).tolist() == [0, 0, 0, 0, 0, 1]
    assert RangeRule().score(values).tolist() == [0, 0, 0, 0, 0, 0]
    detector = RangeRule(halflife=1.0)
    detector.update_many(values)
    assert detector.state_["low"][0] == 6.5 and detector.state_["high"][0] == 8.0


def test_min_periods_holds_scores_back_but_learns():
    detector = RangeRule(min_periods=3)
    assert detector.n_warmup == 3
    # 20 leaves [0, 10] but is only the third value; 30 leaves [0, 20] by more than 1.
    assert detector.score([0.0, 10.0, 20.0, 30.0]).tolist() == [0, 0, 0, 1]


@pytest.mark.parametrize("halflife", [None, 7.0])
def test_series_are_independent_and_batch_equals_streaming(halflife):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(300, 4)).cumsum(axis=0)
    values[rng.random(values.shape) < 0.1] = np.nan
    batch = RangeRule(halflife=halflife)
    stream = RangeRule(halflife=halflife)
    scores = batch.update_many(values)
    np.testing.assert_array_equal(scores, [stream.update(row) for row in values])
    for key in ("low", "high", "count"):
        np.testing.assert_array_equal(batch.state_[key], stream.state_[key])
    for s in range(values.shape[1]):
        np.testing.assert_array_equal(RangeRule(halflife=halflife).score(values[:, s]),
                                      scores[:, s])
    assert np.nansum(scores) > 0


@pytest.mark.parametrize("check", [c for c in conformance.CHECKS
                                   if c is not conformance.check_better_than_chance],
                         ids=lambda c: c.__name__)
def test_numentas_rule_keeps_the_contract(check, monkeypatch):
    # The registry's conformance run uses a forgetting envelope (the spike check's
    # training spikes would otherwise widen the range for good); check the vectorised
    # Numenta rule, the default, against the rest of the contract here.
    monkeypatch.setattr(RangeRule, "conformance_params", {})
    check("range_rule")


def test_registry_and_defaults():
    detector = create("range_rule")
    assert isinstance(detector, RangeRule)
    assert detector.get_params() == {"tolerance": 0.05, "halflife": None, "min_periods": 0,
                                     "max_growth": 10.0}
    assert detector.default_threshold == 0.5 and detector.n_warmup == 0


@pytest.mark.parametrize("params", [{"tolerance": -0.1}, {"tolerance": float("nan")},
                                    {"halflife": 0.0}, {"min_periods": -1},
                                    {"min_periods": 1.5}])
def test_bad_parameters(params):
    with pytest.raises(ValueError, match="range_rule"):
        RangeRule(**params).score([1.0, 2.0])


def test_one_absurd_value_widens_the_range_only_so_far():
    # noise in [-1, 1]; then 1e308; later a value 50 above the noise must still fire
    values = np.r_[np.tile([-1.0, 1.0], 50), 1e308, np.zeros(20), 50.0]
    limited = RangeRule().score(values)
    # the range grew to [-1, 1 + 10·2 = 21]: 50 lies beyond it by more than 5 % of 22
    assert limited[100] == 1.0 and limited[-1] == 1.0
    assert RangeRule().score(np.r_[values[:-1], 22.0])[-1] == 0.0  # 22 < 21 + 1.1
    numenta = RangeRule(max_growth=None).score(np.r_[values[:-1], 1e300])
    assert numenta[-1] == 0.0  # Numenta's rule: blind after 1e308
    # block scoring equals step by step around the absurd value
    detector = RangeRule()
    np.testing.assert_array_equal([detector.update(v) for v in values], limited)
