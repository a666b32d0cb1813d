from __future__ import annotations

import json

import numpy as np
import pytest

from kizashi.state import copy_state, from_json_safe, states_equal, to_json_safe


def test_round_trip_is_bit_exact():
    state = {"a": np.array([[0.1, -0.0], [np.nan, np.inf]]), "i": np.arange(3, dtype=np.int32),
             "b": np.array([True, False]), "n": 5, "x": float("-inf"), "s": "krylov",
             "nested": {"lst": [1.5, np.float64(2.5)]}, "none": None}
    back = from_json_safe(json.loads(json.dumps(to_json_safe(state))))
    assert states_equal(state, back)
    assert back["i"].dtype == np.int32 and np.signbit(back["a"][0, 1])


def test_copy_is_deep():
    state = {"a": np.zeros(2), "inner": {"b": np.ones(1)}}
    copied = copy_state(state)
    copied["inner"]["b"][0] = 7
    assert state["inner"]["b"][0] == 1


def test_rejects_objects():
    with pytest.raises(TypeError, match="cannot store"):
        to_json_safe({"f": object()})
    with pytest.raises(TypeError, match="object arrays"):
        to_json_safe({"a": np.array([None])})
