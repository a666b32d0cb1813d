"""Every registered calibrator on raw scores at the edge of the float range.

Detectors bound their scores to ±1e300 (``kizashi.streaming.robust.MAX_SCORE``) and a few
return a value near the float limit unscaled (``static_threshold``'s distance to its
bound). A calibrator that squares such a score into its running moments kept ``inf`` in
its state (``zscore``: ``overflow encountered in multiply``, every later level 0). For
each calibrator × family (one score of ±1e300 or ±1.8e308 among ordinary ones, a first
score of 1e300, a run of them), with warnings as errors: finite levels, a state without
``±inf`` that is exact through strict JSON, a block equal to the steps, and the same
levels after the state is restored.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from kizashi.engine.calibrators import CALIBRATORS, create_calibrator
from kizashi.state import from_json_safe, states_equal, to_json_safe

N = 400
MAX = float(np.finfo(np.float64).max)
FAMILY = {
    "one_1e300": [(200, 1e300)],
    "one_-1e300": [(200, -1e300)],
    "one_max": [(200, MAX)],
    "one_-max": [(200, -MAX)],
    "first_1e300": [(0, 1e300)],
    "run_1e300": [(200 + i, 1e300) for i in range(10)],
}


def scores(case: str) -> np.ndarray:
    raw = np.abs(np.random.default_rng(5).normal(1.0, 0.3, (N, 2)))
    for row, value in FAMILY[case]:
        raw[row, 0] = value
    return raw


def finite_state(state: object) -> bool:
    if isinstance(state, dict):
        return all(finite_state(value) for value in state.values())
    if isinstance(state, np.ndarray) and state.dtype.kind == "f":
        return not np.isinf(state).any()
    if isinstance(state, float):
        return not np.isinf(state)
    return True


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("case", list(FAMILY))
@pytest.mark.parametrize("name", list(CALIBRATORS))
def test_extreme_raw_scores(name, case):
    raw = scores(case)
    block = create_calibrator(name).reset(2)
    levels = np.asarray(block.transform(raw))
    assert not np.isinf(levels).any()
    assert finite_state(block.state_dict())

    stepper = create_calibrator(name).reset(2)
    half = N // 2 + 5
    steps = [np.asarray(stepper.update(row)) for row in raw[:half]]
    saved = json.dumps(to_json_safe(stepper.state_dict()), allow_nan=False)
    restored = create_calibrator(name).load_state_dict(from_json_safe(json.loads(saved)))
    assert states_equal(restored.state_dict(), stepper.state_dict())
    steps += [np.asarray(restored.update(row)) for row in raw[half:]]
    np.testing.assert_allclose(np.vstack(steps), levels, rtol=1e-9, atol=1e-12,
                               equal_nan=True)
