"""``static_threshold``'s fused path (a first pass, then the decider only where it can move)
equals the Python stream bit for bit.

:mod:`kizashi.engine.fused_static` scores a tile of rows in one pass and advances a series
that is at rest over its quiet rows by arithmetic; the reference is the Python stream
(``DetectorStream(..., fused=False)``: the detector's numpy scores and the decider's
Python steps). Families: exceedances on tile edges (tiles of 1, 3, 8 rows and the
default), NaN and ±inf, values on the bounds, far beyond them (the score's cap) and
-0.0, one-sided bounds, series alerting from their first row, never alerting, or
always; warm-ups, several decider settings, per-series cutoffs (±inf among them);
1, 3 and 40 series; chunks of 1, 7, 64 rows or all; a state restored mid-way.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.detectors.registry import create
from kizashi.engine import fused_static
from kizashi.engine.batch import score_frame
from kizashi.engine.decider import Decider
from kizashi.engine.fused import supports
from kizashi.engine.stream import DetectorStream
from kizashi.state import to_json_safe

BOUNDS = {"low": -2.0, "high": 2.5}

SETTINGS = [
    {"min_steps": 1, "resolve_steps": 1},
    {"min_steps": 2, "resolve_steps": 3},
    {"min_steps": 3, "resolve_steps": 1, "relearn_after": 4},
    {"min_steps": 1, "resolve_steps": 2, "protect": False},
    {"min_steps": 2, "resolve_steps": 2, "warmup": 9},
    {"min_steps": 1, "resolve_steps": 4, "warmup": 30, "cutoff": 0.5},
]

KINDS = ["edges", "gaps", "first", "quiet", "always", "extremes"]


def family(kind: str, n: int, n_series: int, tile: int, seed: int) -> np.ndarray:
    """A ``(n, n_series)`` block of one family; exceedances sit on and beside the edges of
    tiles of ``tile`` rows."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(-1.5, 2.0, (n, n_series))
    edges = np.arange(0, n, tile)
    for j in range(n_series):
        for at in rng.choice(edges, size=min(len(edges), 4), replace=False):
            at = int(at + rng.integers(-1, 2))
            length = int(rng.integers(1, 2 * tile + 3))
            values[max(at, 0):at + length, j] = rng.choice([-1, 1]) * rng.uniform(2.4, 6.0)
    if kind == "gaps":
        values[rng.random(values.shape) < 0.08] = np.nan
        values[rng.random(values.shape) < 0.02] = np.inf
        values[rng.random(values.shape) < 0.02] = -np.inf
        values[:3, 0] = np.nan  # a series that starts missing
    elif kind == "first":  # every series above its bound from its first row
        values[:max(tile, 6)] = 4.0
    elif kind == "quiet":  # inside the bounds throughout, but some rows missing
        values = np.clip(values, -1.9, 2.4)
        values[rng.random(values.shape) < 0.05] = np.nan
    elif kind == "always":  # beyond a bound on every row
        values = 3.0 + rng.random(values.shape)
    elif kind == "extremes":  # on the bounds, -0.0, past the score's cap, ±1e308
        picks = rng.random(values.shape)
        values[picks < 0.05] = 2.5
        values[(picks >= 0.05) & (picks < 0.1)] = -2.0
        values[(picks >= 0.1) & (picks < 0.13)] = -0.0
        values[(picks >= 0.13) & (picks < 0.15)] = 1e308
        values[(picks >= 0.15) & (picks < 0.17)] = -1e308
    return values


def make_stream(fused: bool, setting: dict, bounds: dict = BOUNDS) -> DetectorStream:
    detector = create("static_threshold", **bounds)
    return DetectorStream(detector, Decider.for_detector(detector, **setting), fused=fused)


def run_chunks(stream: DetectorStream, values: np.ndarray, times: np.ndarray,
               chunk: int) -> tuple[np.ndarray, list]:
    scores, decisions = [], []
    for begin in range(0, len(values), chunk):
        out = stream.process(values[begin:begin + chunk], times[begin:begin + chunk])
        scores.append(out.scores)
        decisions.append((begin, out.decision))
    return np.vstack(scores), decisions


