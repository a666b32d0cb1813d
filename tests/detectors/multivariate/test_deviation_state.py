"""The default ensemble's causes for a fitted entity come from DeviationAttribution."""

from __future__ import annotations

import json

import numpy as np

from kizashi.detectors.multivariate.deviation import DeviationAttribution
from kizashi.detectors.registry import create
from kizashi.state import from_json_safe, to_json_safe


def rows(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.c_[rng.normal(0, 1, (n, 3)), (rng.random(n) < 0.002) * 1.0]


def shifted_test() -> np.ndarray:
    test = rows(900, 2)
    test[600:, 3] = 0.0
    test[600::6, 3] = 1.0        # metric 3 starts spiking every 6 steps (0 in between)
    test[400:450, 1] += 6.0      # metric 1 shifts for 50 steps
    return test


def test_a_fitted_ensemble_explains_by_each_metrics_deviation_from_training():
    train, test = rows(4000, 1), shifted_test()
    out = create("ensemble").fit(train).explain(test)
    expected = DeviationAttribution().fit(train).shares(test)
    np.testing.assert_allclose(out.attribution, expected, rtol=1e-12)
    assert (np.argmax(out.attribution[405:450], axis=1) == 1).all()
    quiet = np.arange(660, 900)
    quiet = quiet[test[quiet, 3] == 0]   # between the spikes, metric 3 is still to blame
    assert (np.argmax(out.attribution[quiet], axis=1) == 3).all()


def test_a_block_explained_after_streaming_equals_the_whole_batch():
    # watch explains a block from the state the block started with: the windows must
    # read the rows streamed before it, not the end of the training rows
    train, test = rows(4000, 1), shifted_test()
    whole = create("ensemble").fit(train).explain(test).attribution
    detector = create("ensemble").fit(train)
    for start in range(0, 700, 70):
        detector.update_many(test[start:start + 70])
    np.testing.assert_allclose(detector.explain(test[700:]).attribution, whole[700:],
                               rtol=1e-9, atol=1e-12)


def test_the_causes_survive_saving_the_model_and_stream_as_json():
    train, test = rows(3000, 3), shifted_test()
    detector = create("ensemble").fit(train)
    detector.update_many(test[:500])
    model, stream = detector.split_state_dict()
    model, stream = (from_json_safe(json.loads(json.dumps(to_json_safe(part))))
                     for part in (model, stream))
    back = create("ensemble").load_split_state_dict(model, stream)
    np.testing.assert_allclose(back.explain(test[500:]).attribution,
                               detector.explain(test[500:]).attribution, rtol=1e-12)


def test_an_unfitted_ensemble_keeps_its_members_attribution():
    values = rows(1500, 4)
    values[1400:1410, 2] += 8.0
    out = create("ensemble", window=50, learning_period=50, estimation_samples=50,
                 hold=1).explain(values)
    assert np.argmax(np.nanmean(out.attribution[1400:1410], axis=0)) == 2


def test_the_stream_keeps_the_day_the_recent_signals_read():
    # with a week of training rows the causes compare each metric with the day before:
    # the stream must keep that day (2 881 rows), and blocks explained after it equal the whole
    from kizashi.detectors.multivariate.deviation_state import (
        deviation_shares,
        fit_deviation,
        history_of,
        remember_rows,
    )

    state: dict = {"reference": {}}
    fit_deviation(state, rows(6000, 5))
    assert DeviationAttribution.from_state(state["reference"]["deviation"]).recent
    test = shifted_test()
    whole = deviation_shares(state, test, history_of(state))
    for start in range(0, 600, 100):
        remember_rows(state, test[start:start + 100])
    assert history_of(state).shape == (2881, 4)
    np.testing.assert_allclose(deviation_shares(state, test[600:], history_of(state)),
                               whole[600:], rtol=1e-9, atol=1e-12)
