"""``kizashi detect --format nab`` wherever the file lies, and on a file that is not CSV.

The corpus's windows are looked up two folders above the file (ROOT/data/CATEGORY/FILE
beside ROOT/labels/); a file with fewer folders above it (/tmp/x.csv) has no corpus
around it and is read without windows (it was an internal IndexError). A Parquet file is
refused naming the format to use instead.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.data.nab import WINDOWS_FILE

ROWS = 400


def _nab_csv(path: Path) -> Path:
    stamps = pd.date_range("2024-01-01", periods=ROWS, freq="5min")
    pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"),
                  "value": [float(i % 9) for i in range(ROWS)]}).to_csv(path, index=False)
    return path


def _ok(result, path: Path) -> None:
    assert result.exit_code == 0, result.output
    assert f"{ROWS} time steps, 1 series" in result.stdout
    assert "Traceback" not in result.output and "internal error" not in result.output


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
def test_a_nab_file_at_any_depth_is_read(tmp_path, depth):
    folder = tmp_path.joinpath(*[f"d{i}" for i in range(depth)])
    folder.mkdir(parents=True, exist_ok=True)
    path = _nab_csv(folder / "series.csv")
    _ok(CliRunner().invoke(cli, ["detect", str(path), "--format", "nab", "-q"]), path)


def test_a_nab_file_right_under_the_temporary_folder_is_read():
    path = Path("/tmp") / f"kizashi-nab-{uuid.uuid4().hex}.csv"  # two folders above: /tmp, /
    try:
        _nab_csv(path)
        _ok(CliRunner().invoke(cli, ["detect", str(path), "--format", "nab", "-q"]), path)
    finally:
        path.unlink(missing_ok=True)


def test_the_corpus_windows_beside_the_file_are_used(tmp_path):
    root = tmp_path / "nab"
    (root / "data" / "realKnownCause").mkdir(parents=True)
    (root / WINDOWS_FILE).parent.mkdir(parents=True, exist_ok=True)
    path = _nab_csv(root / "data" / "realKnownCause" / "series.csv")
    window = ["2024-01-01 10:00:00.000000", "2024-01-01 12:00:00.000000"]
    (root / WINDOWS_FILE).write_text(json.dumps({"realKnownCause/series.csv": [window]}))
    result = CliRunner().invoke(cli, ["detect", str(path), "--format", "nab", "-q"])
    _ok(result, path)
    assert "has no windows" not in result.stderr


@pytest.mark.parametrize("name", ["series.parquet", "series.csv"])
def test_a_parquet_file_as_nab_is_refused_naming_the_format(tmp_path, name):
    path = tmp_path / name
    pd.DataFrame({"timestamp": [0, 300], "value": [1.0, 2.0]}).to_parquet(path)
    result = CliRunner().invoke(cli, ["detect", str(path), "--format", "nab", "-q"])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is Parquet" in lines[0] and "--format auto" in lines[0]
