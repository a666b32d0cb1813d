"""The benchmarks' ``--json``: strict JSON (RFC 8259) for every value a row may hold.

Each value is written and read back by a parser that refuses Python's ``NaN`` and
``Infinity`` words (as jq, browsers and Go do); non-finite numbers come back as null,
numpy values as their plain equals, everything else unchanged.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from kizashi.cli.json_output import write_json


def _strict_load(text: str):
    def refuse(word):
        raise ValueError(f"not JSON: {word}")
    return json.loads(text, parse_constant=refuse)


VALUES = {
    "nan": (float("nan"), None),
    "inf": (float("inf"), None),
    "-inf": (float("-inf"), None),
    "numpy nan": (np.float64("nan"), None),
    "numpy float": (np.float32(0.5), 0.5),
    "numpy int": (np.int64(7), 7),
    "numpy array with nan": (np.array([1.0, np.nan]), [1.0, None]),
    "nested": ({"a": [{"b": float("nan")}, (1, np.inf)]}, {"a": [{"b": None}, [1, None]]}),
    "plain": ({"s": "NaN", "x": 1.25, "ok": True, "none": None},
              {"s": "NaN", "x": 1.25, "ok": True, "none": None}),
}


@pytest.mark.parametrize("case", sorted(VALUES))
def test_every_value_is_written_as_strict_json(tmp_path, case):
    value, expected = VALUES[case]
    path = tmp_path / "sub" / "rows.json"
    write_json(path, [{"value": value}])
    assert _strict_load(path.read_text()) == [{"value": expected}]
