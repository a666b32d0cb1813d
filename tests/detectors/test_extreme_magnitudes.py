"""Every registered detector against values at the edges of the float range.

A broken exporter sends 1e300, a sentinel, ``±1.8e308``, or 1e-200 as a series' first
value; the detectors square, sum and divide such values. The family: ordinary series
(levels of about 10 and 50) with, in two of three series,

* a jump to ``1e300``, ``-1e300`` or ``1e-300`` after ordinary values, then ordinary again;
* a first value of ``1e-200`` or ``1e200``, then ordinary values;
* one value at ``±`` the largest float; a run of five near it;
* ten values alternating ``1e300`` and ``1e-300``.

For every detector × input: no overflow warning escapes (warnings are errors here), every
score is finite, a block, single steps and a stream saved through JSON (the project's
state writer, :func:`kizashi.state.to_json_safe`, read back with ``allow_nan=False``)
give the same scores, the state holds no more infinities than after the ordinary series
(an ``inf`` that a fresh state starts with, e.g. "no positive value yet", is not one the
data put there), and the extreme value scores above the ordinary one in its place.

Where a detector's memory is finite and documented (its window, ``baseline_steps``), the
ordinary values after it has passed must be scored as after an ordinary prefix: the
expectation is the same detector on the same series with the extreme values replaced by
the ordinary ones. Detectors whose memory is longer than these series by design (the
range seen so far: ``range_rule``, ``context``; half-lives of weeks or of thousands of steps:
``seasonal_threshold``, the deep detectors' error normaliser, the ensemble's likelihoods,
``peers``' running spread; ChangeFinder's and the discord's discounted or cumulative
moments) are only held to the rest.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from kizashi.detectors import registry
from kizashi.state import from_json_safe, states_equal, to_json_safe
from kizashi.testing import conformance

N = 240
J = 80
MAX = float(np.finfo(np.float64).max)
T = 1.7e9 + conformance.STEP_SECONDS * np.arange(N)

#: row → values of the first two series (the third stays ordinary throughout)
CASES: dict[str, list[tuple[int, tuple[float, float]]]] = {
    "jump_1e300": [(J, (1e300, 1e300))],
    "jump_-1e300": [(J, (-1e300, -1e300))],
    "jump_1e-300": [(J, (1e-300, 1e-300))],
    "first_1e-200": [(0, (1e-200, 1e-200))],
    "first_1e200": [(0, (1e200, 1e200))],
    "float_max": [(J, (MAX, -MAX))],
    "run_near_max": [(J + i, (MAX * (1 - 1e-3 * i), -MAX * (1 - 1e-3 * i))) for i in range(5)],
    "alternating": [(J + i, (1e300, 1e-300) if i % 2 == 0 else (1e-300, 1e300))
                    for i in range(10)],
}
#: A single value far beyond the series (what "scored highly" is checked on).
LONE = ("jump_1e300", "jump_-1e300", "float_max")


def ordinary() -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.column_stack([10 + rng.normal(size=N), 12 + rng.normal(size=N),
                            50 + 5 * rng.normal(size=N)])


def training() -> np.ndarray:
    rng = np.random.default_rng(8)
    return np.column_stack([10 + rng.normal(size=150), 12 + rng.normal(size=150),
                            50 + 5 * rng.normal(size=150)])


def with_case(case: str) -> tuple[np.ndarray, int]:
    """The ordinary series with ``case``'s values, and the last row that holds one."""
    values = ordinary()
    for row, pair in CASES[case]:
        values[row, :2] = pair
    return values, max(row for row, _ in CASES[case])


def build(name: str):
    detector = conformance.make(name)
    if detector.requires_training:
        detector.fit(training(), 1.6e9 + conformance.STEP_SECONDS * np.arange(150))
    return detector


def memory(detector) -> int | None:
    """Steps after which an extreme value no longer counts, from the detector's own
    documented window (None: longer than these series, or not bounded)."""
    name = type(detector).__name__
    if name == "StaticThreshold":  # a fixed rule
        return 0
    if name == "ReferenceDetector":  # fitted once, never learns: its window of rows
        return int(detector.window)
    if name == "SingularSpectrumTransform":  # the past and test matrices' values
        return int(detector.n_warmup)
    if name in ("RollingSigmaThreshold", "RollingQuantileThreshold", "CnnDetector"):
        return int(detector.baseline_steps)
    return None


