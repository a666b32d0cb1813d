"""A calibrated decider that protects nothing, fused, equals the Python stream.

:mod:`kizashi.engine.fused_calibrated` scores a block, calibrates it at once and
decides it in one compiled pass when the decider protects nothing. The
reference is the Python stream (``DetectorStream(..., fused=False)``), which
decides step by step around every crossing of the cutoff. Levels (in [0, 1])
and the calibrators' float states must agree to a relative 1e-12 or an absolute
1e-14 (a calibrator's block and step paths may round its element-wise functions
differently); NaN positions, flags, learning, alert changes, counters and the
detector's state exactly. Families: shifts and spikes, NaN and ±inf
values, a flat series, a level far from 0, one and several series; the
likelihood (short warm-up and re-estimation period, so fits fall inside and
across chunks), the z-score calibrator; chunks of 1, 7, 64 rows or all.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from kizashi.detectors.registry import create
from kizashi.engine.batch import score_frame
from kizashi.engine.decider import Decider
from kizashi.engine.fused import supports
from kizashi.engine.stream import DetectorStream
from kizashi.state import to_json_safe

LIKELIHOOD = {"learning_period": 20, "estimation_samples": 30, "history_window": 120,
              "reestimation_period": 10}
SETTINGS = [
    {"calibration": "likelihood", "calibration_params": LIKELIHOOD, "min_steps": 1,
     "resolve_steps": 1},
    {"calibration": "likelihood", "calibration_params": {**LIKELIHOOD, "two_sided": False},
     "min_steps": 2, "resolve_steps": 3, "cutoff": 0.3},
    {"calibration": "zscore", "min_steps": 2, "resolve_steps": 2, "cutoff": 0.9},
]
DETECTORS = {"changefinder": {"r": 0.05}, "threshold": {"window": 16, "min_periods": 5}}
KINDS = ["plain", "gaps", "flat", "far"]


def family(kind: str, n: int, n_series: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    values = np.sin(t / 7.0 + rng.uniform(0, 6, n_series)) + rng.normal(0, 0.3, (n, n_series))
    for j in range(n_series):
        for _ in range(4):
            at, length = rng.integers(30, n - 5), rng.integers(1, 30)
            values[at:at + length, j] += rng.choice([-1, 1]) * rng.uniform(3, 10)
    if kind == "gaps":
        values[rng.random(values.shape) < 0.05] = np.nan
        values[rng.random(values.shape) < 0.01] = np.inf
        values[rng.random(values.shape) < 0.01] = -np.inf
    elif kind == "flat":
        values[:, 0] = 7.0
    elif kind == "far":
        values += 1e6
    return values


def stream_for(name: str, setting: dict, fused: bool) -> DetectorStream:
    detector = create(name, **DETECTORS[name])
    return DetectorStream(detector, Decider.for_detector(detector, protect=False, **setting),
                          fused=fused)


def run(stream: DetectorStream, values: np.ndarray, times: np.ndarray, chunk: int):
    scores, parts = [], []
    for begin in range(0, len(values), chunk):
        out = stream.process(values[begin:begin + chunk], times[begin:begin + chunk])
        scores.append(out.scores)
        parts.append((begin, out.decision))
    fields = {name: np.vstack([getattr(d, name) for _, d in parts]) for name in
              ("level", "threshold", "above", "active", "protect", "learning")}
    changes = [(begin + row, c.series, c.status, c.start) for begin, d in parts
               for row, c in d.changes]
    return np.vstack(scores), fields, changes


def assert_same_state(a, b, where: str = "state") -> None:
    """Equal trees; float arrays to a relative 1e-12 (the calibrators' block and step
    paths may round differently), everything else exactly."""
    if isinstance(a, dict):
        assert sorted(a) == sorted(b), where
        for key in a:
            assert_same_state(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, np.ndarray) and a.dtype.kind == "f":
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=where)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert json.dumps(to_json_safe(a)) == json.dumps(to_json_safe(b)), where


@pytest.mark.parametrize("name", sorted(DETECTORS))
@pytest.mark.parametrize(("kind", "n_series"), list(itertools.product(KINDS, [1, 3])))
@pytest.mark.parametrize("setting", SETTINGS)
def test_fused_calibrated_stream_equals_python_stream(name, kind, n_series, setting):
    values = family(kind, 360, n_series, seed=len(kind) * 7 + n_series)
    times = 1.7e9 + 60.0 * np.arange(len(values))
    python = stream_for(name, setting, fused=False)
    scores, fields, changes = run(python, values, times, len(values))
    for chunk in (1, 7, 64, len(values)):
        fused = stream_for(name, setting, fused=True)
        got_scores, got, got_changes = run(fused, values, times, chunk)
        assert supports(fused.detector, fused.decider)
        np.testing.assert_array_equal(got_scores, scores)
        np.testing.assert_allclose(got["level"], fields["level"], rtol=1e-12, atol=1e-14)
        for key in ("threshold", "above", "active", "protect", "learning"):
            np.testing.assert_array_equal(got[key], fields[key], err_msg=key)
        assert got_changes == changes
        assert_same_state(fused.state_dict(), python.state_dict())


@pytest.mark.parametrize("setting", SETTINGS)
def test_the_families_raise_alerts(setting):
    """The comparison above is about alerts: each setting raises some on these families."""
    values = family("gaps", 360, 3, seed=24)
    out = stream_for("changefinder", setting, fused=False).process(values)
    assert out.decision.active.any() and not out.decision.active.all()


def test_protected_or_uncalibrated_deciders_take_other_paths():
    protected = DetectorStream(create("changefinder"), Decider(
        calibration="likelihood", protect=True), fused=True)
    protected._prepare(2)
    assert not supports(protected.detector, protected.decider)
    multivariate = create("autoencoder")
    assert multivariate.multivariate


def test_score_frame_of_changefinder_alerts_on_a_hand_made_shift():
    """A shift of +8 σ for 40 steps in white noise: ChangeFinder's likelihood fires within
    two steps of its start (the fused path) and the Python stream agrees on every flag."""
    from kizashi.data.frame import SeriesFrame

    rng = np.random.default_rng(3)
    values = np.r_[rng.normal(0, 1, 1500), rng.normal(8, 1, 40), rng.normal(0, 1, 300)]
    frame = SeriesFrame.from_arrays(np.arange(len(values)) * 60.0, values[:, None])
    result = score_frame(frame, "changefinder")
    starts = [i.start for i in result.incidents if i.start >= 1500]
    assert starts and 1500 <= starts[0] <= 1502
    detector = create("changefinder")
    python = DetectorStream(detector, Decider.for_detector(detector), fused=False)
    reference = python.process(values[:, None], frame.epoch_seconds)
    np.testing.assert_array_equal(result.flags, reference.decision.active)
