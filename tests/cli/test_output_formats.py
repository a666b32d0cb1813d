"""Every table output of every command, written in the format its suffix names, or refused.

Table outputs (``detect --out``, ``detect --incidents``, ``predict --out``) write CSV, gzip
CSV, Parquet, JSON or JSON Lines by the suffix (any case); the benchmarks' ``--json``
writes JSON (a name without a suffix is kept there: it names no other format). Any other
suffix is refused before the work in one ``Error:`` line naming the supported ones (it
used to write CSV silently, whatever the name said). Each supported format is read back
by its own reader (pandas' CSV and Parquet readers, the ``json`` module) and must hold
the same table as the plain CSV.
"""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

UNREAD = b"timestamp,cpu\n0,abc\n"  # an input the readers refuse: the work would fail
#: table options: (command line before the option, option); {in}: the input file
TABLE_OUTPUTS = [
    (["detect", "{in}", "-q"], "--out"),
    (["detect", "{in}", "-q", "--explain"], "--incidents"),
    (["predict", "{in}", "-q"], "--out"),
]
#: suffixes no table writer knows: a spreadsheet, a typo, a compression of another
#: format, a bare compression, a trailing dot, none at all
REFUSED_TABLES = ["x.xlsx", "x.txt", "x.tsv", "x.cvs", "x.csvx", "x.gz", "x.tsv.gz",
                  "x.parquet.gz", "x.json.gz", "x.", "x", "x.csv.bak", "x.pq"]
ACCEPTED_TABLES = ["x.csv", "x.CSV", "x.csv.gz", "x.Csv.GZ", "x.parquet",
                   "x.json", "x.JSONL"]
JSON_OUTPUTS = [
    ["bench", "nab", "--no-progress"],
    ["bench", "smd"],
    ["bench", "centre", "--no-progress", "--detector", "nosuch"],
]
REFUSED_JSON = ["x.csv", "x.jsonl", "x.txt", "x.json.gz", "x.yaml", "x.json.bak"]


def _one_error_line(result, *needles):
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (1, 2), result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    for needle in needles:
        assert needle in lines[0], lines


@pytest.mark.parametrize("name", REFUSED_TABLES)
@pytest.mark.parametrize(("before", "option"), TABLE_OUTPUTS,
                         ids=[f"{b[0]} {o}" for b, o in TABLE_OUTPUTS])
def test_a_table_output_with_an_unknown_suffix_is_refused_before_the_work(tmp_path, before,
                                                                          option, name):
    source = tmp_path / "in.csv"
    source.write_bytes(UNREAD)
    args = [a.replace("{in}", str(source)) for a in before]
    result = CliRunner().invoke(cli, [*args, option, str(tmp_path / name)])
    _one_error_line(result, option, ".csv, .csv.gz, .parquet, .json or .jsonl")
    assert "abc" not in result.stderr  # refused before the input was read
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.parametrize("name", REFUSED_JSON)
@pytest.mark.parametrize("before", JSON_OUTPUTS, ids=[" ".join(b[:2]) for b in JSON_OUTPUTS])
def test_a_json_output_not_named_json_is_refused_before_the_work(tmp_path, monkeypatch,
                                                                 before, name):
    monkeypatch.setenv("KIZASHI_DATA", str(tmp_path / "none"))  # the work would fail
    result = CliRunner().invoke(cli, [*before, "--json", str(tmp_path / name)])
    _one_error_line(result, "--json", "end the name with .json")
    assert list(tmp_path.iterdir()) == []


