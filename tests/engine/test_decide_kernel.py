"""The compiled decider (raw scores) against the decider's own Python steps.

The Python path (``Decider.update`` with the compiled loop switched off) is
the reference: for a family of score blocks — NaN gaps, runs above and below
the cutoff, missing timestamps — and every combination of duration,
hysteresis, warm-up, protection and relearning, the compiled blocks and single
steps must give the same levels, flags, alert changes and final state.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kizashi.engine import decider as decider_module
from kizashi.engine.decider import Decider
from kizashi.state import states_equal


def scores_family(seed: int, n: int = 300, n_series: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scores = rng.exponential(1.0, (n, n_series))
    for _ in range(6):  # runs above the cutoff of various lengths
        j, start, length = rng.integers(n_series), rng.integers(n), rng.integers(1, 40)
        scores[start:start + length, j] += 5.0
    scores[rng.random((n, n_series)) < 0.05] = np.nan
    scores[100:110] = np.nan  # a step where every series is missing
    return scores


SETTINGS = [dict(min_steps=m, resolve_steps=r, warmup=w, protect=p, relearn_after=a)
            for m, r, w, p, a in itertools.product((1, 3), (1, 4), (0, 25), (True, False),
                                                   (None, 15))]


def python_steps(scores: np.ndarray, t: np.ndarray | None, settings: dict, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(decider_module, "HAVE_NUMBA", False)
        decider = Decider(cutoff=3.0, **settings).reset(scores.shape[1])
        steps = [decider.update(row, None if t is None else t[k])
                 for k, row in enumerate(scores)]
        return steps, decider.state_dict()


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("timed", [True, False])
def test_compiled_blocks_and_steps_equal_the_python_steps(settings, timed, monkeypatch):
    if not decider_module.HAVE_NUMBA:
        pytest.skip("numba is not installed: there is no compiled path")
    scores = scores_family(seed=len(str(settings)) + timed)
    t = 1.7e9 + 60.0 * np.arange(len(scores)) if timed else None
    expected, expected_state = python_steps(scores, t, settings, monkeypatch)

    decider = Decider(cutoff=3.0, **settings).reset(scores.shape[1])
    assert decider._compiled
    cut = 137
    blocks = [decider.update_many(scores[:cut], None if t is None else t[:cut]),
              decider.update_many(scores[cut:], None if t is None else t[cut:])]
    for name in ("level", "threshold", "above", "active", "protect", "learning"):
        got = np.vstack([getattr(b, name) for b in blocks])
        want = np.vstack([getattr(s, name) for s in expected])
        np.testing.assert_array_equal(got, want, err_msg=name)
    got_changes = [(row + (cut if k else 0), c.series, c.status, c.start)
                   for k, b in enumerate(blocks) for row, c in b.changes]
    want_changes = [(row, c.series, c.status, c.start) for row, s in enumerate(expected)
                    for c in s.changes]
    assert got_changes == want_changes
    assert any(status == "firing" for _, _, status, _ in want_changes)
    assert states_equal(decider.state_dict(), expected_state)

    single = Decider(cutoff=3.0, **settings).reset(scores.shape[1])
    for k, row in enumerate(scores):
        step = single.update(row, None if t is None else t[k])
        np.testing.assert_array_equal(step.active, expected[k].active)
        assert [(c.series, c.status, c.start) for c in step.changes] == \
            [(c.series, c.status, c.start) for c in expected[k].changes]
    assert states_equal(single.state_dict(), expected_state)


@pytest.mark.parametrize("until", ["until_protected", "until_unprotected"])
def test_stopping_rows_match_the_python_path(until, monkeypatch):
    scores = scores_family(seed=7)
    settings = dict(min_steps=2, resolve_steps=2, protect=True, relearn_after=None)
    expected, _ = python_steps(scores, None, settings, monkeypatch)
    protect = np.array([s.protect for s in expected])
    compiled = Decider(cutoff=3.0, **settings).reset(scores.shape[1])
    with monkeypatch.context() as patch:
        patch.setattr(decider_module, "HAVE_NUMBA", False)
        reference = Decider(cutoff=3.0, **settings).reset(scores.shape[1])
        want = reference.update_many(scores, **{until: True})
    got = compiled.update_many(scores, **{until: True})
    rows = protect.any(axis=1) if until == "until_protected" else ~protect.all(axis=1)
    assert got.level.shape[0] == want.level.shape[0] == int(np.argmax(rows)) + 1
    np.testing.assert_array_equal(got.active, want.active)
    assert states_equal(compiled.state_dict(), reference.state_dict())
