"""Streaming detectors on one shape in units from 2^-1000 to 2^1000: the same scores.

A discord, SST or ChangeFinder score does not depend on the unit of a series: the
discord's distance is in standard deviations of the series, SST's change score is a
cosine between subspaces, ChangeFinder's stage-1 log-loss shifts by a constant that its
second stage learns away. A series of 1e300 (a broken exporter, a counter in the wrong
unit) squared its differences into ``inf`` instead: the discord gave no score at all
from ~1e165 on (``kizashi detect -d discord`` then said "all still learning"), SST
scored 0 everywhere and ChangeFinder flagged a hundred steps of a calm series.

The family: one shape (a wave with a spike and a level shift), multiplied by ``2^k``.
Multiplying by a power of two is exact in floating point, so a unit-free score at
``2^k`` must equal the one at ``2^0``:

* the discord's for every ``k`` (its arithmetic holds no absolute constant), bit for bit;
* SST's and ChangeFinder's where the magnitude is extreme (``|k| > 400``: beyond
  ``1e120``, below ``1e-120``), which is what this fix brings to an ordinary magnitude;
  nearer 1 each still has absolute constants of its own (a noise floor, a variance
  floor), left as they are, with the scores reported (docs/benchmarks.md) unchanged.

And the state must go on alike whether a series is scored in one batch or step by step.
"""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.registry import create

N = 700
T = 1_704_067_200 + np.arange(N) * 300.0


def _shape() -> np.ndarray:
    i = np.arange(N)
    values = 1.5 + 0.1 * np.sin(i / 10) + 0.05 * np.cos(i / 3.3)
    values[500] += 0.8  # a spike
    values[600:] += 0.3  # a level shift
    return values


EXTREME = [-1000, -800, -600, -401, 401, 600, 800, 1000]
ALL = [-1000, -700, -401, -300, -100, -10, 10, 100, 300, 401, 700, 1000]
CASES = [("discord", k) for k in ALL] + [(name, k) for name in ("sst", "changefinder")
                                         for k in EXTREME]


@pytest.mark.parametrize(("name", "k"), CASES, ids=[f"{n}-2^{k}" for n, k in CASES])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_scores_do_not_depend_on_the_unit(name, k):
    base = _shape()
    expected = create(name).score(base, T)
    got = create(name).score(base * 2.0 ** k, T)
    assert np.isfinite(expected[~np.isnan(expected)]).all()
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", ["discord", "sst", "changefinder"])
@pytest.mark.parametrize("k", [-1000, 1000])
def test_batch_and_steps_agree_on_an_extreme_series(name, k):
    values = np.column_stack([_shape() * 2.0 ** k, _shape()])  # one extreme, one ordinary
    values[:5, 0] = 0.0  # zeros first: the unit is taken from the first non-zero value
    batch = create(name).score(values, T)
    stepper = create(name)
    steps = np.array([stepper.update(row, t) for row, t in zip(values, T, strict=True)])
    np.testing.assert_array_equal(steps, batch)
    if name != "changefinder":  # (its zeros are scored in its own unit: a constant apart)
        ordinary = np.r_[np.zeros(5), _shape()[5:]]
        np.testing.assert_array_equal(batch[:, 0], create(name).score(ordinary, T))


@pytest.mark.parametrize("name", ["discord", "sst", "changefinder"])
def test_a_state_saved_before_the_unit_was_kept_goes_on_in_its_own_unit(name):
    values = _shape()[:, None]
    detector = create(name)
    detector.update_many(values[:300], T[:300])
    saved = detector.state_dict()
    saved["state"].pop("factor", None)  # as a state saved before this change
    restored = create(name).load_state_dict(saved)
    fresh = create(name).load_state_dict(detector.state_dict())
    np.testing.assert_array_equal(restored.update_many(values[300:], T[300:]),
                                  fresh.update_many(values[300:], T[300:]))
