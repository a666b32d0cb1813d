"""DeviationAttribution: hand-made cases whose true cause is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kizashi.detectors.multivariate.deviation import DeviationAttribution, trailing_means
from kizashi.detectors.multivariate.trailing import trailing_max


def gaussian(n: int, k: int, seed: int, scales: np.ndarray | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, (n, k)) * (np.ones(k) if scales is None else scales)


@pytest.mark.parametrize("window", [1, 2, 7, 64])
def test_trailing_means_equal_pandas_rolling_means(window):
    rng = np.random.default_rng(window)
    signal = rng.normal(0, 1, (300, 3))
    signal[rng.random((300, 3)) < 0.1] = np.nan
    expected = pd.DataFrame(signal).rolling(window, min_periods=1).mean().to_numpy()
    np.testing.assert_allclose(trailing_means(signal, window), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cause", range(5))
@pytest.mark.parametrize("kind", ["shift", "spike", "drop"])
def test_the_metric_that_moved_ranks_first(cause, kind):
    train = gaussian(3000, 5, seed=cause)
    test = gaussian(600, 5, seed=10 + cause)
    if kind == "shift":
        test[400:, cause] += 5.0
        rows = np.arange(400, 600)
    elif kind == "spike":
        test[450, cause] += 12.0
        rows = np.array([450])
    else:
        test[400:, cause] -= 5.0
        rows = np.arange(400, 600)
    deviation = DeviationAttribution().fit(train).deviation(test)
    assert (np.argmax(deviation[rows], axis=1) == cause).all()


@pytest.mark.parametrize("noise", [3.0, 30.0, 3000.0])
def test_a_quiet_metric_that_moves_outranks_a_noisy_one_moving_as_much(noise):
    # the same absolute move (5 units) is 5 σ for the quiet metric, little for the noisy
    scales = np.array([noise, 1.0])
    train, test = gaussian(3000, 2, 0, scales), gaussian(300, 2, 1, scales)
    test[200:] += 5.0
    deviation = DeviationAttribution().fit(train).deviation(test)
    assert (deviation[200:, 1] > deviation[200:, 0]).all()


@pytest.mark.parametrize("every", [3, 5, 10, 20])
def test_a_metric_that_starts_spiking_is_blamed_between_its_spikes(every):
    # metric 1 is almost always 0 in training; from step 200 it spikes every `every` steps,
    # and is 0 again in between, where metric 0 (larger values, normal noise) is not unusual
    rng = np.random.default_rng(every)
    train = np.c_[rng.normal(50, 5, 4000), (rng.random(4000) < 0.001) * 1.0]
    test = np.c_[rng.normal(50, 5, 600), np.zeros(600)]
    test[200::every, 1] = 1.0
    deviation = DeviationAttribution().fit(train).deviation(test)
    between = np.arange(260, 600)
    between = between[test[between, 1] == 0]
    assert (deviation[between, 1] > deviation[between, 0]).all()


@pytest.mark.parametrize("factor", [4.0, 8.0])
def test_a_metric_that_starts_jumping_about_its_median_is_blamed(factor):
    # metric 2 keeps its level and range but changes much faster: the change signal sees it
    train = gaussian(4000, 3, 5)
    train[:, 2] = np.sin(np.arange(4000) / 50.0)
    test = gaussian(800, 3, 6)
    test[:, 2] = np.sin(np.arange(800) / 50.0)
    test[500:, 2] = np.sin(np.arange(300) * factor / 5.0)  # same range, much faster
    deviation = DeviationAttribution().fit(train).deviation(test)
    assert (np.argmax(deviation[520:], axis=1) == 2).mean() > 0.95


def test_shares_sum_to_one_and_a_missing_metric_is_nan():
    train, test = gaussian(2000, 4, 0), gaussian(200, 4, 1)
    test[50:60, 3] = np.nan
    test[100:, 0] += 6.0
    shares = DeviationAttribution().fit(train).shares(test)
    assert np.isnan(shares[50:60, 3]).all() and np.isfinite(shares[:50]).all()
    np.testing.assert_allclose(np.nansum(shares, axis=1), 1.0)
    assert (shares >= 0).sum() == np.isfinite(shares).sum()


@pytest.mark.parametrize("cut", [1, 37, 300, 599])
def test_a_block_explained_after_its_history_equals_the_whole(cut):
    train, test = gaussian(2000, 3, 2), gaussian(600, 3, 3)
    test[250:, 1] += 4.0
    attribution = DeviationAttribution().fit(train)
    whole = attribution.deviation(test)
    second = attribution.deviation(test[cut:], history=np.concatenate([train, test[:cut]]))
    np.testing.assert_allclose(second, whole[cut:], rtol=1e-9, atol=1e-9)


def test_a_metric_constant_in_training_does_not_divide_by_zero():
    train = np.c_[gaussian(1000, 1, 0), np.full(1000, 7.0)]
    test = np.c_[gaussian(100, 1, 1), np.full(100, 7.0)]
    test[60:, 1] = 7.5
    deviation = DeviationAttribution().fit(train).deviation(test)
    assert np.isfinite(deviation).all()
    assert (np.argmax(deviation[60:], axis=1) == 1).all()


def test_the_stored_state_survives_a_json_round_trip():
    import json

    from kizashi.state import from_json_safe, to_json_safe

    train, test = gaussian(1500, 3, 4), gaussian(100, 3, 5)
    attribution = DeviationAttribution().fit(train)
    back = DeviationAttribution.from_state(
        from_json_safe(json.loads(json.dumps(to_json_safe(attribution.state)))))
    np.testing.assert_array_equal(back.deviation(test), attribution.deviation(test))


@pytest.mark.parametrize("bad", [{"windows": ()}, {"windows": (0, 4)}, {"min_std": 0.0},
                                 {"memory": 0}, {"memory": 2.5}, {"recall": 0.0},
                                 {"recall": 1.5}, {"clone_corr": 0.0}, {"clone_factor": -0.1},
                                 {"clone_factor": float("nan")}, {"clone_pair_factor": -0.1},
                                 {"clone_pair_factor": 1.5},
                                 {"clone_pair_factor": float("nan")},
                                 {"min_std": float("nan")}])
def test_bad_parameters_are_refused(bad):
    with pytest.raises(ValueError, match="deviation"):
        DeviationAttribution(**bad)


@pytest.mark.parametrize("memory, recall", [(8, 1.0), (64, 1.0), (64, 0.5), (100, 0.3)])
def test_the_memory_is_the_rolling_maximum_of_the_rows_own_deviations(memory, recall):
    # metric 0 moves for 10 steps only; with a memory it stays to blame afterwards: the
    # larger of its own deviation and `recall` × its largest over the last `memory` rows
    train, test = gaussian(3000, 3, 7), gaussian(400, 3, 8)
    test[100:110, 0] += 8.0
    test[200:205, 2] = np.nan
    own = DeviationAttribution(lag=0, clone_factor=1.0).fit(train).deviation(test)
    held = DeviationAttribution(lag=0, clone_factor=1.0, memory=memory, recall=recall
                                ).fit(train).deviation(test)
    # the rows before the test come from the training rows' end: judge from `memory` on
    rolling = pd.DataFrame(own).rolling(memory, min_periods=1).max().to_numpy()
    expected = np.where(np.isnan(test), np.nan, np.fmax(own, recall * rolling))
    np.testing.assert_allclose(held[memory:], expected[memory:], rtol=1e-12)
    if recall == 1.0:
        assert (np.argmax(held[110:100 + memory], axis=1) == 0).all()


@pytest.mark.parametrize("cut", [1, 37, 300])
def test_a_block_explained_after_its_history_equals_the_whole_with_a_memory(cut):
    train, test = gaussian(2000, 3, 2), gaussian(600, 3, 3)
    test[250:260, 1] += 4.0
    attribution = DeviationAttribution(memory=50, recall=0.5).fit(train)
    whole = attribution.deviation(test)
    second = attribution.deviation(test[cut:], history=np.concatenate([train, test[:cut]]))
    np.testing.assert_allclose(second, whole[cut:], rtol=1e-9, atol=1e-9)


def test_a_state_saved_before_the_memory_and_clones_explains_as_then():
    # a model fitted before these options existed has no "memory", "clones" or "groups":
    # it is read back as memory 1 with no clone discount
    rng = np.random.default_rng(9)
    base = rng.normal(0, 1, 2500)
    train = np.c_[base, base * 3.0, rng.normal(0, 1, 2500)]
    test = np.c_[base[:300], base[:300] * 3.0, rng.normal(0, 1, 300)]
    test[150:, :2] += 6.0
    fitted = DeviationAttribution(lag=0).fit(train)
    old = {key: value for key, value in fitted.state.items()
           if key not in ("memory", "clones", "groups")}
    back = DeviationAttribution.from_state(old)
    assert (back.memory, back.clone_factor) == (1, 1.0)
    plain = DeviationAttribution(lag=0, clone_factor=1.0, clone_pair_factor=1.0
                                 ).fit(train).deviation(test)
    np.testing.assert_array_equal(back.deviation(test), plain)
    assert not np.array_equal(fitted.deviation(test), plain)  # the clones are discounted now


@pytest.mark.parametrize("window", [1, 2, 3, 7, 64, 100, 513])
def test_trailing_max_equals_pandas_rolling_max(window):
    rng = np.random.default_rng(window)
    signal = rng.normal(0, 1, (700, 3))
    signal[rng.random((700, 3)) < 0.15] = np.nan
    expected = pd.DataFrame(signal).rolling(window, min_periods=1).max().to_numpy()
    np.testing.assert_array_equal(trailing_max(signal, window), expected)


def pair_rows(seed: int, n: int) -> np.ndarray:
    """Rows whose metrics 0 and 1 are a clone pair (2 = 3 × 0 + noise), 2 independent."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 1, n)
    return np.c_[base, 3.0 * base + rng.normal(0, 0.05, n), rng.normal(0, 1, n)]


