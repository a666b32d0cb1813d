"""``kizashi tune --storage`` given what is no usable study: one line naming the storage.

Before, a storage URL that SQLAlchemy cannot parse or load (``study.db``, ``bogus://x``,
an empty text, a driver not installed), a file that is not a database, or a folder
ended in "internal error (...)"; a study in memory (``sqlite:///:memory:``) ran with
heartbeat tracebacks and was lost at the end. No trial runs in any of these cases.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

pytest.importorskip("torch")
pytest.importorskip("optuna")

CONFIG = {"epochs": 1, "max_steps": 1, "progress": False, "device": "cpu",
          "data": {"source": "synthetic", "n": 60, "n_series": 2},
          "model": {"name": "autoencoder", "window": 4, "hidden": 4, "latent": 2}}


def storages(tmp_path):
    (tmp_path / "notadb.db").write_bytes(b"garbage, not SQLite\n" * 10)
    (tmp_path / "folder").mkdir()
    return {
        "no scheme": "study.db", "empty": "", "unknown dialect": "bogus://x",
        "driver missing": "nosuchdb+nodriver://h/x",
        "not a database": f"sqlite:///{tmp_path / 'notadb.db'}",
        "a folder": f"sqlite:///{tmp_path / 'folder'}",
        "memory": "sqlite:///:memory:", "memory, short": "sqlite://",
        "memory, options": "sqlite:///:memory:?cache=shared",
    }


CASES = ["no scheme", "empty", "unknown dialect", "driver missing", "not a database",
         "a folder", "memory", "memory, short", "memory, options"]


@pytest.mark.parametrize("case", CASES)
def test_a_storage_that_holds_no_study_is_refused_in_one_line(tmp_path, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "tune.json"
    config.write_text(json.dumps(CONFIG))
    storage = storages(tmp_path)[case]
    result = CliRunner().invoke(cli, ["tune", str(config), "--trials", "1", "--storage",
                                      storage, "--out", str(tmp_path / "trials")])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: --storage {storage}"), result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert "sqlite:///study.db" in lines[0]  # how to write one that works
    assert not (tmp_path / "trials").exists()  # no trial ran
