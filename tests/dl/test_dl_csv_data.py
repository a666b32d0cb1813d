"""``data: {source: csv, path: ...}`` of a training config, fed the files operators have:
a time column, a pandas row index, text or infinite cells, empty columns, no rows.

docs/deep-learning.md: the csv source is "a numeric table, one column per metric", whose
column names become the model's ``features`` (matched to a watch's series). Before, the
time column (``timestamp``, or Grafana's ``Time`` …) and a written row index were
network inputs like any metric — a model of ``['timestamp', 'cpu', 'mem']`` standardised
around 1.7e9; ``inf`` cells trained a network with NaN losses that was written out; a
column holding a text cell was dropped in silence; an empty file ended in pandas' words.
The expected columns and lines are read off the files built here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.dl.experiment import csv_table, feature_names, load_values

pytest.importorskip("torch")

T0 = 1_700_000_000
N = 40


def write(path, header: list[str], cell) -> None:
    rows = [",".join(header)] + [",".join(cell(i, c) for c in header) for i in range(N)]
    path.write_text("\n".join(rows) + "\n")


def metric(i: int, column: str) -> str:
    return f"{math.sin(i / 3 + len(column)):.5f}"


@pytest.mark.parametrize("time", ["timestamp", "Time", "_time", "@timestamp", "date", "ts",
                                  "TIMESTAMP"])
@pytest.mark.parametrize("index", [None, "Unnamed: 0", ""])
def test_time_and_row_index_columns_are_no_inputs(tmp_path, time, index):
    header = ([index] if index is not None else []) + [time, "cpu", "mem"]

    def cell(i: int, column: str) -> str:
        if column == index:
            return str(i)
        return str(T0 + 60 * i) if column == time else metric(i, column)

    write(tmp_path / "t.csv", header, cell)
    data = {"source": "csv", "path": str(tmp_path / "t.csv")}
    assert feature_names(data, 2) == ["cpu", "mem"]
    values = load_values(data)
    expected = np.array([[float(metric(i, c)) for c in ("cpu", "mem")] for i in range(N)])
    np.testing.assert_array_equal(values, expected)


def test_listed_columns_are_taken_as_listed(tmp_path):
    write(tmp_path / "t.csv", ["timestamp", "cpu", "mem"],
          lambda i, c: str(T0 + i) if c == "timestamp" else metric(i, c))
    names, values = csv_table({"path": str(tmp_path / "t.csv"), "columns": ["mem", "timestamp"]})
    assert names == ["mem", "timestamp"]
    assert values[:, 1].tolist() == [float(T0 + i) for i in range(N)]


ODD_CELLS = ["inf", "-inf", "Infinity", "1e400", "abc", "12,5"[:2] + "x", "NaN?"]


@pytest.mark.parametrize("text", ODD_CELLS)
@pytest.mark.parametrize("line", [2, 17, N + 1])
def test_a_cell_that_is_no_finite_number_is_refused_naming_column_and_line(tmp_path, text,
                                                                            line):
    def cell(i: int, column: str) -> str:
        if column == "mem" and i == line - 2:
            return text
        return str(T0 + i) if column == "timestamp" else metric(i, column)

    write(tmp_path / "t.csv", ["timestamp", "cpu", "mem"], cell)
    with pytest.raises(ValueError) as caught:
        load_values({"source": "csv", "path": str(tmp_path / "t.csv")})
    message = str(caught.value)
    assert "column 'mem'" in message and f"line {line}:" in message and "\n" not in message


@pytest.mark.parametrize("kept", [0, 1])
def test_a_column_with_fewer_than_two_values_is_refused(tmp_path, kept):
    write(tmp_path / "t.csv", ["timestamp", "cpu", "mem"],
          lambda i, c: str(T0 + i) if c == "timestamp" else
          ("" if c == "mem" and i >= kept else metric(i, c)))
    with pytest.raises(ValueError, match="column 'mem' has fewer than two values"):
        load_values({"source": "csv", "path": str(tmp_path / "t.csv")})


@pytest.mark.parametrize(("text", "reason"), [
    ("", "cannot read it"), ("timestamp,cpu\n", "no data rows"),
    ("timestamp\n1\n2\n", "no numeric metric column"), ("\n\n\n", "cannot read it")])
def test_files_without_metric_rows_are_one_line(tmp_path, text, reason):
    (tmp_path / "t.csv").write_text(text)
    with pytest.raises(ValueError, match=reason):
        load_values({"source": "csv", "path": str(tmp_path / "t.csv")})


def test_a_listed_column_the_file_lacks_is_refused(tmp_path):
    write(tmp_path / "t.csv", ["timestamp", "cpu"], lambda i, c: metric(i, c))
    with pytest.raises(ValueError, match="no column\\(s\\) 'mem'"):
        load_values({"source": "csv", "path": str(tmp_path / "t.csv"), "columns": ["cpu", "mem"]})


def test_train_on_an_infinite_cell_writes_no_model(tmp_path):
    write(tmp_path / "t.csv", ["timestamp", "cpu", "mem"],
          lambda i, c: str(T0 + i) if c == "timestamp" else ("inf" if i == 5 else metric(i, c)))
    config = tmp_path / "run.yaml"
    config.write_text(f"epochs: 1\nmax_steps: 1\nprogress: false\ndevice: cpu\n"
                      f"data: {{source: csv, path: {tmp_path / 't.csv'}}}\n"
                      "model: {name: autoencoder, window: 4, hidden: 4, latent: 2}\n")
    result = CliRunner().invoke(cli, ["train", str(config), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "line 7" in result.output, result.output
    assert not (tmp_path / "o" / "model.pt").exists()
