"""A series that sat flat for days and then runs away fast is warned ahead, with an ETA; a flat
series with one spike is not.

The failure class of issue 15's miss: a filesystem at 42 % for 3.5 days that then fills as
``42 + 58·(s/L)^p`` over ``L`` steps to 100 %. The forecasters' day-long ``H``-step records
were flat, so a flat forecaster kept the choice for a whole horizon into the rise. The
expectations come from the rule kizashi is measured against (Prometheus'
``predict_linear(metric[6h], 6h) >= 100``, :mod:`kizashi.prediction.predict_linear`, tested
against Prometheus' definition in ``test_predict_linear.py``): kizashi must warn no later than
it, and before the limit, with an ETA within the horizon.
"""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.prediction.predict_linear import predict_linear
from kizashi.prediction.predictor import predict_frame

STEP = 300.0
FLAT = 1008            # 3.5 days of 5-minute steps
LENGTH = FLAT + 140
HORIZON = 6 * 3600.0
#: rises of 4 h, 6.6 h (the miss) and 10 h, growing as s², s³ and s⁴
RISES = [(steps, power) for steps in (48, 79, 120) for power in (2, 3, 4)]


def frame_of(columns: list[np.ndarray], names: list[str]) -> SeriesFrame:
    seconds = np.arange(LENGTH) * STEP
    return SeriesFrame.from_arrays(seconds, np.column_stack(columns), names,
                                   ["fs_used_pct"] * len(names))


def flat(rng: np.random.Generator) -> np.ndarray:
    return 42.0 + rng.normal(0.0, 0.15, LENGTH)


@pytest.mark.slow
def test_a_fast_accelerating_rise_after_flat_days_is_warned_ahead_with_an_eta():
    rng = np.random.default_rng(1)
    columns, failures = [], []
    for steps, power in RISES:
        y = flat(rng)
        s = np.arange(LENGTH - FLAT, dtype=np.float64)
        y[FLAT:] = np.minimum(42.0 + 58.0 * (s / steps) ** power + y[FLAT:] - 42.0, 100.0)
        y[FLAT + steps:] = 100.0           # full: the failure row
        columns.append(y)
        failures.append(FLAT + steps)
    frame = frame_of(columns, [f"rise{steps}p{power}" for steps, power in RISES])
    result = predict_frame(frame, "6h")
    seconds = np.arange(LENGTH) * STEP
    with np.errstate(invalid="ignore"):
        rule = predict_linear(seconds, frame.values, HORIZON, HORIZON) >= 100.0
    for j, failure in enumerate(failures):
        name = frame.entities[j]
        before = result.warning[FLAT:failure, j]
        assert before.any(), f"{name}: no warning before the limit"
        first = FLAT + int(np.argmax(before))
        fired = rule[FLAT:failure, j]
        if fired.any():
            assert first <= FLAT + int(np.argmax(fired)), f"{name}: later than predict_linear"
        eta = result.eta[first, j]
        assert not np.isnat(eta), f"{name}: a warning without an ETA"
        ahead = (eta - frame.timestamps[first]) / np.timedelta64(1, "s")
        assert 0 < ahead <= HORIZON, name
        assert not result.warning[:FLAT, j].any(), f"{name}: warned while flat"


@pytest.mark.slow
def test_a_flat_series_with_one_spike_does_not_warn():
    """Spikes of +10 and +25 points lasting 5 minutes, 15 minutes and an hour: every
    forecaster misses them alike, so the records still choose, and nothing heads for 100."""
    rng = np.random.default_rng(2)
    columns, names = [], []
    for height in (10.0, 25.0):
        for width in (1, 3, 12):
            y = flat(rng)
            y[900:900 + width] += height
            columns.append(y)
            names.append(f"spike{height:.0f}w{width}")
    result = predict_frame(frame_of(columns, names), "6h")
    assert np.isfinite(result.probability[-1]).all()   # learned: the answer is a real "no"
    assert not result.warning.any(), [n for n, w in zip(names, result.warning.any(axis=0),
                                                          strict=True) if w]
