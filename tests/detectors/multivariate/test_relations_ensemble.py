"""The ensemble's causes with the relation signal on (``causes_relations``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kizashi.detectors.fitted_model import load_fitted, save_fitted
from kizashi.detectors.multivariate.deviation import DeviationAttribution
from kizashi.detectors.registry import create
from kizashi.state import from_json_safe, to_json_safe


def coupled(n: int, seed: int, decouple_from: int | None = None) -> np.ndarray:
    """``x``, its near-copy, ``y = 2x`` (its own series from ``decouple_from``), noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    driver = x.copy()
    if decouple_from is not None:
        driver[decouple_from:] = rng.normal(0, 1, n - decouple_from)
    return np.c_[x, x + rng.normal(0, 0.05, n), 2 * driver + rng.normal(0, 0.3, n),
                 1.5 * rng.normal(0, 1, n)]


@pytest.mark.slow
def test_the_ensembles_causes_are_the_attribution_with_the_relation_signal():
    train, test = coupled(3000, 1), coupled(600, 2, decouple_from=300)
    detector = create("ensemble", causes_relations=10.0).fit(train)
    out = detector.explain(test)
    expected = DeviationAttribution(relation_alpha=10.0).fit(train).shares(test)
    np.testing.assert_allclose(out.attribution, expected, rtol=1e-12)
    plain = create("ensemble").fit(train).explain(test)
    assert out.attribution.shape == plain.attribution.shape
    # the decoupled metric leads with the signal, not without
    assert (np.argmax(out.attribution[364:], axis=1) == 2).mean() >= 0.9
    assert (np.argmax(plain.attribution[364:], axis=1) == 2).mean() <= 0.3


@pytest.mark.slow
def test_streaming_saving_and_loading_keep_the_relation_causes(tmp_path):
    train, test = coupled(3000, 3), coupled(600, 4, decouple_from=300)
    detector = create("ensemble", causes_relations=10.0).fit(train)
    whole = detector.explain(test).attribution
    save_fitted(detector, tmp_path, ["x", "u", "y", "n"], entity="node1")
    back, record = load_fitted(tmp_path)
    assert record["params"]["causes_relations"] == 10.0
    np.testing.assert_allclose(back.explain(test).attribution, whole, rtol=1e-12)
    for start in range(0, 420, 70):  # streamed in blocks, then the model and stream as JSON
        back.update_many(test[start:start + 70])
    model, stream = (from_json_safe(json.loads(json.dumps(to_json_safe(part))))
                     for part in back.split_state_dict())
    resumed = create("ensemble", causes_relations=10.0).load_split_state_dict(model, stream)
    np.testing.assert_allclose(resumed.explain(test[420:]).attribution, whole[420:],
                               rtol=1e-9, atol=1e-12)
