"""Algorithm-specific cases of the deep detectors (the shared contract is in tests/detectors)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

from kizashi.detectors.registry import create
from kizashi.state import from_json_safe, to_json_safe


def test_import_kizashi_does_not_import_torch():
    code = ("import sys, kizashi, kizashi.detectors.registry, kizashi.dl, "
            "kizashi.detectors.deep; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def multivariate(n=500, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    return np.sin(t / 6 + np.arange(5)) + rng.normal(0, 0.05, (n, 5))


def test_autoencoder_contributions_point_at_the_broken_metric():
    values = multivariate()
    values[450, 3] += 3.0
    detector = create("autoencoder", window=4, hidden=32, latent=4, epochs=10, device="cpu")
    detector.fit(values[:350])
    before = json.dumps(to_json_safe(detector.state_dict()))
    parts = detector.contributions(values[350:])
    assert parts.shape == (150, 5)
    assert int(np.argmax(parts[100])) == 3
    assert json.dumps(to_json_safe(detector.state_dict())) == before
    scores = detector.score(values[350:])
    assert int(np.argmax(scores)) == 100


def test_state_holds_the_weights_as_plain_arrays():
    detector = create("lstm", window=6, hidden=4, epochs=1, device="cpu")
    detector.fit(multivariate(200)[:, :2])
    state = detector.state_dict()["state"]
    assert all(isinstance(w, np.ndarray) and w.dtype == np.float32
               for w in state["weights"].values())
    text = json.dumps(to_json_safe(detector.state_dict()))
    restored = create("lstm", window=6, hidden=4, epochs=1,
                      device="cpu").load_state_dict(from_json_safe(json.loads(text)))
    probe = multivariate(50, seed=1)[:, :2]
    np.testing.assert_array_equal(restored.score(probe), detector.score(probe))


def test_lstm_scores_series_independently_with_nan_gaps():
    values = multivariate(400)[:, :3]
    values[300:, 1] = np.nan
    detector = create("lstm", window=8, hidden=8, epochs=2, device="cpu").fit(values[:250])
    scores = detector.score(values[250:])
    assert np.isnan(scores[50:, 1]).all() and np.isfinite(scores[:, [0, 2]]).all()


def test_unfitted_detector_says_so():
    with pytest.raises(ValueError, match="fitted"):
        create("autoencoder").score(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="too few"):
        create("autoencoder", window=30, device="cpu").fit(np.zeros((10, 2)))


def test_detector_from_a_kizashi_train_folder(tmp_path):
    from kizashi.detectors.deep.autoencoder_detector import AutoencoderDetector
    from kizashi.dl.config import RunConfig
    from kizashi.dl.experiment import load_values, train_from_config

    config = RunConfig.from_dict({
        "epochs": 2, "batch_size": 32, "device": "cpu", "progress": False, "checkpoint_every": 0,
        "data": {"source": "synthetic", "n": 300, "n_series": 3},
        "model": {"name": "autoencoder", "window": 4, "hidden": 8, "latent": 2}})
    train_from_config(config, tmp_path)
    values = load_values(config.data)
    detector = AutoencoderDetector.from_trained(tmp_path, values, halflife=500.0)
    assert (detector.window, detector.hidden, detector.halflife) == (4, 8, 500.0)
    probe = values[:40] + np.r_[np.zeros(39), 30.0][:, None]
    assert int(np.argmax(detector.score(probe))) == 39
    restored = AutoencoderDetector(**detector.get_params()).load_state_dict(
        from_json_safe(json.loads(json.dumps(to_json_safe(detector.state_dict())))))
    np.testing.assert_array_equal(restored.score(probe), detector.score(probe))
    with pytest.raises(ValueError, match="autoencoder"):
        create("lstm").from_trained(tmp_path, values)


@pytest.mark.parametrize("name", ["autoencoder", "lstm"])
def test_error_normaliser_forgets_only_with_a_halflife(name):
    rng = np.random.default_rng(5)
    train, test = rng.normal(0, 1, (300, 2)), rng.normal(0, 1, (200, 2))
    small = {"window": 4, "hidden": 4, "epochs": 1, "device": "cpu"}
    if name == "autoencoder":
        small["latent"] = 2
    kept = create(name, **small, halflife=None).fit(train)
    before = np.array(kept.state_["errors"]["weight"], dtype=float)
    kept.update_many(test)
    gained = np.array(kept.state_["errors"]["weight"], dtype=float) - before
    # without forgetting the weight is a plain count: it grows by one per scored row
    assert np.all(np.isclose(gained, np.round(gained))) and gained.max() >= 150
    forgetful = create(name, **small, halflife=50.0).fit(train)
    forgetful.update_many(test)
    assert np.array(forgetful.state_["errors"]["weight"], dtype=float).max() < 80
    with pytest.raises(ValueError, match="positive or None"):
        create(name, **small, halflife=0.0).fit(train)
