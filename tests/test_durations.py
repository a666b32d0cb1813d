"""``kizashi.durations``: every real number type is a number of seconds, as a plain one is.

Detector parameters and horizons arrive as numpy scalars from arrays and tables; a
numpy integer or float once failed as "not a duration".
"""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.durations import parse_duration

NUMBER_TYPES = [int, float, np.int8, np.int16, np.int32, np.int64, np.uint16, np.uint64,
                np.float16, np.float32, np.float64]


@pytest.mark.parametrize("kind", NUMBER_TYPES)
@pytest.mark.parametrize("seconds", [1, 60, 90])
def test_any_real_number_type_is_seconds(kind, seconds):
    got = parse_duration(kind(seconds))
    assert got == float(seconds) and type(got) is float


@pytest.mark.parametrize("value", [True, np.bool_(True), 0, np.int64(-5), np.float64("nan"),
                                   np.float64("inf"), 1 + 2j, [60]])
def test_what_is_no_duration_stays_refused(value):
    with pytest.raises(ValueError):
        parse_duration(value)