def test_the_pair_factor_streams_and_survives_the_json_round_trip():
    train, test = pair_rows(11, 2500), pair_rows(12, 400)
    test[150:, :2] += np.array([5.0, 15.0])
    test[150:, 2] += 4.0
    attribution = DeviationAttribution(lag=0).fit(train)
    assert attribution.state["groups"].tolist() == [0, 0, 2]
    whole = attribution.deviation(test)
    # the pair's second member is discounted by 0.8 only, against no discount at all
    plain = DeviationAttribution(lag=0, clone_factor=1.0, clone_pair_factor=1.0
                                 ).fit(train).deviation(test)
    second = np.where(plain[:, 0] >= plain[:, 1], 1, 0)
    rows = np.arange(len(test))
    np.testing.assert_allclose(whole[rows, second],
                               np.where(plain[rows, second] > 0, 0.8, 1.0)
                               * plain[rows, second], rtol=1e-12)
    # streaming: blocks, each with the rows before it, equal the whole
    pieces, history = [], train
    for block in np.array_split(test, [1, 37, 200]):
        pieces.append(attribution.deviation(block, history=history))
        history = np.concatenate([history, block])
    np.testing.assert_allclose(np.concatenate(pieces), whole, rtol=1e-9, atol=1e-9)
    import json

    from kizashi.state import from_json_safe, to_json_safe

    back = DeviationAttribution.from_state(
        from_json_safe(json.loads(json.dumps(to_json_safe(attribution.state)))))
    assert back.clone_pair_factor == 0.8
    np.testing.assert_array_equal(back.deviation(test), whole)


def test_a_state_saved_before_the_pair_factor_discounts_pairs_as_then():
    # the clones' entry held [corr, factor] only: pairs are discounted by the factor
    train, test = pair_rows(13, 2500), pair_rows(14, 300)
    test[100:, :2] += np.array([6.0, 18.0])
    state = dict(DeviationAttribution(lag=0).fit(train).state)
    state["clones"] = state["clones"][:2]
    back = DeviationAttribution.from_state(state)
    assert back.clone_pair_factor == back.clone_factor == 0.3
    then = DeviationAttribution(lag=0, clone_pair_factor=None).fit(train).deviation(test)
    np.testing.assert_array_equal(back.deviation(test), then)
