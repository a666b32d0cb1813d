"""The stream's compiled path equals the Python stream, bit for bit.

:mod:`kizashi.engine.fused` runs the rolling σ or quantile detector, the raw-score decider
and baseline protection in one compiled loop. The reference is the Python
stream (``DetectorStream(..., fused=False)``: blocks, rollbacks, protected
steps and frozen runs), which the conformance suite checks against single
steps. Families of inputs: level shifts and spikes (alerts that start and end
on block edges when cut into chunks), NaN and ±inf values, flat and far-off
series (the σ moments recentre in place), series that alert from their first
scored step, one and many series, every decider setting that changes a path
(``min_steps``, ``resolve_steps``, ``relearn_after``, protection off), chunks
of 1, 7, 64 rows or the whole block, and a state restored mid-way.
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

SETTINGS = [
    {"min_steps": 1, "resolve_steps": 1},
    {"min_steps": 2, "resolve_steps": 3},
    {"min_steps": 3, "resolve_steps": 1, "relearn_after": 15},
    {"min_steps": 1, "resolve_steps": 2, "protect": False},
]


def family(kind: str, n: int, n_series: int, seed: int) -> np.ndarray:
    """A ``(n, n_series)`` block of one family of inputs."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    values = np.sin(t / 9.0 + rng.uniform(0, 6, n_series)) + rng.normal(0, 0.3, (n, n_series))
    for j in range(n_series):  # shifts of random length and spikes at random rows
        for _ in range(3):
            at, length = rng.integers(20, n - 5), rng.integers(1, 40)
            values[at:at + length, j] += rng.choice([-1, 1]) * rng.uniform(4, 12)
    if kind == "gaps":
        values[rng.random(values.shape) < 0.05] = np.nan
        values[rng.random(values.shape) < 0.01] = np.inf
        values[rng.random(values.shape) < 0.01] = -np.inf
    elif kind == "flat":  # a flat window: σ at its floor, moments recentred in place
        values[:, 0] = 100.0
        values[n // 2:n // 2 + 5, 0] = 100.5
        values[:, -1] = np.round(values[:, -1])
    elif kind == "far":  # a level far from 0: cancellation in the carried moments
        values += 1e6 * (1 + np.arange(n_series))
    elif kind == "first":  # every series alerts from its first scored step on
        values[6:40] += 50.0
    elif kind == "everywhere":  # all series shifted at once: frozen runs
        values[n // 3:n // 3 + 30] += 20.0
    return values


DETECTORS = ["threshold", "quantile_threshold", "static_threshold", "seasonal_threshold",
             "range_rule"]
PARAMS = {"static_threshold": {"low": -2.0, "high": 2.5},
          # a period of 30 steps (60-s steps), scored from step 60 on, a level that forgets
          "seasonal_threshold": {"period": "30m", "slot": "5m", "level_halflife": "2h",
                                 "season_halflife": "3h"},
          # range_rule's decider protects nothing: every step is learned
          "range_rule": {"halflife": 20.0}}


def stream_for(fused: bool, setting: dict, block: int = 2048,
               name: str = "threshold") -> DetectorStream:
    detector = create(name, **PARAMS.get(name, {"window": 16, "min_periods": 5}))
    return DetectorStream(detector, Decider.for_detector(detector, **setting), block=block,
                          fused=fused)


def run_chunks(stream: DetectorStream, values: np.ndarray, times: np.ndarray,
               chunk: int) -> tuple[np.ndarray, list, list]:
    scores, decisions = [], []
    for begin in range(0, len(values), chunk):
        out = stream.process(values[begin:begin + chunk], times[begin:begin + chunk])
        scores.append(out.scores)
        decisions.append((begin, out.decision))
    return np.vstack(scores), decisions


def flat_decision(decisions: list) -> tuple[dict[str, np.ndarray], list]:
    fields = {name: np.vstack([getattr(d, name) for _, d in decisions]) for name in
              ("level", "threshold", "above", "active", "protect", "learning")}
    changes = [(begin + row, c.series, c.status, c.start) for begin, d in decisions
               for row, c in d.changes]
    return fields, changes


def assert_same(fused: tuple, python: tuple) -> None:
    np.testing.assert_array_equal(fused[0], python[0])
    (f_fields, f_changes), (p_fields, p_changes) = flat_decision(fused[1]), \
        flat_decision(python[1])
    for name in f_fields:
        np.testing.assert_array_equal(f_fields[name], p_fields[name], err_msg=name)
    assert f_changes == p_changes


def assert_same_state(a: DetectorStream, b: DetectorStream) -> None:
    assert json.dumps(to_json_safe(a.state_dict()), sort_keys=True) == \
        json.dumps(to_json_safe(b.state_dict()), sort_keys=True)


KINDS = ["plain", "gaps", "flat", "far", "first", "everywhere"]


@pytest.mark.parametrize("name", DETECTORS)
@pytest.mark.parametrize(("kind", "n_series"), list(itertools.product(KINDS, [1, 4])))
@pytest.mark.parametrize("setting", SETTINGS)
def test_fused_stream_equals_python_stream(name, kind, n_series, setting):
    values = family(kind, 400, n_series, seed=len(kind) + n_series)
    times = 1.7e9 + 60.0 * np.arange(len(values))
    python = stream_for(False, setting, name=name)
    reference = run_chunks(python, values, times, len(values))
    for chunk in (1, 7, 64, len(values)):
        fused = stream_for(True, setting, name=name)
        got = run_chunks(fused, values, times, chunk)
        assert supports(fused.detector, fused.decider)
        assert_same(got, reference)
        assert_same_state(fused, python)


@pytest.mark.parametrize("name", DETECTORS)
@pytest.mark.parametrize("kind", KINDS)
def test_fused_single_steps_equal_python_single_steps(name, kind):
    """With ``block=1`` the Python stream never freezes a run; neither may the kernel."""
    values = family(kind, 300, 3, seed=7)
    times = 1.7e9 + 60.0 * np.arange(len(values))
    setting = {"min_steps": 2, "resolve_steps": 2}
    python = stream_for(False, setting, block=1, name=name)
    reference = run_chunks(python, values, times, len(values))
    fused = stream_for(True, setting, block=1, name=name)
    assert_same(run_chunks(fused, values, times, 13), reference)
    assert_same_state(fused, python)


@pytest.mark.parametrize("name", DETECTORS)
@pytest.mark.parametrize("kind", KINDS)
def test_fused_stream_restored_mid_way_continues_exactly(name, kind):
    values = family(kind, 500, 3, seed=11)
    times = 1.7e9 + 60.0 * np.arange(len(values))
    setting = {"min_steps": 2, "resolve_steps": 2}
    whole = stream_for(True, setting, name=name)
    reference = run_chunks(whole, values, times, len(values))
    cut = 237
    first = stream_for(True, setting, name=name)
    head = run_chunks(first, values[:cut], times[:cut], 50)
    saved = json.loads(json.dumps(to_json_safe(first.state_dict())))
    second = stream_for(True, setting, name=name)
    second.load_state_dict(saved)
    tail = run_chunks(second, values[cut:], times[cut:], 31)
    joined = (np.vstack([head[0], tail[0]]),
              head[1] + [(cut + begin, d) for begin, d in tail[1]])
    assert_same(joined, reference)
    assert_same_state(second, whole)


def test_fused_path_is_taken_only_where_supported():
    detector = create("peers")  # it learns, it is protected, and has no fused kernel
    stream = DetectorStream(detector, Decider.for_detector(detector), fused=True)
    stream._prepare(2)
    assert not supports(stream.detector, stream.decider)
    unprotected = DetectorStream(create("peers"), Decider.for_detector(detector, protect=False),
                                 fused=True)
    unprotected._prepare(2)
    assert supports(unprotected.detector, unprotected.decider)
    sigma = create("threshold")
    likelihood = DetectorStream(sigma, Decider.for_detector(sigma, calibration="likelihood"),
                                fused=True)
    likelihood._prepare(2)
    assert not supports(likelihood.detector, likelihood.decider)


def test_score_frame_alerts_on_a_hand_made_shift():
    """Hand-computed: a shift of +20 from row 300 on a ±1 sinusoid (σ ≈ 0.7) fires after
    ``min_steps`` rows above 3σ and, the baseline frozen, stays firing to its end."""
    from kizashi.data.frame import SeriesFrame

    values = np.r_[np.sin(np.arange(300) / 5.0), np.sin(np.arange(300, 360) / 5.0) + 20.0,
                   np.sin(np.arange(360, 420) / 5.0)]
    frame = SeriesFrame.from_arrays(np.arange(len(values)) * 60.0, values[:, None])
    result = score_frame(frame, "threshold", {"window": 100, "min_periods": 20},
                         decision={"min_steps": 3, "resolve_steps": 3})
    assert [(i.start, i.end) for i in result.incidents] == [(302, 361)]
