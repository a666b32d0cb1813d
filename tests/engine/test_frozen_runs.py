"""Protected runs scored as one block against the frozen state equal the step-by-step stream.

When every series is protected the stream scores a run of rows at once
against a tiled copy of the detector's state. For every registered univariate
detector that fits nothing, on shifts that protect every series at once, the
stream in blocks must give the scores, levels and alerts of the stream one step
at a time (which never takes that path), and the path must really be taken.
"""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.registry import create, get_class, names
from kizashi.engine.decider import Decider
from kizashi.engine.stream import DetectorStream, tile_state

# `peers` scores each series against the others at the same step: a shift of every
# series at once is no deviation for it, so these shifts protect nothing there.
FREEZABLE = [n for n in names()
             if not get_class(n).multivariate and not get_class(n).requires_training
             and not get_class(n).requires_timestamps and n != "peers"]


def shifted(n_series: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = 900
    values = np.sin(np.arange(n) / 7.0)[:, None] + rng.normal(0, 0.2, (n, n_series))
    values[400:470] += 8.0  # every series at once
    values[700:703] -= 9.0
    values[430:433, 0] = np.nan
    return values


def run(name: str, values: np.ndarray, block: int, monkeypatch=None) -> tuple:
    detector = create(name, **get_class(name).conformance_params)
    stream = DetectorStream(detector, Decider.for_detector(detector, min_steps=2,
                                                           resolve_steps=2), block=block)
    calls = []
    if monkeypatch is not None:
        original = DetectorStream._frozen_run

        def counted(self, *args):
            done = original(self, *args)
            calls.append(done)
            return done

        monkeypatch.setattr(DetectorStream, "_frozen_run", counted)
    out = stream.process(values, 1.7e9 + 60.0 * np.arange(len(values)))
    return out, calls, stream


@pytest.mark.parametrize("name", FREEZABLE)
@pytest.mark.parametrize("n_series", [1, 3])
def test_frozen_runs_equal_single_steps(name, n_series, monkeypatch):
    values = shifted(n_series)
    steps, _, _ = run(name, values, 1)
    blocks, calls, stream = run(name, values, 512, monkeypatch)
    np.testing.assert_allclose(blocks.scores, steps.scores, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(blocks.decision.level, steps.decision.level)
    np.testing.assert_array_equal(blocks.decision.active, steps.decision.active)
    assert [(r, c.series, c.status) for r, c in blocks.decision.changes] == \
        [(r, c.series, c.status) for r, c in steps.decision.changes]
    if stream.decider.protect:
        assert sum(calls) > 10, "the shift must be scored through frozen runs"


def test_tile_state_repeats_each_series_block():
    detector = create("threshold", window=4, min_periods=2)
    detector.update_many(np.arange(10.0).reshape(5, 2))
    grows = {"n_series": False, "window": {"values": True, "position": True, "count": True},
             "moments": True}
    tiled = tile_state(detector.state_, 3, grows, -1)
    assert tiled["n_series"] == 6
    np.testing.assert_array_equal(tiled["window"]["values"][:, 4:6],
                                  detector.state_["window"]["values"])
    assert tiled["window"]["values"] is not detector.state_["window"]["values"]
