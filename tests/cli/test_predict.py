"""`kizashi predict`: the output file's columns and rows, limits, and one-line errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
from click.testing import CliRunner

from kizashi.cli.main import cli


def _write_long(path, hours=4 * 24, step_minutes=5):
    seconds = np.arange(0, hours * 3600, step_minutes * 60)
    stamps = pd.to_datetime(seconds, unit="s", utc=True).strftime("%Y-%m-%dT%H:%M:%SZ")
    rising = 20.05 + seconds / 3600  # reaches 100 just before 80 h
    temp = 60 + 5 * np.sin(2 * np.pi * seconds / 86400)
    rows = [(s, "n1", "disk_pct", v) for s, v in zip(stamps, rising, strict=True)]
    rows += [(s, "n2", "cpu_temp_c", v) for s, v in zip(stamps, temp, strict=True)]
    rows += [(s, "n3", "load", v) for s, v in zip(stamps, temp / 10, strict=True)]
    pd.DataFrame(rows, columns=["timestamp", "entity", "metric", "value"]).to_csv(path,
                                                                                  index=False)
    return len(stamps)


def test_predict_writes_one_row_per_series_and_step(tmp_path):
    source, out = tmp_path / "m.csv", tmp_path / "pred.csv"
    n = _write_long(source)
    result = CliRunner().invoke(cli, ["predict", str(source), "--horizon", "6h", "--limit",
                                      "cpu_temp_c=90", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "n1/disk_pct: first warning" in result.output
    table = pd.read_csv(out, keep_default_na=False)
    assert table.columns.tolist() == ["timestamp", "entity", "metric", "probability",
                                      "is_warning", "eta"]
    assert len(table) == 3 * n
    disk = table[table.metric == "disk_pct"].reset_index(drop=True)
    warned = disk[disk.is_warning.astype(str) == "True"]
    assert len(warned) and (warned.eta != "").all()
    # the disk is full at 80 h: the first warning is 6 h (72 steps) before, its ETA at 80 h
    first = warned.index[0]
    assert first == 80 * 12 - 72
    assert warned.eta.iloc[0] == disk.timestamp[80 * 12]
    # the temperature never nears its limit: no warning, no ETA
    temp = table[table.metric == "cpu_temp_c"]
    assert (temp.is_warning.astype(str) == "False").all() and (temp.eta == "").all()
    # a series learns first: its early probabilities are empty
    assert disk.probability.iloc[0] == ""


def test_a_bad_limit_is_one_line(tmp_path):
    source = tmp_path / "m.csv"
    _write_long(source, hours=2)
    result = CliRunner().invoke(cli, ["predict", str(source), "--limit", "cpu_temp_c"])
    assert result.exit_code == 2
    assert "METRIC=VALUE" in result.output


def test_a_bad_horizon_is_one_line(tmp_path):
    source = tmp_path / "m.csv"
    _write_long(source, hours=2)
    result = CliRunner().invoke(cli, ["predict", str(source), "--horizon", "soon"])
    assert result.exit_code == 2  # a usage error, as a bad --limit
    assert result.output.strip().splitlines()[-1].startswith(
        "Error: Invalid value for '--horizon': not a duration")
