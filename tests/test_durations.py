"""``kizashi.durations``: the one rule of durations, as operators write them in Prometheus.

Every real number type is a number of seconds, as a plain one is (detector parameters
and horizons arrive as numpy scalars from arrays and tables; a numpy integer or float
once failed as "not a duration"). Text is a number of seconds, one number with a unit,
or a compound such as ``1h30m`` (largest unit first, each once; ``1h30m`` was refused
by this parser while the Alertmanager routes' own parser read it). The expectations
below are worked out by hand from the unit sizes, not by the code.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from kizashi.durations import duration_text, parse_duration

NUMBER_TYPES = [int, float, np.int8, np.int16, np.int32, np.int64, np.uint16, np.uint64,
                np.float16, np.float32, np.float64]

MINUTE, HOUR, DAY, WEEK, YEAR = 60.0, 3600.0, 86400.0, 604800.0, 31536000.0


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


#: text → seconds, by hand
ACCEPTED = {
    # a number of seconds
    "90": 90.0, "1.5": 1.5, ".5": 0.5, "1e3": 1000.0, " 42 ": 42.0,
    # one unit
    "500ms": 0.5, "5ms": 0.005, "30s": 30.0, "5m": 5 * MINUTE, "1.5h": 1.5 * HOUR,
    ".5h": 0.5 * HOUR, "7d": 7 * DAY, "2w": 2 * WEEK, "1y": YEAR, "1e3s": 1000.0,
    "1E3s": 1000.0, "2.5e-1m": 15.0,
    # compounds, largest unit first
    "1h30m": 1.5 * HOUR, "2d12h": 2.5 * DAY, "1m30s": 90.0, "1m5s": 65.0, "1m1ms": 60.001,
    "1s500ms": 1.5, "1d2h3m4s5ms": DAY + 2 * HOUR + 3 * MINUTE + 4 + 0.005,
    "1y2w": YEAR + 2 * WEEK, "1w1d": 8 * DAY, "1h0m": HOUR, "0h30m": 30 * MINUTE,
    "0d0h0m1s": 1.0,
    # fractions inside compounds, each part a number with its unit
    "1.5h30m": 2 * HOUR, "1h0.5m": HOUR + 30.0, "1d12.5h": DAY + 12.5 * HOUR,
    # spaces around, between number and unit, between parts (what duration_text writes)
    " 5m ": 5 * MINUTE, "5 m": 5 * MINUTE, "1.5 h": 1.5 * HOUR, "1h 30m": 1.5 * HOUR,
    "1 h 30 m": 1.5 * HOUR, "2d\t12h": 2.5 * DAY,
}


@pytest.mark.parametrize(("text", "seconds"), ACCEPTED.items())
def test_prometheus_durations_and_their_compounds_are_read(text, seconds):
    got = parse_duration(text)
    assert type(got) is float
    assert math.isclose(got, seconds, rel_tol=1e-12), (text, got)


#: text → a piece of the one-line message that says why it is refused
REFUSED = {
    # nothing
    "": "not a duration", "   ": "not a duration",
    # units out of order or repeated (Prometheus refuses these too)
    "30m1h": "largest down", "1h1h": "largest down", "1s1m": "largest down",
    "500ms1s": "largest down", "1d 1d": "largest down", "1w1y": "largest down",
    "1h30m1h": "largest down", "1m1m1m": "largest down",
    # upper-case units (5M might be months)
    "5M": "lower case", "1H30M": "lower case", "1MS": "lower case", "7D": "lower case",
    "1e3S": "lower case",
    # signs
    "-1h": "not a duration", "+1h": "not a duration", "1h-30m": "not a duration",
    "-5": "not a duration", "+5": "not a duration",
    # a number without a unit, or a unit without a number, inside a compound
    "1h30": "not a duration", "1 30m": "not a duration", "h": "not a duration",
    "m30s": "not a duration", "5 m m": "not a duration", "1h h": "not a duration",
    # not units, not numbers
    "6x": "not a duration", "1us": "not a duration", "1ns": "not a duration",
    "1mo": "not a duration", "1..5h": "not a duration", "5.h": "not a duration",
    "1_000s": "not a duration", "١s": "not a duration", "1,5h": "not a duration",
    "nan": "not a duration", "inf": "not a duration", "1e": "not a duration",
    "1" * 100_000 + "x": "not a duration",
    # zero, and what is not finite
    "0": "positive", "0s": "positive", "0h0m": "positive", "1e-400s": "positive",
    "1e400s": "finite", "1e400": "finite", "1e308y": "finite", "1h1e400s": "finite",
    "1e308d1s": "finite",
}


@pytest.mark.parametrize(("text", "why"), REFUSED.items(),
                         ids=[t[:20] for t in REFUSED])
def test_what_prometheus_would_refuse_is_refused_in_one_line(text, why):
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    message = str(info.value)
    assert why in message, message
    assert "\n" not in message and len(message) < 500, message
    if why in ("not a duration", "lower case"):  # the examples, the compound among them
        assert "30s, 5m, 1h30m, 7d, 2w or a number of seconds" in message, message


@pytest.mark.parametrize("value", [10**400, -(10**400), Fraction(10**400, 3)])
def test_numbers_beyond_a_float_are_refused_as_not_finite(value):
    with pytest.raises(ValueError, match="finite"):
        parse_duration(value)


@pytest.mark.parametrize("value", [None, b"5m", ["5m"], {"5m": 1}, 1 + 2j])
def test_what_is_neither_text_nor_a_number_is_refused(value):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(value)


@pytest.mark.parametrize("value", [0, 0.0, np.int64(0), "0", "0s", "0ms", "0h0m", " 0 m "])
def test_zero_where_it_is_allowed(value):
    assert parse_duration(value, allow_zero=True) == 0.0


@pytest.mark.parametrize("value", [-1, -0.5, "-1s", "-0s", math.nan, "1e400s", True])
def test_allowing_zero_allows_nothing_else(value):
    with pytest.raises(ValueError):
        parse_duration(value, allow_zero=True)


@pytest.mark.parametrize("seconds", [*ACCEPTED.values(), 0.001, 1.0, 59.0, 61.0, 299.0,
                                     3599.0, 3601.0, 5401.0, 86399.0, 86401.0, 7 * DAY + 1,
                                     YEAR + 1, 1e-7, 1e12])
def test_duration_text_reads_back(seconds):
    """What duration_text writes is a duration, the same to its six significant digits."""
    assert math.isclose(parse_duration(duration_text(seconds)), seconds, rel_tol=5e-6)
