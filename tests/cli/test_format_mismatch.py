"""A long-form file read with ``--format wide`` is told to be read as long: one line naming
its header and the option, instead of "'n1' is not a finite number ... read it with
--on-invalid missing" (advice that would turn its names into gaps).

Family: long-form headers (the four columns, capitalised, with a label column, without
``entity``) × the commands that read files; the control: a wide file with a text cell keeps
the message about that cell.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

HEADERS = [["timestamp", "entity", "metric", "value"],
           ["Timestamp", "Entity", "Metric", "Value"],
           ["timestamp", "entity", "metric", "value", "job"],
           ["timestamp", "metric", "value"]]
COMMANDS = [["detect"], ["predict"], ["fit", "--out", "{tmp}/m"]]


def _long(tmp_path, header: list[str]):
    cells = {"timestamp": lambda i: str(1_704_067_200 + 300 * i), "entity": lambda i: "n1",
             "metric": lambda i: "cpu", "value": lambda i: str(50 + i % 7),
             "job": lambda i: "batch"}
    rows = [",".join(cells[h.lower()](i) for h in header) for i in range(40)]
    path = tmp_path / "long.csv"
    path.write_text(",".join(header) + "\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
@pytest.mark.parametrize("header", HEADERS, ids=["-".join(h) for h in HEADERS])
def test_a_long_file_read_as_wide_is_told_to_be_read_as_long(tmp_path, header, command):
    path = _long(tmp_path, header)
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    result = CliRunner().invoke(cli, [args[0], str(path), *args[1:], "--format", "wide", "-q"])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0] == (f"Error: {path}: its header ({', '.join(header)}) is long form, but it "
                        f"was read as wide, where every column is a metric of numbers; read "
                        f"it as long (format 'long' or 'auto'; CLI: --format long, or leave "
                        f"--format out)")


def test_a_wide_file_with_a_text_cell_keeps_its_own_message(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("timestamp,cpu\n" + "".join(f"{i * 60},{'abc' if i == 3 else i}\n"
                                                 for i in range(10)))
    result = CliRunner().invoke(cli, ["detect", str(path), "--format", "wide", "-q"])
    assert "line 5, column 'cpu': 'abc' is not a finite number" in result.stderr
    assert "long form" not in result.stderr
