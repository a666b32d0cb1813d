"""Odd option values of the file-reading commands, generated per kind of option.

Each bad value must be refused with exit status 1 or 2 and exactly one stderr line that
starts with ``Error:`` and names the option or value at fault, no traceback; and it must
be refused *before* the file is read (the input file here would itself be refused, so a
message about the file means the option was not checked first).
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

#: A file the readers refuse: an option error must come before this one.
UNREAD = b"timestamp,cpu\n0,abc\n"

DURATIONS = ["0", "-1h", "garbage", "1e400s", "100Y", "30m1h", "1h1h", "nan", "inf", ""]
NUMBERS = ["abc", "nan", "inf", "-inf", ""]
BAD = [
    # (command + options, regex the one line must match)
    *[(["predict", "--horizon", h], r"duration") for h in DURATIONS],
    (["predict", "--horizon", "100y"], r"100y is more than 366 days"),  # y: 365 d
    *[(["predict", "--horizon", h], r"more than 366 days") for h in ("1e300s", "367d", "53w")],
    *[(["predict", "--limit", f"cpu={v}"], r"--limit") for v in NUMBERS],
    (["predict", "--limit", "cpu"], r"METRIC=VALUE"),
    # a value with a unit or a decimal comma: the value named as what is wrong
    *[(["predict", "--limit", f"cpu={v}"], rf"'{v}' is not a number.*e\.g\. cpu=90")
      for v in ("90%", "1,5", "10GB", "85 C", "0x5z")],
    (["predict", "--limit", "=5"], r"METRIC=VALUE"),
    (["predict", "--limit", "cpu=1", "--limit", "cpu=2"], r"'cpu' is given twice"),
    *[(["predict", "--cutoff", v], r"--cutoff") for v in ("0", "1", "2", "-1", "abc", "nan")],
    *[(["detect", "-d", "threshold", "--param", f"k={v}"], r"--param k") for v in
      ("abc", "nan", "inf", "-inf")],
    *[(["detect", "-d", "threshold", "--param", f"window={v}"], r"--param window") for v in
      ("2.5", "-5", "1e9", "abc", "true")],
    (["detect", "--param", "k"], r"key=value"),
    (["detect", "--param", "=3"], r"key=value"),
    (["detect", "--param", "speed=3"], r"has no parameter 'speed'"),
    # parameters wrong together: found by building the detector, before reading
    (["detect", "-d", "static_threshold"], r"needs low= and/or high="),
    (["detect", "-d", "static_threshold", "--param", "low=5", "--param", "high=1"],
     r"low \(5\.0\) must be below high"),
    (["detect", "-d", "sigma_threshold", "--param", "window=5"], r"min_periods \(30\)"),
    *[(["detect", "-d", name], r"unknown detector") for name in ("nosuch", "", " ensemble")],
    *[(["detect", "--cutoff", v], r"cutoff") for v in ("abc", "q2", "q-1", "q", "nan")],
    (["detect", "--min-steps", "0"], r"--min-steps"),
    (["detect", "--format", "xml"], r"--format"),
    (["detect", "--on-invalid", "skip"], r"--on-invalid"),
    (["fit", "--out", "{tmp}/m", "-d", "nosuch"], r"unknown detector"),
    (["fit", "--out", "{tmp}/m", "--param", "window=abc"], r"--param window"),
    (["fit"], r"Missing option '--out'"),
    # outputs that cannot be written: refused before the long work, naming the path
    (["detect", "--out", "/nonexistent-dir/s.csv"], r"cannot write /nonexistent-dir/s\.csv"),
    (["detect", "--plot", "/nonexistent-dir/p.png"], r"cannot write /nonexistent-dir/p\.png"),
    (["detect", "--incidents", "/nonexistent-dir/i.csv"], r"/nonexistent-dir/i\.csv"),
    (["detect", "--out", "{tmp}"], r"is a directory"),
    (["predict", "--out", "/nonexistent-dir/p.csv"], r"cannot write /nonexistent-dir/p\.csv"),
    (["fit", "--out", "{tmp}/in.csv"], r"is a file"),
    # an output that is the input would overwrite it after reading
    (["detect", "--out", "{tmp}/in.csv"], r"cannot write .*in\.csv: it is an input file"),
    (["detect", "--plot", "{tmp}/../{tmpname}/in.csv"], r"it is an input file"),
    (["detect", "--incidents", "{tmp}/in.csv"], r"it is an input file"),
    (["predict", "--out", "{tmp}/in.csv"], r"it is an input file"),
]


@pytest.mark.parametrize(("args", "what"), BAD, ids=[" ".join(a) or "empty" for a, _ in BAD])
def test_bad_option_is_one_line_before_the_file_is_read(tmp_path, args, what):
    source = tmp_path / "in.csv"
    source.write_bytes(UNREAD)
    command, *options = [a.replace("{tmp}", str(tmp_path)).replace("{tmpname}", tmp_path.name)
                         for a in args]
    result = CliRunner().invoke(cli, [command, str(source), *options])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code in (1, 2), result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert re.search(what, lines[0]), lines
    assert "abc' is not a finite number" not in lines[0]  # the file was not read first
    assert source.read_bytes() == UNREAD  # and never overwritten


@pytest.mark.parametrize("args", [["detect", "-q", "--param", "window=1e2", "-d", "threshold",
                                   "--param", "min_periods=10"],
                                  ["predict", "-q", "--limit", "cpu=1e2", "--horizon", "0.5h"]])
def test_good_options_in_odd_spellings_are_accepted(tmp_path, args):
    source = tmp_path / "in.csv"
    source.write_text("timestamp,cpu\n" + "".join(f"{i * 60},{i % 7}\n" for i in range(50)))
    result = CliRunner().invoke(cli, [args[0], str(source), *args[1:]])
    assert result.exit_code == 0, result.output
    assert "50 time steps, 1 series" in result.stdout


LABEL_FILES = {  # an --entity-labels file → what its one error line must say
    b"": r"labels\.csv: empty file",
    b"rack\nr1\n": r"labels\.csv: the entity labels need an 'entity' column",
    b"entity,rack\nn1,r1\nn1,r2\n": r"labels\.csv, line 3: entity 'n1' is listed again",
    b"entity,rack\nn1,r1,x\n": r"labels\.csv: line 2 has 3 fields",
    b"entity,rack\nn\xe9,r1\n": r"labels\.csv, line 2: byte 0xE9 is not UTF-8",
    b"\x00\x01binary": r"labels\.csv, line 1: NUL byte",
}


@pytest.mark.parametrize("data", list(LABEL_FILES), ids=range(len(LABEL_FILES)))
def test_odd_entity_labels_file_is_one_line_naming_it(tmp_path, data):
    source, labels = tmp_path / "in.csv", tmp_path / "labels.csv"
    source.write_bytes(UNREAD)
    labels.write_bytes(data)
    result = CliRunner().invoke(cli, ["detect", str(source), "--entity-labels", str(labels),
                                      "--group-by", "rack"])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, lines
    assert re.match(rf"Error: {re.escape(str(tmp_path))}/{LABEL_FILES[data]}", lines[0]), lines


NAB_LABELS = {  # a --labels file for --format nab → what its one error line must say
    b"[1, 2]": r"a NAB windows file maps file names .* got a list",
    b'{"x/in.csv": 1}': r"the windows of 'x/in\.csv' must be \[start, end\] pairs",
    b'{"x/in.csv": [["2024-01-01", "soon"]]}': r"must be \[start, end\] pairs of dates",
    b"{": r"not valid JSON",
    b'{"a": "\xe9"}': r"cannot read it",
}


@pytest.mark.parametrize("data", list(NAB_LABELS), ids=range(len(NAB_LABELS)))
def test_odd_nab_labels_file_is_one_line_naming_it(tmp_path, data):
    source, labels = tmp_path / "in.csv", tmp_path / "labels.json"
    source.write_text("timestamp,value\n0,1\n60,2\n")
    labels.write_bytes(data)
    result = CliRunner().invoke(cli, ["detect", str(source), "--format", "nab", "--labels",
                                      str(labels), "-q"])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, lines
    assert lines[0].startswith(f"Error: {labels}: "), lines
    assert re.search(NAB_LABELS[data], lines[0]), lines
