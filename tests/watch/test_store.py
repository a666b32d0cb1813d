"""The SQLite state file: missing → created fresh; corrupt or foreign → a clear error, untouched."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli.watch import watch
from kizashi.watch.store import WatchStore

CONFIG = """
interval: 1s
listen: off
sources: {prometheus: {type: prometheus, url: "http://127.0.0.1:9", retries: 0, timeout: 0.2s}}
watches: [{name: m, query: up}]
"""


def test_missing_file_is_created_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "state.sqlite"
    store = WatchStore(str(path))
    assert path.exists()
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with store.transaction():
        store.series_ids("m", [{"a": "1"}], 5.0)
        store.save_state("m", "d", [1], {"n_series": 1, "x": np.array([np.nan, 1.5])})
    store.close()
    series, state = WatchStore(str(path)).load_state("m", "d")
    assert series == [1] and np.array_equal(state["x"], [np.nan, 1.5], equal_nan=True)


def test_transaction_rolls_back_everything_on_error(tmp_path):
    store = WatchStore(str(tmp_path / "s.sqlite"))
    with pytest.raises(RuntimeError), store.transaction():
        store.set_progress("m", 10.0)
        raise RuntimeError("crash in the middle of a tick")
    assert store.progress("m") is None


def test_garbage_file_is_a_clear_error_and_left_alone(tmp_path):
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ValueError, match="not a kizashi watch database or is corrupt.*move it"):
        WatchStore(str(path))
    assert path.read_bytes().startswith(b"this is not a database")


def test_damaged_database_is_detected(tmp_path):
    path = tmp_path / "state.sqlite"
    store = WatchStore(str(path))
    with store.transaction():
        store.add_points([(1, "d", float(t), 1.0, 2.0, 3.0) for t in range(5000)])
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    data = bytearray(path.read_bytes())
    data[4096 * 2:4096 * 2 + 2000] = b"\xff" * 2000      # overwrite part of a b-tree page
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt"):
        WatchStore(str(path))


def test_another_programs_database_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (name TEXT)")
    with pytest.raises(ValueError, match="other tables than kizashi's"):
        WatchStore(str(path))


def test_cli_refuses_to_start_on_a_corrupt_state_file(tmp_path):
    config = tmp_path / "watch.yaml"
    config.write_text(CONFIG)
    state = tmp_path / "state.sqlite"
    state.write_bytes(b"\x00garbage" * 64)
    result = CliRunner().invoke(watch, [str(config), "--state", str(state), "--once"])
    assert result.exit_code == 1
    assert "not a kizashi watch database" in result.output and str(state) in result.output


def test_cli_once_with_missing_state_initialises_it_and_survives_a_dead_source(tmp_path):
    config = tmp_path / "watch.yaml"
    config.write_text(CONFIG)
    state = tmp_path / "fresh.sqlite"
    result = CliRunner().invoke(watch, [str(config), "--state", str(state), "--once"])
    assert result.exit_code == 0, result.output
    assert state.exists() and WatchStore(str(state)).progress("m") is None


def test_an_alert_is_read_back_and_one_not_there_is_none(tmp_path):
    store = WatchStore(str(tmp_path / "state.sqlite"))
    with store.transaction():
        (series,) = store.series_ids("m", [{"a": "1"}], 5.0)
        opened = store.open_alert(series, "m", "d", {"a": "1"}, 10.0, 0.9, 42.0, 0.5)
    alert = store.alert(opened)
    assert alert["id"] == opened and alert["status"] == "firing" and alert["value"] == 42.0
    for missing in (opened + 1, 0, -1, 2**62):
        assert store.alert(missing) is None
