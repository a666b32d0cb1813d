"""--detector/--param checks (kizashi.cli.detector_options), by kind of parameter."""

from __future__ import annotations

import pytest

from kizashi.cli.detector_options import checked_params, naming
from kizashi.detectors.registry import create


@pytest.mark.parametrize(("params", "message"), [
    ({"k": "abc"}, "--param k must be a number, got 'abc'"),
    ({"k": float("nan")}, "--param k must be a finite number"),
    ({"window": 2.5}, "--param window must be a whole number"),
    ({"window": 10**9}, "--param window must be a whole number from 0 to"),
    ({"window": True}, "--param window must be a whole number"),
    ({"speed": 3}, "detector 'threshold' has no parameter 'speed'"),
])
def test_bad_parameter_is_named(params, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        checked_params("threshold", params)


@pytest.mark.parametrize("name", ["", "nosuch", "Threshold"])
def test_unknown_detector_is_refused(name):
    with pytest.raises(ValueError, match=f"unknown detector {name!r}"):
        checked_params(name, {})


def test_whole_floats_become_ints_and_the_detector_builds():
    params = checked_params("threshold", {"window": 1e2, "min_periods": 10.0, "k": 2.5})
    assert params == {"window": 100, "min_periods": 10, "k": 2.5}
    assert type(params["window"]) is int
    assert create("threshold", **params).window == 100


def test_naming_adds_the_source_once():
    assert naming("a.csv", "bad") == "a.csv: bad"
    assert naming("a.csv", "a.csv, line 2: bad") == "a.csv, line 2: bad"
    assert naming(None, "bad") == "bad"
