"""``kizashi bench … --param`` is read and checked as ``kizashi detect`` reads it.

Every bad ``--param`` is a usage error (exit status 2) in one line naming ``--param``
and the parameter, before any dataset is looked at: ``KIZASHI_DATA`` points at an empty
folder, so a command that read data first would fail about the data (or try to download).
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.detectors.registry import DETECTORS, get_class, parameters

BENCHES = [["nab", "--no-progress"], ["smd"], ["centre", "--no-progress", "--seed", "1"]]

#: (--param texts, regex of the one line): the same family for every benchmark
BAD_PARAMS = [
    (["k=abc"], r"--param k must be a number, got 'abc'"),
    (["k=nan"], r"--param k must be a finite number"),
    (["k=inf"], r"--param k must be a finite number"),
    (["window=2.5"], r"--param window must be a whole number"),
    (["window=-5"], r"--param window must be a whole number"),
    (["window=1e9"], r"--param window must be a whole number"),
    (["window=true"], r"--param window"),
    (["speed=3"], r"detector 'threshold' has no parameter 'speed'"),
    (["k"], r"--param 'k' is not of the form KEY=VALUE"),
    (["=3"], r"--param '=3' is not of the form KEY=VALUE"),
    ([""], r"--param '' is not of the form KEY=VALUE"),
    (["k=3", "k=4"], r"--param 'k' is given twice"),
    (["window=5"], r"min_periods \(30\)"),  # wrong together: found by building the detector
]


def invoke(tmp_path, monkeypatch, args: list[str]):
    empty = tmp_path / "no-datasets"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("KIZASHI_DATA", str(empty))
    monkeypatch.setenv("KIZASHI_CACHE", str(tmp_path / "cache"))
    return CliRunner().invoke(cli, ["bench", *args])


def one_line(result) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("bench", BENCHES, ids=[b[0] for b in BENCHES])
@pytest.mark.parametrize(("texts", "what"), BAD_PARAMS, ids=[" ".join(t) or "empty"
                                                             for t, _ in BAD_PARAMS])
def test_bad_param_is_a_usage_error_before_any_data(tmp_path, monkeypatch, bench, texts, what):
    options = [a for text in texts for a in ("--param", text)]
    result = invoke(tmp_path, monkeypatch, [*bench, "--detector", "threshold", *options])
    line = one_line(result)
    assert result.exit_code == 2, line
    assert re.search(what, line), line
    assert not (tmp_path / "cache").exists()  # nothing was downloaded


def _numeric_parameters() -> list[tuple[str, str]]:
    """(detector, parameter) of every numeric parameter of the registry's light detectors."""
    out = []
    for name in sorted(DETECTORS):
        cls = get_class(name)
        if getattr(cls, "cross_sectional", False) or name in ("lstm", "autoencoder", "cnn"):
            continue  # (peers' groups come from the data; the deep ones import torch)
        for p in parameters(cls):
            kinds = {k.strip() for k in str(p.annotation).split("|")}
            if kinds and kinds <= {"int", "float", "None"} and kinds & {"int", "float"}:
                out.append((name, p.name))
    return out


NUMERIC = _numeric_parameters()


@pytest.mark.parametrize("value", ["abc", "nan", "-inf"])
@pytest.mark.parametrize(("detector", "param"), NUMERIC, ids=[f"{d}.{p}" for d, p in NUMERIC])
def test_every_numeric_parameter_refuses_non_numbers(tmp_path, monkeypatch, detector, param,
                                                     value):
    result = invoke(tmp_path, monkeypatch, ["nab", "--no-progress", "--detector", detector,
                                            "--param", f"{param}={value}"])
    line = one_line(result)
    assert result.exit_code == 2, line
    assert f"--param {param} " in line, line


def test_unknown_detector_is_one_line(tmp_path, monkeypatch):
    result = invoke(tmp_path, monkeypatch, ["smd", "--detector", "nosuch", "--param", "k=1"])
    assert result.exit_code == 2
    assert "unknown detector 'nosuch'" in one_line(result)


def test_param_with_several_detectors_is_refused(tmp_path, monkeypatch):
    result = invoke(tmp_path, monkeypatch, ["centre", "--detector", "threshold", "--detector",
                                            "sst", "--param", "k=3"])
    assert result.exit_code == 2
    assert "--param goes with a single --detector" in one_line(result)