def infinities(state: object, path: str = "") -> dict[str, int]:
    """Number of ±inf per float leaf of a state tree."""
    found: dict[str, int] = {}
    if isinstance(state, dict):
        for key, value in state.items():
            found.update(infinities(value, f"{path}.{key}"))
    elif isinstance(state, np.ndarray) and state.dtype.kind == "f":
        found[path] = int(np.isinf(state).sum())
    elif isinstance(state, float):
        found[path] = int(math.isinf(state))
    return found


def extra_infinities(detector, reference) -> dict[str, int]:
    """The state's ±inf beyond those of ``reference`` (the same detector on ordinary data)."""
    usual = infinities(reference.state_dict()["state"])
    return {path: count for path, count in infinities(detector.state_dict()["state"]).items()
            if count > usual.get(path, 0)}


def through_json(name: str, detector):
    """A new detector ``name`` from ``detector``'s state, written as strict JSON by the
    project's writer and read back (exactly)."""
    saved = detector.state_dict()
    text = json.dumps(to_json_safe(saved), allow_nan=False)
    back = from_json_safe(json.loads(text))
    assert states_equal(saved, back)
    return build(name).load_state_dict(back)


def scores_of(detector, values: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.asarray(detector.update_many(values, t)).reshape(len(values), -1)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", registry.names())
def test_extreme_values(name, case):
    values, last = with_case(case)
    detector = build(name)
    resumed_from = build(name)
    scores = scores_of(detector, values, T)

    assert np.isfinite(scores).all(), np.argwhere(~np.isfinite(scores))[:5]

    # blocks, single steps around the extreme values, and a restart through JSON
    cut = max(last - 1, 1)
    parts = [scores_of(resumed_from, values[:cut], T[:cut])]
    for row in range(cut, min(last + 3, N)):
        parts.append(np.atleast_1d(resumed_from.update(values[row], T[row]))[None, :])
    done = min(last + 3, N)
    resumed = through_json(name, resumed_from)
    parts.append(scores_of(resumed, values[done:], T[done:]))
    np.testing.assert_allclose(np.vstack(parts), scores, rtol=1e-9, atol=1e-12)

    # no infinity in the state that ordinary data would not leave there: just after the
    # extreme values (still in every window) and at the end
    reference = build(name)
    expected = scores_of(reference, ordinary()[:done], T[:done])
    assert not extra_infinities(resumed_from, reference)
    expected = np.vstack([expected, scores_of(reference, ordinary()[done:], T[done:])])
    assert not extra_infinities(detector, reference)
    assert not extra_infinities(resumed, reference)

    if case in LONE and name not in ("peers", "ensemble", "range_rule", "sst"):
        # each series' extreme value scores above its ordinary value in that place (peers:
        # two of three series at 1e300 are the group's median, not its odd one out; the
        # ensemble's likelihoods still learn at row J; the range rule scores 1 either way;
        # SST's is a change of shape, bounded by 1, that white noise already nears there)
        assert (scores[J, :2] > expected[J, :2]).all(), (scores[J], expected[J])

    steps = memory(detector)
    if steps is not None:
        after = last + 1 + steps + 5
        np.testing.assert_allclose(scores[after:], expected[after:], rtol=1e-6,
                                   atol=1e-9 * np.abs(expected[after:]).max())


def frexp_unit(value: float) -> float:
    """``value`` times the power of two that brings it to [1, 2)."""
    mantissa, _ = math.frexp(value)  # value = mantissa · 2^exponent, |mantissa| in [½, 1)
    return math.ldexp(mantissa, 1)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("case", ["first_1e-200", "first_1e200"])
@pytest.mark.parametrize("name", ["discord", "sst", "changefinder"])
def test_a_first_glitch_does_not_fix_the_unit(name, case):
    """The unit-free detectors choose a series' unit from its first values (``unit_scaled``):
    a first value of 1e-200 or 1e200 before values of 10 is remembered at the magnitude
    its own unit gave it (about 1), and the rest is scored in the unit of 10 — exactly as
    the series that starts with that value at about 1."""
    values, _ = with_case(case)
    rescaled = values.copy()
    rescaled[0, :2] = [frexp_unit(v) for v in values[0, :2]]
    assert 1.0 <= rescaled[0, 0] < 2.0
    got = build(name).score(values, T)
    np.testing.assert_array_equal(got, build(name).score(rescaled, T))
    assert np.isfinite(got).all() and np.ptp(got[100:, :2]) > 0
