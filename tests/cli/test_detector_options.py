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


def test_state_larger_than_free_memory_is_refused_before_scoring(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from kizashi.cli import detector_options
    from kizashi.cli.main import cli

    # a window of 1000 float64 values (+ its counters) per series: 8000+ bytes each
    monkeypatch.setattr(detector_options, "available_memory", lambda: 5 * 8000)
    check = detector_options.check_state_memory
    check("threshold", {"window": 1000}, n_series=4)
    with pytest.raises(ValueError, match=r"state for 6 series .* more than the 0\.0 GiB free"):
        check("threshold", {"window": 1000}, n_series=6)
    source = tmp_path / "in.csv"
    source.write_text("timestamp,a,b,c,d,e,f\n" + "".join(
        f"{i * 60},{','.join(str(i % 5) for _ in range(6))}\n" for i in range(40)))
    result = CliRunner().invoke(cli, ["detect", str(source), "-d", "threshold", "--param",
                                      "window=1000", "--param", "min_periods=10"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines()
        if line.startswith(f"Error: {source}: detector 'threshold' would keep")]
