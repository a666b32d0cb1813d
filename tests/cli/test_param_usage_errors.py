"""Every detector's every ``--param`` with odd values: refused as a usage error naming it.

The family: each registered detector, each of its declared parameters, each of a set of
odd texts (a word, negative, zero, not a number, past the floats, a fraction, empty, a
boolean, enormous). Whatever the detector makes of a value, the outcome must be one of:

* accepted: the command goes on to read its input (here a file the reader refuses over
  its cell ``abc``), so the one error line is that file's;
* refused before the file is read: exit status 2 (a usage error, as click's own and
  ``kizashi bench``'s), one ``Error:`` line that names the parameter as ``--param KEY``
  so the operator knows which of several to change, no traceback.

The same holds for ``fit`` and ``bench centre`` (which share the checks), and for an
unknown ``--detector`` and a bad ``--cutoff``.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli.detector_options import checked_params
from kizashi.cli.main import cli
from kizashi.detectors.registry import get_class, names, parameters

ODD = ["abc", "-1", "0", "nan", "1e400", "2.5", "", "true", "1e30", "-1e30", "1w", "x,y"]
UNREAD = "timestamp,cpu\n0,abc\n"


def _cases() -> list:
    cases = []
    for name in names():
        for parameter in parameters(get_class(name)):
            cases.append(pytest.param(name, parameter.name, id=f"{name}-{parameter.name}"))
    return cases


def _base(name: str, key: str) -> list[str]:
    """Parameters a detector needs besides ``key`` (static_threshold needs a bound)."""
    if name == "static_threshold" and key not in ("low", "high"):
        return ["--param", "high=1"]
    return []


@pytest.mark.parametrize(("name", "key"), _cases())
def test_every_odd_param_value_is_accepted_or_named_as_a_usage_error(tmp_path, name, key):
    source = tmp_path / "in.csv"
    source.write_text(UNREAD)
    for value in ODD:
        result = CliRunner().invoke(cli, ["detect", str(source), "-q", "-d", name,
                                          "--param", f"{key}={value}", *_base(name, key)])
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            (value, repr(result.exception))
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), (value, lines)
        if "'abc'" in lines[0] and "in.csv" in lines[0]:  # accepted: the file's own error
            assert result.exit_code == 1, (value, lines)
            continue
        assert result.exit_code == 2, (value, lines)
        assert f"--param {key}" in lines[0], (value, lines)


@pytest.mark.parametrize(("params", "named"), [
    # the fault is one parameter's even where only the others show it (window=5 leaves
    # the default min_periods=30 out of range): the one whose removal mends it is named
    ({"window": 5}, ["window"]),
    ({"period": 0}, ["period"]),
    ({"low": 5.0, "high": 1.0}, ["low", "high"]),  # each alone is fine: both named
])
def test_the_parameter_at_fault_is_named(params, named):
    name = "seasonal_threshold" if "period" in params else \
        "static_threshold" if "low" in params else "sigma_threshold"
    with pytest.raises(ValueError) as caught:
        checked_params(name, params)
    for key in named:
        assert f"{key}=" in str(caught.value), caught.value
    assert str(caught.value).startswith("--param "), caught.value


@pytest.mark.parametrize("args", [
    ["detect", "{src}", "-d", "nosuch"],
    ["detect", "{src}", "-d", ""],
    ["detect", "{src}", "-d", "threshold", "--param", "k=abc"],
    ["detect", "{src}", "-d", "static_threshold"],
    ["detect", "{src}", "--param", "speed=3"],
    *[["detect", "{src}", "--cutoff", c] for c in ("abc", "nan", "q", "q2", "q-1", "1e400")],
    ["fit", "{src}", "--out", "{tmp}/m", "-d", "nosuch"],
    ["fit", "{src}", "--out", "{tmp}/m", "--param", "window=abc"],
    ["fit", "{src}", "--out", "{tmp}/m", "-d", "seasonal_threshold", "--param", "slot=0"],
    ["bench", "centre", "--detector", "nosuch", "--no-progress"],
    ["bench", "centre", "--detector", "threshold", "--detector", "nosuch", "--no-progress"],
    ["bench", "centre", "--detector", "static_threshold", "--no-progress"],
], ids=lambda a: " ".join(a[2:]) if a[0] != "bench" else " ".join(a[1:]))
def test_bad_detector_options_are_usage_errors_in_every_command(tmp_path, args):
    source = tmp_path / "in.csv"
    source.write_text(UNREAD)
    argv = [a.format(src=source, tmp=tmp_path) for a in args]
    result = CliRunner().invoke(cli, argv)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, lines
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "in.csv" not in lines[0], \
        lines
