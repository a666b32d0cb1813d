"""The benchmarks' repeatable options given twice, empty, or in the other mode: refused.

``kizashi bench centre --seed 1 --seed 1`` scored seed 1 twice and summed it into the row
(12/12 incidents caught where the scenario has 6), ``--detector`` twice printed two rows
of one detector, ``bench smd --machine M --machine M`` averaged a machine in twice; and
``bench nab --only`` without ``--results`` (or ``--calibration``/``--protect`` with it)
was ignored without a word. The family: every repeatable option of every benchmark with a
value given twice (as written, and in another spelling click reads as the same value) and
with an empty value; and each mode-bound option of ``bench nab`` in the other mode.

Each must be refused before any work: exit status 2, one ``Error:`` line naming the
option (and, for a repeat, the value), no traceback. The inputs point at an empty data
folder, so an option that slipped through fails fast on the data instead of running a
benchmark.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

CENTRE = ["bench", "centre", "--no-progress", "--weeks", "3", "--nodes", "4"]
REPEATED = [
    # (command, option, first spelling, second spelling of the same value)
    ([*CENTRE, "--detector", "range_rule"], "--seed", "1", "1"),
    ([*CENTRE, "--detector", "range_rule"], "--seed", "1", "01"),
    ([*CENTRE, "--seed", "1"], "--detector", "range_rule", "range_rule"),
    ([*CENTRE, "--seed", "1", "--detector", "range_rule"], "--variant", "noisy", "noisy"),
    (["bench", "smd", "--detector", "threshold"], "--machine", "machine-1-6", "machine-1-6"),
    (["bench", "nab", "--results", "{tmp}"], "--only", "numenta", "numenta"),
]


def _run(tmp_path, monkeypatch, args: list[str]):
    monkeypatch.setenv("KIZASHI_DATA", str(tmp_path / "no-data"))
    argv = [a.format(tmp=tmp_path) for a in args]
    if argv[:2] == ["bench", "nab"]:
        argv += ["--data", str(tmp_path / "no-data"), "--no-progress"]
    result = CliRunner().invoke(cli, argv)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    return result, result.stderr.strip().splitlines()


@pytest.mark.parametrize(("base", "option", "first", "second"), REPEATED,
                         ids=[f"{r[0][1]}{r[1]}-{r[2]}-{r[3]}" for r in REPEATED])
def test_a_value_given_twice_is_refused_naming_it(tmp_path, monkeypatch, base, option, first,
                                                  second):
    result, lines = _run(tmp_path, monkeypatch, [*base, option, first, option, second])
    assert result.exit_code == 2, lines
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert option in lines[0] and first.lstrip("0") in lines[0] and "twice" in lines[0], lines


EMPTY = [(CENTRE, "--detector"), (["bench", "smd"], "--machine"),
         (["bench", "nab", "--results", "{tmp}"], "--only")]


@pytest.mark.parametrize(("base", "option"), EMPTY, ids=[e[1] for e in EMPTY])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_value_is_refused_naming_the_option(tmp_path, monkeypatch, base, option,
                                                     value):
    result, lines = _run(tmp_path, monkeypatch, [*base, option, value])
    assert result.exit_code == 2, lines
    assert len(lines) == 1 and lines[0].startswith("Error: ") and option in lines[0], lines


OTHER_MODE = [
    (["bench", "nab", "--only", "numenta"], "--only"),  # goes with --results
    (["bench", "nab", "--detector", "threshold", "--only", "numenta"], "--only"),
    (["bench", "nab", "--results", "{tmp}", "--calibration", "zscore"], "--calibration"),
    (["bench", "nab", "--results", "{tmp}", "--protect"], "--protect"),
]


@pytest.mark.parametrize(("args", "option"), OTHER_MODE, ids=[" ".join(a[2:]) for a, _ in
                                                              OTHER_MODE])
def test_an_option_of_the_other_mode_is_refused(tmp_path, monkeypatch, args, option):
    result, lines = _run(tmp_path, monkeypatch, args)
    assert result.exit_code == 2, lines
    assert len(lines) == 1 and lines[0].startswith("Error: ") and option in lines[0], lines


@pytest.mark.parametrize("args", [
    [*CENTRE, "--seed", "1", "--seed", "2", "--detector", "nosuch"],
    [*CENTRE, "--detector", "range_rule", "--detector", "threshold", "--detector", "nosuch"],
], ids=["distinct-seeds", "distinct-detectors"])
def test_distinct_values_still_pass_the_option_checks(tmp_path, monkeypatch, args):
    """Distinct values are not refused: the run goes on to the detector check."""
    result, lines = _run(tmp_path, monkeypatch, args)
    assert result.exit_code == 2 and "unknown detector 'nosuch'" in lines[0], lines


@pytest.mark.parametrize("name", ["../x", "a/b", "/abs", ".", "..", "", "  ", "x/"])
def test_a_result_name_that_is_not_one_file_name_is_refused(tmp_path, monkeypatch, name):
    """``--name`` names NAB result files and their folder under ``--out``: a path in it
    (``../x``) wrote them outside ``--out``; an empty one fell back to the detector's."""
    out = tmp_path / "out"
    result, lines = _run(tmp_path, monkeypatch, ["bench", "nab", "--detector", "threshold",
                                                 "--name", name, "--out", str(out)])
    assert result.exit_code == 2, lines
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "--name" in lines[0], lines
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, anywhere
