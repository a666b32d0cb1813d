"""The ``cnn`` detector and the deep detectors' normaliser and aggregation options."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kizashi.detectors.deep.network_detector import INPUT_CLIP, fixed_scores  # noqa: E402
from kizashi.detectors.deep.normaliser_kernel import normalise_block  # noqa: E402
from kizashi.detectors.registry import create, get_class  # noqa: E402
from kizashi.state import from_json_safe, to_json_safe  # noqa: E402
from kizashi.streaming.robust import MAX_SCORE  # noqa: E402
from kizashi.testing import conformance  # noqa: E402

SMALL = {"window": 8, "channels": 8, "layers": 2, "epochs": 3, "batch_size": 32, "lr": 0.01,
         "device": "cpu"}


def sines(n=500, width=4, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    return np.sin(t / 6 + np.arange(width)) + rng.normal(0, 0.05, (n, width))


def test_metric_to_blame_is_the_broken_one():
    values = sines(600)
    values[550, 1] += 2.5
    detector = create("cnn", **{**SMALL, "epochs": 20}).fit(values[:400])
    out = detector.explain(values[400:])
    assert int(np.nanargmax(out.score[:, 0])) == 150
    assert int(np.argmax(out.attribution[150])) == 1
    np.testing.assert_allclose(np.nansum(out.attribution[150]), 1.0)


def test_cumulative_normaliser_holds_the_plain_moments_of_the_training_errors():
    """Reference: forecast every training row with the network itself, in float64."""
    from kizashi.dl.cnn_forecaster import CnnForecaster

    values = sines(300)
    detector = create("cnn", **SMALL, normaliser="cumulative").fit(values)
    state = detector.state_
    net = CnnForecaster(n_features=4, window=8, channels=8, layers=2)
    net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state["weights"].items()})
    z = (values - values.mean(axis=0)) / values.std(axis=0)
    inputs = np.lib.stride_tricks.sliding_window_view(np.clip(z, -INPUT_CLIP, INPUT_CLIP),
                                                      8, axis=0).transpose(0, 2, 1)[:-1]
    with torch.no_grad():
        forecast = net.double()(torch.from_numpy(np.ascontiguousarray(inputs))).numpy()
    errors = np.abs(z[8:] - forecast)  # rows 8.. have a full window before them
    np.testing.assert_allclose(state["errors"]["mean"], errors.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(state["errors"]["var"], errors.var(axis=0), rtol=1e-6)
    np.testing.assert_allclose(state["errors"]["weight"], len(errors))


@pytest.mark.parametrize("name", ["cnn", "lstm", "autoencoder"])
def test_fixed_normaliser_learns_nothing_after_fit(name):
    values = sines(400, width=3)
    values[300:] += 4.0  # a long level shift: a learning normaliser would get used to it
    params = {**get_class(name).conformance_params, "normaliser": "fixed"}
    detector = create(name, **params).fit(values[:250])
    moments = {k: np.array(v) for k, v in detector.state_["errors"].items()}
    scores = detector.update_many(values[250:])
    for key, value in moments.items():
        np.testing.assert_array_equal(detector.state_["errors"][key], value)
    # learning nothing, the shift's last rows score as high as its first ones
    level = scores.reshape(150, -1).mean(axis=1)
    assert level[-20:].mean() > 0.5 * level[55:75].mean() > 0


def test_discounted_normaliser_forgets_a_long_shift():
    values = sines(700, width=3)
    values[300:] += 4.0
    params = {**SMALL, "normaliser": "discounted", "halflife": 20.0}
    scores = create("cnn", **params).fit(values[:250]).update_many(values[250:])
    assert scores[-50:].mean() < 0.2 * scores[55:60].mean()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cnn", "autoencoder", "lstm"])
@pytest.mark.parametrize("normaliser", ["discounted", "cumulative", "fixed"])
def test_batch_streaming_and_restored_agree_for_every_option(name, normaliser):
    params = {**get_class(name).conformance_params, "normaliser": normaliser}
    aggregates = [None] if name == "lstm" else ["mean", "l2", "max"]
    values, _, stamps = conformance.sample_data()
    train, test = values[:conformance.N_TRAIN], values[conformance.N_TRAIN:]
    test[37] = np.nan
    for aggregate in aggregates:
        full = params if aggregate is None else {**params, "aggregate": aggregate}
        detector = create(name, **full).fit(train)
        batch = detector.score(test)
        streamed = conformance.stream(detector.clone().load_state_dict(detector.state_dict()),
                                      test, stamps[conformance.N_TRAIN:])
        np.testing.assert_allclose(streamed.reshape(batch.shape), batch, rtol=1e-9,
                                   atol=1e-12, equal_nan=True)
        half = len(test) // 2
        detector.update_many(test[:half])
        saved = json.dumps(to_json_safe(detector.state_dict()))
        resumed = create(name, **full).load_state_dict(from_json_safe(json.loads(saved)))
        np.testing.assert_array_equal(resumed.update_many(test[half:]).reshape(-1),
                                      batch[half:].reshape(-1))


def test_aggregates_order_rows_alike_for_the_same_network():
    """Per row, mean ≤ l2 (root mean square of positive parts) ≤ max(max, 0)."""
    values = sines(500)
    values[450:460, 2] += 3.0
    scores = {how: create("cnn", **SMALL, aggregate=how).fit(values[:300]).score(values[300:])
              for how in ("mean", "l2", "max")}
    assert (scores["mean"] <= scores["l2"] + 1e-12).all()
    assert (scores["l2"] <= np.maximum(scores["max"], 0.0) + 1e-12).all()
    assert (scores["max"] > scores["mean"]).any()


def test_autoencoder_per_metric_aggregate_keeps_a_normaliser_per_metric():
    values = sines(300, width=5)
    pooled = create("autoencoder", **get_class("autoencoder").conformance_params)
    per_metric = create("autoencoder", **{**pooled.get_params(), "aggregate": "l2"})
    assert pooled.fit(values).state_["errors"]["mean"].shape == (1,)
    assert per_metric.fit(values).state_["errors"]["mean"].shape == (5,)


@pytest.mark.parametrize(("name", "param", "value"), [
    ("cnn", "normaliser", "forget"), ("cnn", "aggregate", "median"),
    ("lstm", "normaliser", "none"), ("autoencoder", "aggregate", "sum")])
def test_unknown_options_are_one_line_errors(name, param, value):
    with pytest.raises(ValueError, match=f"unknown {param} {value!r}"):
        create(name, **{param: value, "device": "cpu"}).reset(3)


def test_fixed_scores_are_the_kernels_score_before_learning():
    """One kernel step scores against the moments it is given, then learns: its score
    is what fixed_scores gives for the same moments (a family of moments and errors)."""
    rng = np.random.default_rng(1)
    mean = np.r_[rng.normal(0, 3, 40), 0.0, 1e200, -5.0]
    var = np.r_[rng.uniform(0, 4, 40), 0.0, 1e300, 1e-30]
    error = np.r_[rng.normal(0, 5, 40), 1e-12, np.inf, np.nan][None, :]
    ready = np.r_[rng.random(40) < 0.8, True, True, True][None, :]
    out = np.empty(error.shape)
    normalise_block(error, ready, mean.copy(), var.copy(), np.full(43, 50.0), 0.99, 10.0,
                    10.0, MAX_SCORE, out)
    np.testing.assert_array_equal(fixed_scores(error, ready, mean, var), out)


@pytest.mark.parametrize("backend", ["float32", "onnx", "quantized"])
def test_fast_backends_stay_close_to_the_exact_scores(backend):
    from kizashi.dl.inference import (
        FLOAT32_SCORE_TOLERANCE,
        QUANTIZED_SCORE_TOLERANCE,
        onnx_available,
    )

    if backend == "onnx" and not onnx_available():
        pytest.skip("onnxruntime is not installed (extra [fast])")
    values = sines(2300, width=6)
    exact = create("cnn", **SMALL, backend="eager").fit(values[:300])
    fast = create("cnn", **{**exact.get_params(), "backend": backend})
    fast.load_state_dict(exact.state_dict())
    tolerance = QUANTIZED_SCORE_TOLERANCE if backend == "quantized" else FLOAT32_SCORE_TOLERANCE
    np.testing.assert_allclose(fast.score(values[300:]), exact.score(values[300:]), rtol=0,
                               atol=tolerance)


def test_detector_from_a_kizashi_train_folder(tmp_path):
    from kizashi.detectors.deep.cnn_detector import CnnDetector
    from kizashi.dl.config import RunConfig
    from kizashi.dl.experiment import load_values, train_from_config

    config = RunConfig.from_dict({
        "epochs": 2, "batch_size": 32, "device": "cpu", "progress": False, "checkpoint_every": 0,
        "data": {"source": "synthetic", "n": 300, "n_series": 3},
        "model": {"name": "cnn", "window": 6, "channels": 8, "layers": 2}})
    train_from_config(config, tmp_path)
    values = load_values(config.data)
    detector = CnnDetector.from_trained(tmp_path, values, aggregate="max")
    assert (detector.window, detector.channels, detector.layers, detector.aggregate) == \
        (6, 8, 2, "max")
    probe = values[:40] + np.r_[np.zeros(39), 30.0][:, None]
    assert int(np.argmax(detector.score(probe))) == 39


def test_fixed_normaliser_without_training_errors_learns_as_cumulative(tmp_path):
    """A watch installs a trained model on no rows: nothing to keep, so it learns."""
    from kizashi.detectors.deep.cnn_detector import CnnDetector
    from kizashi.dl.config import RunConfig
    from kizashi.dl.experiment import train_from_config

    config = RunConfig.from_dict({
        "epochs": 1, "batch_size": 32, "device": "cpu", "progress": False, "checkpoint_every": 0,
        "data": {"source": "synthetic", "n": 200, "n_series": 2},
        "model": {"name": "cnn", "window": 4, "channels": 4, "layers": 1}})
    train_from_config(config, tmp_path)
    probe = sines(60, width=2)
    fixed = CnnDetector.from_trained(tmp_path, np.zeros((0, 2)), normaliser="fixed")
    cumulative = CnnDetector.from_trained(tmp_path, np.zeros((0, 2)), normaliser="cumulative")
    np.testing.assert_array_equal(fixed.update_many(probe), cumulative.update_many(probe))
    assert (fixed.state_["errors"]["weight"] == 56).all()  # 60 rows − a window of 4
