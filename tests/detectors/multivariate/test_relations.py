"""The relation signal: each metric's residual against a ridge model of it from the others."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from kizashi.detectors.multivariate.deviation import DeviationAttribution
from kizashi.detectors.multivariate.relations import (
    fit_relations,
    held_out_residuals,
    residuals,
    ridge_weights,
)
from kizashi.state import from_json_safe, to_json_safe


def coupled(n: int, seed: int, decoupled: bool = False, noisy: float = 1.0) -> np.ndarray:
    """``x``, its near-copy ``u``, ``y = 2x`` and an unrelated ``n``.

    ``decoupled``: ``y`` is twice another series with ``x``'s distribution: the
    same range and changes, no longer following ``x``. ``noisy``: the factor on
    ``n``'s noise.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    driver = rng.normal(0, 1, n) if decoupled else x
    return np.c_[x, x + rng.normal(0, 0.05, n), 2 * driver + rng.normal(0, 0.3, n),
                 noisy * rng.normal(0, 1, n)]


@pytest.mark.parametrize("seed", range(4))
def test_a_metric_that_keeps_its_range_but_leaves_its_relation_ranks_first(seed):
    train = coupled(3000, seed)
    test = coupled(400, seed + 100, decoupled=True, noisy=1.5)
    with_relation = DeviationAttribution(relation_alpha=10.0).fit(train).deviation(test)
    without = DeviationAttribution().fit(train).deviation(test)
    assert (np.argmax(with_relation, axis=1) == 2).mean() >= 0.95
    assert (np.argmax(without, axis=1) == 2).mean() <= 0.2  # n's noisier steps lead


@pytest.mark.parametrize("alpha", [0.0, 1.0, 300.0])
def test_the_weights_are_sklearn_ridge_on_the_other_standardised_metrics(alpha):
    rng = np.random.default_rng(int(alpha))
    train = rng.normal(0, 1, (500, 4)) @ rng.normal(0, 1, (4, 4)) * [1.0, 5.0, 0.2, 3.0] + 7.0
    model = fit_relations(train, alpha)
    scaled = (train - train.mean(axis=0)) / train.std(axis=0)
    test = rng.normal(0, 2, (30, 4)) @ rng.normal(0, 1, (4, 4)) + 7.0
    for j in range(4):
        others = [k for k in range(4) if k != j]
        ridge = Ridge(alpha=alpha, fit_intercept=True).fit(scaled[:, others], scaled[:, j])
        np.testing.assert_allclose(model["weights"][j, others], ridge.coef_, atol=1e-8)
        assert model["weights"][j, j] == 0.0
        # the residual of a new row in the metric's own training spread
        predicted = train[:, j].mean() + train[:, j].std() * ridge.predict(
            (test[:, others] - train[:, others].mean(axis=0)) / train[:, others].std(axis=0))
        np.testing.assert_allclose(residuals(model, test)[:, j],
                                   (test[:, j] - predicted) / train[:, j].std(), atol=1e-8)


def test_the_held_out_residuals_come_from_the_other_halfs_weights():
    rng = np.random.default_rng(7)
    rows = rng.normal(0, 1, (301, 3)) @ rng.normal(0, 1, (3, 3))
    mean, sd = rows.mean(axis=0), rows.std(axis=0)
    held = held_out_residuals(rows, mean, sd, alpha=2.0)
    scaled = (rows - mean) / sd
    first, second = scaled[:150], scaled[150:]
    for fit_on, judge, out in ((second, first, held[:150]), (first, second, held[150:])):
        for j in range(3):
            others = [k for k in range(3) if k != j]
            coef = np.linalg.lstsq(fit_on[:, others].T @ fit_on[:, others] + 2.0 * np.eye(2),
                                   fit_on[:, others].T @ fit_on[:, j], rcond=None)[0]
            np.testing.assert_allclose(out[:, j], judge[:, j] - judge[:, others] @ coef,
                                       atol=1e-9)
    # held out, the residuals are larger than on the rows the weights were fitted on
    in_sample = scaled - scaled @ ridge_weights(scaled, 2.0).T
    assert (np.abs(held).mean(axis=0) > np.abs(in_sample).mean(axis=0)).all()


def test_ridge_weights_of_an_exact_pair_by_hand():
    # y = 2x on centred rows: x = y / 2 and y = 2x; with alpha the slope shrinks by
    # sum(x·y) / (sum(x·x) + alpha) = 2·2 / (2 + 2) = 1
    rows = np.array([[1.0, 2.0], [-1.0, -2.0]])
    np.testing.assert_allclose(ridge_weights(rows, 0.0), [[0.0, 0.5], [2.0, 0.0]])
    np.testing.assert_allclose(ridge_weights(rows, 2.0), [[0.0, 4.0 / 10.0], [1.0, 0.0]])


@pytest.mark.parametrize("cut", [1, 37, 300, 599])
def test_a_block_explained_after_its_history_equals_the_whole(cut):
    train = coupled(2000, 1)
    test = np.concatenate([coupled(250, 2), coupled(350, 3, decoupled=True)])
    attribution = DeviationAttribution(relation_alpha=10.0).fit(train)
    whole = attribution.deviation(test)
    second = attribution.deviation(test[cut:], history=np.concatenate([train, test[:cut]]))
    np.testing.assert_allclose(second, whole[cut:], rtol=1e-9, atol=1e-9)
    # and a row's deviation reads no later row
    np.testing.assert_allclose(attribution.deviation(test[:cut]), whole[:cut], rtol=1e-9,
                               atol=1e-9)