def flat(decisions: list) -> tuple[dict[str, np.ndarray], list]:
    fields = {name: np.vstack([getattr(d, name) for _, d in decisions]) for name in
              ("level", "threshold", "above", "active", "protect", "learning")}
    changes = [(begin + row, c.series, c.status, c.start) for begin, d in decisions
               for row, c in d.changes]
    return fields, changes


def assert_same(got: tuple, want: tuple) -> None:
    np.testing.assert_array_equal(got[0], want[0])
    assert np.array_equal(np.signbit(got[0]), np.signbit(want[0]))  # -0.0 kept
    (g_fields, g_changes), (w_fields, w_changes) = flat(got[1]), flat(want[1])
    for name in w_fields:
        np.testing.assert_array_equal(g_fields[name], w_fields[name], err_msg=name)
    assert g_changes == w_changes


def state_text(stream: DetectorStream) -> str:
    return json.dumps(to_json_safe(stream.state_dict()), sort_keys=True)


@pytest.fixture(params=[1, 3, 8, None], ids=lambda tile: f"tile{tile}")
def tile(request, monkeypatch) -> int:
    """Rows per tile of the fused path (None: its default)."""
    if request.param is not None:
        monkeypatch.setattr(fused_static, "tile_rows", lambda n_series: request.param)
    return request.param or 8


@pytest.mark.parametrize(("kind", "n_series"), list(itertools.product(KINDS, [1, 3, 40])))
@pytest.mark.parametrize("setting", SETTINGS)
def test_fused_static_equals_python_stream(tile, kind, n_series, setting):
    values = family(kind, 120, n_series, tile, seed=len(kind) * 7 + n_series)
    times = 1.7e9 + 60.0 * np.arange(len(values))
    python = make_stream(False, setting)
    want = run_chunks(python, values, times, len(values))
    for chunk in (1, 7, 64, len(values)):
        fused = make_stream(True, setting)
        got = run_chunks(fused, values, times, chunk)
        assert supports(fused.detector, fused.decider)
        assert_same(got, want)
        assert state_text(fused) == state_text(python)


@pytest.mark.parametrize("bounds", [{"high": 2.5}, {"low": -2.0}, {"low": -1e308, "high": 1e308}])
@pytest.mark.parametrize("kind", ["edges", "gaps", "extremes"])
def test_one_sided_and_far_bounds(tile, bounds, kind):
    values = family(kind, 90, 3, tile, seed=5)
    times = 1.7e9 + 60.0 * np.arange(len(values))
    setting = {"min_steps": 2, "resolve_steps": 2}
    python = make_stream(False, setting, bounds)
    want = run_chunks(python, values, times, len(values))
    for chunk in (7, len(values)):
        fused = make_stream(True, setting, bounds)
        assert_same(run_chunks(fused, values, times, chunk), want)
        assert state_text(fused) == state_text(python)


@pytest.mark.parametrize("kind", KINDS)
def test_per_series_cutoffs(tile, kind):
    """Cutoffs set per series (as a quantile cutoff's second pass does), ±inf and NaN
    among them: never, always or never above."""
    values = family(kind, 100, 5, tile, seed=3)
    times = 1.7e9 + 60.0 * np.arange(len(values))
    cutoffs = np.array([0.0, 1.5, np.inf, -np.inf, np.nan])
    streams = []
    for fused in (False, True):
        stream = make_stream(fused, {"min_steps": 2, "resolve_steps": 2, "cutoff": "q0.9"})
        stream._prepare(values.shape[1])
        stream.decider.set_thresholds(cutoffs)
        streams.append(stream)
    want = run_chunks(streams[0], values, times, len(values))
    assert_same(run_chunks(streams[1], values, times, 13), want)
    assert state_text(streams[1]) == state_text(streams[0])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("setting", [SETTINGS[1], SETTINGS[4]])
