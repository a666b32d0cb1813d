"""The unit a streaming detector scores a series in (``magnitudes.unit_scaled``).

Properties, with expectations written out here rather than taken from the module:

* a series whose non-zero values all lie within 2^±400 is passed on bit for bit, in any
  blocks (ordinary series are scored exactly as before the factor existed);
* the factor is chosen from the first non-zero value; while it is provisional (the first
  8 non-zero values) the values vote on it (Boyer–Moore's majority vote): one it keeps
  within 2^±400 adds a vote, one it would take beyond takes a vote away, or chooses the
  factor again when it has only its own vote left; after that it is final: a jump to
  1e300 is an outlier in the series' unit, not a new one;
* blocks and single steps give the same factors and the same state;
* a state saved before the factor was provisional keeps its factor.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kizashi.streaming.magnitudes import unit_scaled

EDGE = 2.0 ** 400


def fresh(n: int) -> dict:
    return {"n_series": n, "factor": np.full(n, np.nan),
            "unit_seen": np.zeros(n, dtype=np.int64), "unit_votes": np.zeros(n, dtype=np.int64)}


def in_blocks(values: np.ndarray, cuts: list[int]) -> tuple[np.ndarray, dict]:
    state = fresh(values.shape[1])
    edges = [0, *sorted(c for c in cuts if 0 < c < len(values)), len(values)]
    parts = [unit_scaled(state, values[a:b]) for a, b in pairwise(edges)]
    return np.vstack(parts), state


ordinary_values = st.one_of(
    st.floats(1.0 / EDGE, EDGE), st.floats(-EDGE, -1.0 / EDGE), st.just(0.0),
    st.just(float("nan")))


@settings(max_examples=60, deadline=None)
@given(values=arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(1, 3)),
                     elements=ordinary_values),
       cuts=st.lists(st.integers(0, 40), max_size=4))
def test_ordinary_series_pass_bit_for_bit(values, cuts):
    scaled, state = in_blocks(values, cuts)
    assert scaled.tobytes() == values.tobytes()
    assert np.all((state["factor"] == 1.0) | np.isnan(state["factor"]))


def written_out(column: np.ndarray) -> np.ndarray:
    """The rule, one value at a time."""
    factor, seen, votes, out = math.nan, 0, 0, column.copy()
    for i, value in enumerate(column.tolist()):  # (Python floats: inf without a warning)
        if math.isfinite(value) and value != 0.0 and seen < 8:
            seen += 1
            if not math.isnan(factor) and 1.0 / EDGE <= abs(value * factor) <= EDGE:
                votes += 1
            elif votes >= 2:
                votes -= 1
            else:
                extreme = not 1.0 / EDGE <= abs(value) <= EDGE
                factor = math.ldexp(1.0, min(max(1 - math.frexp(value)[1], -1022), 1023)) \
                    if extreme else 1.0
                votes = 1
        product = value * (1.0 if math.isnan(factor) else factor)
        out[i] = math.copysign(np.finfo(np.float64).max, product) \
            if math.isinf(product) and math.isfinite(value) else product
    return out


wild_values = st.sampled_from([0.0, float("nan"), 1.0, 37.5, -2.0, 1e-200, 1e200, 1e300,
                               -1e300, 1e-300, 5e-310, 1.7e308, -1.7e308, 3e-130])


@settings(max_examples=150, deadline=None)
@given(values=arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(1, 3)),
                     elements=wild_values),
       cuts=st.lists(st.integers(0, 30), max_size=4))
def test_the_rule_in_any_blocks(values, cuts):
    scaled, state = in_blocks(values, cuts)
    expected = np.column_stack([written_out(values[:, j]) for j in range(values.shape[1])])
    assert scaled.tobytes() == expected.tobytes()
    stepped, state_steps = in_blocks(values, list(range(len(values))))
    assert stepped.tobytes() == scaled.tobytes()
    assert state["factor"].tobytes() == state_steps["factor"].tobytes()
    assert state["unit_seen"].tolist() == state_steps["unit_seen"].tolist()
    assert state["unit_votes"].tolist() == state_steps["unit_votes"].tolist()


def test_a_first_glitch_is_taken_back_and_a_late_jump_is_not():
    values = np.r_[1e-200, np.arange(1.0, 20.0), 1e300, 5.0][:, None]
    scaled, state = in_blocks(values, [3])
    assert 1.0 <= scaled[0, 0] < 2.0          # the glitch, at its own unit
    assert scaled[1:, 0].tolist() == values[1:, 0].tolist()  # the rest: as it is
    assert state["factor"].tolist() == [1.0] and state["unit_seen"].tolist() == [8]


@pytest.mark.parametrize("glitch", [1e300, -1.7e308, 1e-300, 5e-310, 1e200])
@pytest.mark.parametrize("position", range(1, 8))
def test_a_glitch_among_the_first_values_of_an_ordinary_series_is_outvoted(glitch, position):
    """Ordinary values before it (at least two) outvote it: the unit stays 1, and the
    glitch is passed on (or held at the float limit), the values after it unchanged."""
    values = np.r_[np.arange(1.0, 1.0 + position), glitch, np.arange(50.0, 70.0)][:, None]
    scaled, state = in_blocks(values, [position])
    assert state["factor"].tolist() == [1.0]
    if position >= 2:
        assert scaled[position, 0] == glitch
    assert scaled[position + 1:, 0].tolist() == values[position + 1:, 0].tolist()


def test_a_state_saved_before_the_factor_was_provisional_keeps_it():
    state = {"n_series": 2, "factor": np.array([2.0 ** -996, np.nan])}
    scaled = unit_scaled(state, np.array([[50.0, 1e-200], [1e300, 50.0]]))
    assert scaled[:, 0].tolist() == [50.0 * 2.0 ** -996, 1e300 * 2.0 ** -996]
    assert scaled[1, 1] == 50.0 and state["unit_seen"].tolist() == [8, 2]
