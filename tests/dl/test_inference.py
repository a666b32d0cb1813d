"""Inference backends: each fast path against the exact float64 one, network and detector."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kizashi.detectors.registry import create  # noqa: E402
from kizashi.dl import inference  # noqa: E402
from kizashi.dl.lstm_forecaster import LstmForecaster  # noqa: E402
from kizashi.dl.window_autoencoder import NewestRow, WindowAutoencoder  # noqa: E402
from kizashi.state import from_json_safe, to_json_safe  # noqa: E402

FAST = ["float32", "quantized"] + (["onnx"] if inference.onnx_available() else [])
TOLERANCE = {"float32": inference.FLOAT32_SCORE_TOLERANCE,
             "onnx": inference.FLOAT32_SCORE_TOLERANCE,
             "compile": inference.FLOAT32_SCORE_TOLERANCE,
             "quantized": inference.QUANTIZED_SCORE_TOLERANCE}


def noisy(rows, columns, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(rows)[:, None]
    return np.sin(t / 9 + rng.uniform(0, 6, columns)) + rng.normal(0, 0.1, (rows, columns))


def networks():
    torch.manual_seed(0)
    lstm = LstmForecaster(window=8, hidden=8)
    autoencoder = WindowAutoencoder(n_features=3, window=5, hidden=16, latent=4)
    rng = np.random.default_rng(1)
    return {"lstm": (lstm, rng.normal(size=(3000, 8))),
            "autoencoder": (NewestRow(autoencoder), rng.normal(size=(3000, 5, 3)))}


@pytest.mark.parametrize("backend", FAST)
@pytest.mark.parametrize("name", ["lstm", "autoencoder"])
def test_fast_network_outputs_match_float64(name, backend):
    network, inputs = networks()[name]
    with torch.no_grad():  # the float64 reference, computed here without the runner
        reference = network.double()(torch.from_numpy(inputs)).numpy()
    out = inference.make_runner(network, backend, device="cpu")(inputs)
    assert out.dtype == np.float64 and out.shape == reference.shape
    scale = np.abs(reference).max()
    limit = 1e-5 if backend != "quantized" else 0.05
    assert np.abs(out - reference).max() <= limit * scale


def test_newest_row_is_the_last_row_of_the_full_reconstruction():
    torch.manual_seed(3)
    net = WindowAutoencoder(n_features=4, window=6, hidden=10, latent=3).double()
    x = torch.from_numpy(np.random.default_rng(2).normal(size=(50, 6, 4)))
    with torch.no_grad():
        np.testing.assert_allclose(NewestRow(net)(x).numpy(), net(x)[:, -1].numpy(),
                                   rtol=0, atol=1e-13)


def test_auto_is_exact_for_small_calls_and_fast_for_large_ones():
    assert inference.resolve_backend("auto", inference.AUTO_MIN_INPUTS - 1, "cpu") == "eager"
    large = inference.resolve_backend("auto", inference.AUTO_MIN_INPUTS, "cpu")
    assert large == ("onnx" if inference.onnx_available() else "float32")
    assert inference.resolve_backend("auto", 10**6, "cpu", cpu_fast="float32") == "float32"
    assert inference.resolve_backend("quantized", 1, "cpu") == "quantized"
    with pytest.raises(ValueError, match="unknown backend"):
        inference.resolve_backend("tensorrt", 1)
    with pytest.raises(ValueError, match="unknown backend 'fast'"):
        create("lstm", backend="fast", device="cpu").fit(noisy(100, 1))


def test_onnx_missing_says_what_to_install(monkeypatch):
    monkeypatch.setattr(inference, "onnx_available", lambda: False)
    network, _ = networks()["lstm"]
    with pytest.raises(ValueError, match=r"pip install 'kizashi\[fast\]'"):
        inference.make_runner(network, "onnx", device="cpu")
    assert inference.resolve_backend("auto", 10**6, "cpu") == "float32"


def fitted(name, columns, backend="eager"):
    params = {"lstm": {"window": 8, "hidden": 8, "epochs": 2, "max_samples": 2000},
              "autoencoder": {"window": 5, "hidden": 16, "latent": 4, "epochs": 3}}[name]
    return create(name, device="cpu", backend=backend, **params).fit(noisy(400, columns, 1))


def with_backend(detector, backend):
    params = {**detector.get_params(), "backend": backend}
    return type(detector)(**params).load_state_dict(detector.state_dict())


CASES = {  # name → (columns, rows): one long noisy series, and many series
    "lstm-long": ("lstm", 1, 20000), "lstm-many": ("lstm", 200, 80),
    "autoencoder-long": ("autoencoder", 3, 15000), "autoencoder-wide": ("autoencoder", 60, 600)}


@pytest.mark.parametrize("backend", [*FAST, "auto"])
@pytest.mark.parametrize("case", CASES)
def test_detector_scores_match_eager_within_the_stated_tolerance(case, backend):
    name, columns, rows = CASES[case]
    exact = fitted(name, columns)
    values = noisy(rows, columns, seed=5)
    values[rows // 2] += 4.0  # a spike: large scores must agree too
    values[rows // 3, 0] = np.nan
    expected = exact.score(values)
    fast = with_backend(exact, backend)
    scores = fast.score(values)
    tolerance = TOLERANCE.get(backend, inference.FLOAT32_SCORE_TOLERANCE)
    np.testing.assert_array_equal(np.isnan(scores), np.isnan(expected))
    np.testing.assert_allclose(scores, expected, rtol=0, atol=tolerance)
    assert np.nanmax(np.abs(expected)) > 5 * tolerance  # the comparison is not vacuous


@pytest.mark.parametrize("backend", FAST)
def test_fast_backfill_then_exact_streaming(backend):
    exact = fitted("lstm", 30)
    values = noisy(600, 30, seed=6)
    fast = with_backend(exact, backend)
    exact.update_many(values[:500])
    fast.update_many(values[:500])  # 30 × 492 windows: the fast path runs
    exact_state, fast_state = exact.state_dict()["state"], fast.state_dict()["state"]
    np.testing.assert_array_equal(fast_state["buffer"], exact_state["buffer"])
    np.testing.assert_array_equal(fast_state["count"], exact_state["count"])
    for key in ("mean", "var"):
        np.testing.assert_allclose(fast_state["errors"][key], exact_state["errors"][key],
                                   rtol=1e-2 if backend == "quantized" else 1e-4)
    streamed = np.array([fast.update(row) for row in values[500:]])
    np.testing.assert_allclose(streamed, exact.score(values[500:]), rtol=0,
                               atol=TOLERANCE[backend])


def test_a_state_loads_whatever_the_backend():
    detector = fitted("autoencoder", 3, backend="auto")
    text = json.dumps(to_json_safe(detector.state_dict()))
    saved = json.loads(text)
    del saved["params"]["backend"]  # a state written before backends existed
    for state in (json.loads(text), saved):
        other = create("autoencoder", **{**detector.get_params(), "backend": "float32"})
        other.load_state_dict(from_json_safe(state))
        probe = noisy(50, 3, seed=9)
        np.testing.assert_allclose(other.score(probe), detector.score(probe), rtol=0,
                                   atol=inference.FLOAT32_SCORE_TOLERANCE)
    with pytest.raises(ValueError, match="saved with parameters"):
        create("autoencoder", **{**detector.get_params(), "window": 6}).load_state_dict(
            from_json_safe(json.loads(text)))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm", "autoencoder"])
def test_compiled_backend_matches_eager(name):
    pytest.importorskip("torch._inductor")
    exact = fitted(name, 3)
    values = noisy(3000, 3, seed=4)
    scores = with_backend(exact, "compile").score(values)
    np.testing.assert_allclose(scores, exact.score(values), rtol=0,
                               atol=inference.FLOAT32_SCORE_TOLERANCE)


def test_runners_are_built_once_per_network_and_backend():
    built = []

    def build():
        built.append(1)
        return networks()["lstm"][0]

    inputs = np.zeros((3, 8))
    first = inference.cached_runner(("test", "a"), build, "float32", "cpu")
    assert inference.cached_runner(("test", "a"), build, "float32", "cpu") is first
    inference.cached_runner(("test", "a"), build, "eager", "cpu")(inputs)
    inference.cached_runner(("test", "b"), build, "float32", "cpu")
    assert len(built) == 3


def odd_values(kind: str, rows: int, columns: int) -> np.ndarray:
    """A noisy block with one kind of input a broken exporter sends, at several places."""
    values = noisy(rows, columns, seed=11)
    places = np.random.default_rng(12).choice(rows, 30, replace=False)
    odd = {"nan": np.nan, "huge": 1e308, "minus-inf": -np.inf, "big-spike": 1e6,
           "zero-run": 0.0}[kind]
    if kind == "zero-run":
        values[rows // 2: rows // 2 + 500] = odd
    else:
        values[places, places % columns] = odd
    return values


@pytest.mark.parametrize("backend", ["float32", *(["onnx"] if "onnx" in FAST else [])])
@pytest.mark.parametrize("kind", ["nan", "huge", "minus-inf", "big-spike", "zero-run"])
@pytest.mark.parametrize("name", ["lstm", "autoencoder"])
def test_odd_inputs_score_alike_on_every_float32_backend(name, kind, backend):
    exact = fitted(name, 3)
    values = odd_values(kind, 5000, 3)
    expected = exact.score(values)
    scores = with_backend(exact, backend).score(values)
    np.testing.assert_array_equal(np.isnan(scores), np.isnan(expected))
    np.testing.assert_allclose(scores, expected, rtol=inference.FLOAT32_SCORE_RTOL,
                               atol=inference.FLOAT32_SCORE_TOLERANCE)


def test_auto_takes_the_fast_path_only_for_large_calls():
    detector = fitted("lstm", 50, backend="auto")
    key = detector.state_["weights_key"]

    def used():
        return {full[1] for full in inference._cache if full[0][1] == key}

    inference._cache.clear()
    detector.score(noisy(20, 50, seed=2))  # 50 series × 12 windows: exact
    assert used() == {"eager"}
    detector.score(noisy(300, 50, seed=2))  # 50 × 292 windows ≥ AUTO_MIN_INPUTS
    assert used() == {"eager", "float32"}  # the LSTM's faster CPU path
