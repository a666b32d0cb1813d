"""Every file-reading command on every family of odd input files (see ``odd_inputs``).

For each (family, command) the outcome is checked against what the generator wrote:

* refused: exit status 1 or 2, exactly one stderr line, ``Error:`` and the file's path
  and the family's reason in it, no traceback;
* read: exit status 0, every stderr line a one-line ``warning:``/``note:``; a family with
  a repair names the file in a warning, one without has no reading warning; the summary
  counts the generator's time steps and series, and ``--out`` holds one row per time step
  and series, each time step once per series (nothing lost, nothing invented).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from odd_inputs import FILES, OddInput

from kizashi.cli.main import cli

LEARNING = ("the first prediction needs", "all still learning")  # notes on files shorter
# than the warm-up (predict's, detect's), not repairs made while reading


def _args(command: str, path: Path, family: OddInput, out: Path) -> list[str]:
    if command == "detect":
        return ["detect", str(path), "-q"]
    if command == "missing":  # text and ±inf read as missing values: one row each kept
        return ["detect", str(path), "-q", "--on-invalid", "missing", "-d", "threshold",
                "--out", str(out / "s.csv")]
    if command == "long":
        return ["detect", str(path), "-q", "--format", "long"]
    if command == "explain":
        return ["detect", str(path), "-q", "--explain"]
    if command == "threshold":
        return ["detect", str(path), "-q", "-d", "threshold", "--out", str(out / "s.csv")]
    if command == "predict":
        return ["predict", str(path), "-q", "--out", str(out / "p.csv")]
    entity = ["--entity", "n1"] if family.name.startswith("long") else []
    return ["fit", str(path), "--out", str(out / "model"), "-q", *entity]


COMMANDS = ("detect", "explain", "threshold", "predict", "fit", "long", "missing")
SLOW = {"wide-10k-columns"}
CASES = [pytest.param(family, command, id=f"{family.name}-{command}",
                      marks=[pytest.mark.slow] if family.name in SLOW else [])
         for family in FILES for command in COMMANDS
         if (family.name not in SLOW or command in ("threshold", "predict"))
         and (command != "long" or family.name.startswith("long"))
         and (command != "missing" or "missing" in dict(family.by_command))]


def _series_written(family: OddInput, command: str) -> int | None:
    if family.series is None:
        return None
    return family.series // 2 if command == "fit" and family.name.startswith("long") \
        else family.series


# numpy's floating-point warnings (values near 1e308 overflow when squared) are shown as
# one line, as an operator sees them, not raised as the test configuration would
@pytest.mark.filterwarnings("default::RuntimeWarning")
@pytest.mark.parametrize(("family", "command"), CASES)
def test_command_on_odd_file(tmp_path, family, command):
    if family.special == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads a file without read permission")
    path = family.write(tmp_path)
    result = CliRunner().invoke(cli, _args(command, path, family, tmp_path))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output + result.stderr
    lines = result.stderr.strip().splitlines()
    expect = family.expected(command)
    if expect == "error":  # one Error line, last; before it only the repairs read
        assert result.exit_code in (1, 2), result.output
        errors = [line for line in lines if not line.startswith("warning: ")]
        assert errors == lines[-1:], lines
        assert errors[0].startswith("Error: ") and str(path.name) in errors[0], lines
        assert re.search(family.message, errors[0]), lines
        return
    assert result.exit_code == 0, result.stderr
    assert all(re.match(r"(warning|note): \S", line) for line in lines), lines
    reading = [line for line in lines
               if line.startswith(f"warning: {path}") and not any(x in line for x in LEARNING)]
    if expect == "warn":
        assert reading, lines
    else:
        assert not reading, lines
    series = _series_written(family, command)
    if command != "fit":
        assert f"{family.steps} time steps, {series} series" in result.stdout
    else:
        assert (tmp_path / "model" / "config.json").is_file()
    table = {"threshold": "s.csv", "missing": "s.csv", "predict": "p.csv"}.get(command)
    if table is not None:
        written = pd.read_csv(tmp_path / table, keep_default_na=False)
        assert len(written) == family.steps * series
        per_series = written.groupby(["entity", "metric"])["timestamp"]
        assert per_series.nunique().tolist() == [family.steps] * series
        assert per_series.size().tolist() == [family.steps] * series


def test_every_family_is_exercised_with_a_distinct_name():
    names = [family.name for family in FILES]
    assert len(names) == len(set(names))
    assert {family.expect for family in FILES} == {"ok", "warn", "error"}