def test_restored_mid_way_continues_exactly(tile, kind, setting):
    values = family(kind, 150, 3, tile, seed=11)
    times = 1.7e9 + 60.0 * np.arange(len(values))
    whole = make_stream(True, setting)
    want = run_chunks(make_stream(False, setting), values, times, len(values))
    assert_same(run_chunks(whole, values, times, len(values)), want)
    for cut in (5, 37, 64, 101):  # inside the warm-up, inside an alert, on tile edges
        first = make_stream(True, setting)
        head = run_chunks(first, values[:cut], times[:cut], 50)
        saved = json.loads(json.dumps(to_json_safe(first.state_dict())))
        second = make_stream(True, setting)
        second.load_state_dict(saved)
        tail = run_chunks(second, values[cut:], times[cut:], 31)
        joined = (np.vstack([head[0], tail[0]]), head[1] + [(cut + b, d) for b, d in tail[1]])
        assert_same(joined, want)
        assert state_text(second) == state_text(whole)


def test_a_hand_made_case(tile):
    """Bounds [10, 90], two rows beyond to fire, two back inside to resolve, by hand:
    row 2 (95) starts a run, row 3 (91) fires it (start = row 2's time), rows 4 (NaN:
    missing, counts for nothing) and 5, 6 inside resolve it at row 6; row 8 (5, below 10)
    is one row only: no alert."""
    values = np.array([50.0, 60.0, 95.0, 91.0, np.nan, 50.0, 40.0, 89.0, 5.0, 20.0])
    frame = SeriesFrame.from_arrays(np.arange(len(values)) * 60.0, values[:, None])
    result = score_frame(frame, "static_threshold", {"low": 10.0, "high": 90.0},
                         decision={"min_steps": 2, "resolve_steps": 2})
    np.testing.assert_array_equal(
        result.scores[:, 0], [0.0, 0.0, 5.0, 1.0, np.nan, 0.0, 0.0, 0.0, 5.0, 0.0])
    assert result.flags[:, 0].tolist() == [False, False, False, True, True, True, False,
                                           False, False, False]
    assert [(i.start, i.end, i.peak) for i in result.incidents] == [(3, 5, 1.0)]
    stream = make_stream(True, {"min_steps": 2, "resolve_steps": 2},
                         {"low": 10.0, "high": 90.0})
    out = stream.process(values[:, None], np.arange(len(values)) * 60.0)
    assert [(row, c.status, c.start) for row, c in out.decision.changes] == [
        (3, "firing", 120.0), (6, "resolved", None)]
    state = stream.decider.state_
    # seen: the 9 observed rows; calibrated: those not protected (rows 2, 3, 8 are above
    # the cutoff, rows 3-5 alerting: 2, 3, 5, 8 observed and protected)
    assert int(state["seen"][0]) == 9
    assert int(state["calibrated"][0]) == 9 - 4
    assert int(state["filter"]["below_run"][0]) == 1 and not state["filter"]["active"][0]


@pytest.mark.parametrize("kind", ["edges", "gaps", "quiet"])
def test_a_state_set_by_hand_is_advanced_as_the_steps_advance_it(tile, kind):
    """A decider state no stream of these settings leaves behind (a protected count and a
    run start on a series with no run above the cutoff, counters far along): the fused
    path moves it as the Python steps do, not as a state at rest."""
    values = family(kind, 80, 4, tile, seed=2)
    times = 1.7e9 + 60.0 * np.arange(len(values))
    streams = []
    for fused in (False, True):
        stream = make_stream(fused, {"min_steps": 2, "resolve_steps": 2, "relearn_after": 3})
        stream._prepare(values.shape[1])
        state = stream.decider.state_
        state["protected_for"][:] = [7, 0, 2, 5]
        state["run_start"][:] = [123.0, np.nan, 456.0, np.nan]
        state["seen"][:] = [10**6, 3, 0, 40]
        state["filter"]["below_run"][:] = [0, 9, 1, 2]
        streams.append(stream)
    want = run_chunks(streams[0], values, times, len(values))
    assert_same(run_chunks(streams[1], values, times, 9), want)
    assert state_text(streams[1]) == state_text(streams[0])
