"""DetectorStream and Decider: blocks = single steps = a stream restored from plain data
(the conformance guarantees, extended to the decider),
for every registered detector; protection keeps a sustained shift firing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kizashi.detectors.registry import create, get_class, names
from kizashi.engine.decider import Decider
from kizashi.engine.stream import DetectorStream
from kizashi.state import from_json_safe, to_json_safe

DEEP = {"lstm", "autoencoder"}


def data(n: int = 700, n_series: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = np.sin(np.arange(n) / 9.0)[:, None] + rng.normal(0, 0.2, (n, n_series))
    values[300:340, 0] += 6.0  # a sustained shift: protection kicks in
    values[500, -1] += 8.0
    values[420:425, 0] = np.nan
    return values


def make(name: str, train: np.ndarray, block: int, **decision) -> DetectorStream:
    detector = create(name, **get_class(name).conformance_params)
    if detector.requires_training:
        detector.fit(train)
    return DetectorStream(detector, Decider.for_detector(detector, min_steps=2,
                                                         resolve_steps=2, **decision),
                          block=block)


def params(name):
    marks = [pytest.mark.slow] if name in DEEP else []
    return pytest.param(name, marks=marks)


@pytest.mark.parametrize("name", [params(n) for n in names() if n != "static_threshold"]
                         + [pytest.param("static_threshold")])
def test_blocks_steps_and_restored_streams_agree(name):
    if name in DEEP:
        pytest.importorskip("torch")
    values = data()
    t = np.arange(values.shape[0]) * 60.0
    train = data(seed=9)[:200]
    whole = make(name, train, 4096).process(values, t)
    steps = make(name, train, 1).process(values, t)
    first = make(name, train, 64)
    a = first.process(values[:350], t[:350])
    saved = json.loads(json.dumps(to_json_safe(first.state_dict())))
    resumed = make(name, train, 64)
    resumed.load_state_dict(from_json_safe(saved))
    b = resumed.process(values[350:], t[350:])
    for other in (steps, None):
        got_scores = other.scores if other else np.vstack([a.scores, b.scores])
        got_level = other.decision.level if other else np.vstack([a.decision.level,
                                                                   b.decision.level])
        got_active = other.decision.active if other else np.vstack([a.decision.active,
                                                                     b.decision.active])
        # a detector's vectorised block path may reassociate sums (the conformance suite
        # allows that); the decisions on top must agree
        np.testing.assert_allclose(got_scores, whole.scores, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got_level, whole.decision.level, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(got_active, whole.decision.active)
    changes = [(row, c.series, c.status) for row, c in whole.decision.changes]
    assert changes == [(row, c.series, c.status) for row, c in steps.decision.changes]


def test_protection_keeps_a_shift_firing_and_a_repeat_fires_again():
    rng = np.random.default_rng(4)
    n = 1200
    values = rng.normal(0, 1, n)
    for start in (400, 800):
        values[start:start + 120] += 20.0
    t = np.arange(n) * 30.0

    def run(protect: bool) -> np.ndarray:
        detector = create("threshold", window=240, k=4.0, min_periods=20)
        stream = DetectorStream(detector, Decider.for_detector(
            detector, min_steps=10, resolve_steps=10, protect=protect))
        return stream.process(values[:, None], t).decision.active[:, 0]

    protected = run(True)
    for start in (400, 800):
        assert protected[start + 10:start + 120].all()  # firing through the whole shift
        assert not protected[start + 130:start + 200].any()  # and resolved after it
    edges = np.flatnonzero(np.diff(protected.astype(int)) == 1)
    assert edges.tolist() == [408, 808]  # fired once per shift, on its 10th step
    unprotected = run(False)
    assert not unprotected[400 + 10:400 + 120].all()  # the rolling σ learns the shift


def test_decider_state_round_trip_and_parameter_check():
    decider = Decider(calibration="likelihood", min_steps=2)
    decider.reset(3)
    rng = np.random.default_rng(0)
    for row in rng.gamma(2.0, 1.0, (500, 3)):
        decider.update(row)
    saved = json.loads(json.dumps(to_json_safe(decider.state_dict())))
    twin = Decider(calibration="likelihood", min_steps=2).load_state_dict(from_json_safe(saved))
    rows = rng.gamma(2.0, 1.0, (50, 3))
    rows[20:30, 1] += 40.0
    a = decider.update_many(rows)
    b = twin.update_many(rows)
    np.testing.assert_array_equal(a.level, b.level)
    np.testing.assert_array_equal(a.active, b.active)
    assert a.active[25:30, 1].all()
    with pytest.raises(ValueError, match="saved with"):
        Decider(calibration="likelihood", min_steps=3).load_state_dict(from_json_safe(saved))


def test_warmup_is_learning_not_zero():
    decider = Decider(detector_threshold=3.0, warmup=5)
    decider.reset(1)
    out = decider.update_many(np.full((8, 1), 10.0))
    assert np.isnan(out.level[:5]).all() and out.learning[:5].all()
    assert (out.level[5:] == 10.0).all() and out.active[5:].all()
