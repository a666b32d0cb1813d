"""Detector state as plain data: copy it, and turn it into JSON and back without loss.

A detector's streaming state is a (possibly nested) dict whose leaves are numpy
arrays, Python numbers, strings, booleans or ``None``. :func:`to_json_safe`
turns such a dict into something :mod:`json` writes, with arrays stored
bit-exactly (base64 of their bytes) and non-finite floats spelled out, so that
``from_json_safe(json.loads(json.dumps(to_json_safe(s))))`` equals ``s`` exactly.

Examples
--------
>>> import json, numpy as np
>>> state = {"mean": np.array([0.1, np.nan]), "n": 3, "inner": {"x": float("inf")}}
>>> back = from_json_safe(json.loads(json.dumps(to_json_safe(state))))
>>> states_equal(state, back)
True
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

State = dict[str, Any]

_ARRAY = "__ndarray__"
_FLOAT = "__float__"


def copy_state(state: Any) -> Any:
    """Deep-copy a state tree of dicts, lists and arrays (arrays are copied, scalars shared)."""
    if isinstance(state, dict):
        return {key: copy_state(value) for key, value in state.items()}
    if isinstance(state, list):
        return [copy_state(value) for value in state]
    if isinstance(state, np.ndarray):
        return state.copy()
    return state


def to_json_safe(state: Any) -> Any:
    """Encode a state tree so that :func:`json.dumps` accepts it and nothing is lost."""
    if isinstance(state, dict):
        for key in state:
            if not isinstance(key, str):
                raise TypeError(f"state keys must be strings, got {key!r}")
        return {key: to_json_safe(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return [to_json_safe(value) for value in state]
    if isinstance(state, np.ndarray):
        if state.dtype == object:
            raise TypeError("object arrays cannot be part of a detector state")
        data = np.ascontiguousarray(state)
        return {
            _ARRAY: base64.b64encode(data.tobytes()).decode("ascii"),
            "dtype": data.dtype.str,
            "shape": list(data.shape),
        }
    if isinstance(state, np.generic):
        return to_json_safe(state.item())
    if isinstance(state, float) and not math.isfinite(state):
        return {_FLOAT: repr(state)}
    if state is None or isinstance(state, (bool, int, float, str)):
        return state
    raise TypeError(f"cannot store {type(state).__name__} in a detector state")


def from_json_safe(data: Any) -> Any:
    """Inverse of :func:`to_json_safe`."""
    if isinstance(data, dict):
        if _ARRAY in data:
            raw = base64.b64decode(data[_ARRAY])
            array = np.frombuffer(raw, dtype=np.dtype(data["dtype"]))
            return array.reshape(data["shape"]).copy()
        if _FLOAT in data:
            return float(data[_FLOAT])
        return {key: from_json_safe(value) for key, value in data.items()}
    if isinstance(data, list):
        return [from_json_safe(value) for value in data]
    return data


def states_equal(a: Any, b: Any) -> bool:
    """True when two state trees hold the same values, bit for bit (NaN equals NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(states_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(states_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a_arr, b_arr = np.asarray(a), np.asarray(b)
        if a_arr.shape != b_arr.shape or a_arr.dtype != b_arr.dtype:
            return False
        return a_arr.tobytes() == b_arr.tobytes()
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return type(a) is type(b) and a == b