def _read_back(path) -> pd.DataFrame:
    """The table at ``path``, read by its format's own reader, in one canonical form:
    empty cells missing, time columns as UTC timestamps, numbers as floats."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        table = pd.read_parquet(path)
    elif name.endswith(".json"):
        table = pd.DataFrame(json.loads(path.read_text()))
    elif name.endswith(".jsonl"):
        table = pd.DataFrame([json.loads(line) for line in path.read_text().splitlines()])
    else:
        opened = gzip.open(path, "rt") if name.endswith(".gz") else open(path)
        with opened as text:
            table = pd.read_csv(text, keep_default_na=False, dtype=str)
    table = table.astype(object).where(table.notna(), None).replace({"": None})
    for column in table.columns:
        if column in ("timestamp", "start", "end", "eta"):
            table[column] = pd.to_datetime(table[column], utc=True,
                                           format="ISO8601").dt.as_unit("ns")
        else:
            numbers = pd.to_numeric(table[column].map(
                lambda v: {"True": 1, "False": 0}.get(v, v) if isinstance(v, str) else v),
                errors="coerce")
            if numbers.notna().sum() == table[column].notna().sum():
                table[column] = numbers.astype(float)
    return table


@pytest.fixture(scope="module")
def telemetry(tmp_path_factory):
    """Two days of one node's 5-minute cpu and disk, a spike and a rising disk."""
    folder = tmp_path_factory.mktemp("formats")
    i = np.arange(2 * 288)
    cpu = 50 + 5 * np.sin(i / 9)
    cpu[400:406] += 60
    table = pd.DataFrame({"timestamp": 1_704_067_200 + 300 * i, "cpu": np.round(cpu, 3),
                          "disk_pct": np.round(40 + i / 10, 3)})
    path = folder / "node.csv"
    table.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def written(telemetry):
    """Each command's outputs under each accepted name: {(command, option, name): path}."""
    paths = {}
    for name in ACCEPTED_TABLES:
        folder = telemetry.parent / name.replace(".", "_")
        folder.mkdir()
        out, incidents, pred = (folder / f"scores-{name}", folder / f"inc-{name}",
                                folder / f"pred-{name}")
        result = CliRunner().invoke(cli, ["detect", str(telemetry), "-d", "threshold", "-p",
                                          "window=60", "--explain", "--out", str(out),
                                          "--incidents", str(incidents), "-q"])
        assert result.exit_code == 0, result.output
        result = CliRunner().invoke(cli, ["predict", str(telemetry), "--out", str(pred),
                                          "-q"])
        assert result.exit_code == 0, result.output
        paths.update({("detect --out", name): out, ("detect --incidents", name): incidents,
                      ("predict --out", name): pred})
    return paths


@pytest.mark.parametrize("name", ACCEPTED_TABLES[1:])
@pytest.mark.parametrize("output", ["detect --out", "detect --incidents", "predict --out"])
def test_each_supported_suffix_holds_the_same_table_as_the_csv(written, output, name):
    expected = _read_back(written[(output, "x.csv")])
    assert len(expected) > 0
    got = _read_back(written[(output, name)])
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_the_format_is_the_one_named_not_csv_in_disguise(written):
    for (output, name), path in written.items():
        head = path.read_bytes()[:16]
        lower = name.lower()
        if lower.endswith(".gz"):
            assert head[:2] == b"\x1f\x8b", (output, name)  # gzip's magic number
        elif lower.endswith(".parquet"):
            assert head[:4] == b"PAR1", (output, name)
        elif lower.endswith(".json"):
            assert head[:1] == b"[", (output, name)
        elif lower.endswith(".jsonl"):
            assert all(line.startswith("{") for line in path.read_text().splitlines())
        else:
            assert head.decode().split(",")[0] in ("timestamp", "incident"), (output, name)


@pytest.mark.parametrize("name", [n for n in ACCEPTED_TABLES
                                  if n.lower().endswith((".json", ".jsonl"))])
def test_json_predictions_write_null_for_no_eta_and_parquet_keeps_timestamps(written, name):
    path = written[("predict --out", name)]
    text = path.read_text()
    rows = (json.loads(text) if name.lower().endswith(".json")
            else [json.loads(line) for line in text.splitlines()])
    etas = [row["eta"] for row in rows]
    assert None in etas and "" not in etas
    assert all(e is None or e.endswith("Z") for e in etas)
    parquet = pd.read_parquet(written[("predict --out", "x.parquet")])
    assert pd.api.types.is_datetime64_any_dtype(parquet["timestamp"])
    assert pd.api.types.is_datetime64_any_dtype(parquet["eta"])