def test_the_state_survives_json_and_an_npz_without_pickle(tmp_path):
    train, test = coupled(1500, 4), coupled(100, 5, decoupled=True)
    attribution = DeviationAttribution(relation_alpha=3.0, relation_weight=0.5).fit(train)
    back = DeviationAttribution.from_state(
        from_json_safe(json.loads(json.dumps(to_json_safe(attribution.state)))))
    assert (back.relation_alpha, back.relation_weight) == (3.0, 0.5)
    np.testing.assert_array_equal(back.deviation(test), attribution.deviation(test))
    np.savez(tmp_path / "state.npz", **attribution.state)
    with np.load(tmp_path / "state.npz", allow_pickle=False) as stored:
        loaded = DeviationAttribution.from_state(dict(stored))
    np.testing.assert_array_equal(loaded.deviation(test), attribution.deviation(test))


def test_a_state_without_the_relation_signal_explains_as_before():
    train, test = coupled(1500, 6), coupled(100, 7, decoupled=True)
    plain = DeviationAttribution().fit(train)
    assert not any(key.startswith("relation") for key in plain.state)
    back = DeviationAttribution.from_state(dict(plain.state))
    assert back.relation_alpha is None
    np.testing.assert_array_equal(back.deviation(test), plain.deviation(test))


def test_missing_values_in_training_and_in_the_rows_explained():
    rng = np.random.default_rng(8)
    train = coupled(2000, 8)
    train[rng.random(train.shape) < 0.05] = np.nan
    train[:1000, 3] = np.nan  # a metric missing for half the training rows
    test = coupled(200, 9, decoupled=True)
    test[rng.random(test.shape) < 0.1] = np.nan
    attribution = DeviationAttribution(relation_alpha=10.0).fit(train)
    deviation = attribution.deviation(test)
    np.testing.assert_array_equal(np.isnan(deviation), np.isnan(test))
    seen = ~np.isnan(test[:, 2])
    assert (np.nanargmax(deviation[seen][64:], axis=1) == 2).mean() >= 0.9
    train[:, 3] = np.nan  # never seen in training: its inputs count as 0, nothing breaks
    deviation = DeviationAttribution(relation_alpha=10.0).fit(train).deviation(test)
    np.testing.assert_array_equal(np.isnan(deviation), np.isnan(test))


@pytest.mark.parametrize("bad", [{"relation_alpha": -1.0}, {"relation_alpha": float("nan")},
                                 {"relation_alpha": 1.0, "relation_weight": 0.0}])
def test_bad_relation_parameters_are_refused(bad):
    with pytest.raises(ValueError, match="relation"):
        DeviationAttribution(**bad)


def test_clipped_inputs_stop_a_far_out_predictor_from_blaming_its_followers():
    train = coupled(2000, 10)
    test = coupled(50, 11)
    test[:, 0] = 50.0  # x far above anything seen in training; y does not follow
    model = fit_relations(train, alpha=10.0)
    raw, clipped = residuals(model, test), residuals(model, test, clip=True)
    # by hand: the standardised inputs clipped to the training range, then the weights
    scaled = (test - train.mean(axis=0)) / train.std(axis=0)
    low = ((train - train.mean(axis=0)) / train.std(axis=0)).min(axis=0)
    high = ((train - train.mean(axis=0)) / train.std(axis=0)).max(axis=0)
    expected = scaled - np.clip(scaled, low, high) @ model["weights"].T
    np.testing.assert_allclose(clipped, expected, atol=1e-9)
    assert np.abs(raw[:, 2]).min() > 20 * np.abs(clipped[:, 2]).max() / 5  # y: 50σ vs ≤ range
    assert np.abs(clipped[:, 2]).max() < np.abs(scaled[:, 0] - high[0]).min()


def test_the_soft_guard_lowers_the_relation_z_by_the_predictions_own_z():
    import pandas as pd

    from kizashi.detectors.multivariate.relations import fit_relation_signal, relation_z

    # x and its copy u sit high in their range for a while; y (= 2x) does not follow
    train = coupled(1200, 12)
    test = coupled(300, 13)
    test[100:, 0] = test[100:, 1] = 2.5 + np.random.default_rng(13).normal(0, 0.05, 200)
    windows = (1, 8, 64)
    soft = fit_relation_signal(train, 10.0, windows, 1e-3, clip=True, soft=True)
    hard = dict(soft, relation_options=np.asarray([1.0, 0.0]))
    rows = np.concatenate([train[-64:], test])
    # by hand: the prediction's two signals (pandas rolling means), standardised by
    # their distribution over the held-out predictions of the training rows
    mean, sd = train.mean(axis=0), train.std(axis=0)
    held = ((train - mean) / sd) - held_out_residuals(train, mean, sd, 10.0)
    scaled = (rows - mean) / sd
    low, high = ((train - mean) / sd).min(axis=0), ((train - mean) / sd).max(axis=0)
    predicted = np.clip(scaled, low, high) @ soft["relation_weights"].T
    moved = np.full((300, 4), -np.inf)
    for window in windows:
        for signal in (lambda s, w=window: pd.DataFrame(np.abs(s)).rolling(w, 1).mean(),
                       lambda s, w=window: pd.DataFrame(s).rolling(w, 1).mean().abs()):
            reference = signal(held).to_numpy()[window - 1:]
            z = (signal(predicted).to_numpy()[64:] - reference.mean(axis=0)) \
                / np.maximum(reference.std(axis=0), 1e-3)
            moved = np.maximum(moved, z)
    np.testing.assert_allclose(relation_z(soft, rows, 64),
                               relation_z(hard, rows, 64) - np.maximum(moved, 0.0), atol=1e-6)
    assert (moved[150:, 2] > 5).all()  # y's prediction moved with x: its blame is lowered
