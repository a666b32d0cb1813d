"""A state file found damaged while the daemon runs stops it, in one line, with status 1.

Damage met mid-run (a row failing its CRC-32, a page SQLite calls malformed) is no failed
write: no retry can read it. Before, a :class:`StateFileCorrupt` took the failed-write
path ("cannot write the state file …; nothing is lost — … once it can be written (free
disk space?)") every tick and ``--once`` exited 0; a :class:`StateFileDamaged` row logged
a traceback every tick. Now: one ERROR line naming the file and what to do, the health
marked failed (``/healthz`` 503), the tick loop returns, the CLI exits with status 1, and
a restart meets the damage at the open in one line. A full disk still retries.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

import pytest
from click.testing import CliRunner
from ticked_state import T0, watch_config

from kizashi.cli.main import cli
from kizashi.watch import watcher as watcher_module
from kizashi.watch.config import parse_config
from kizashi.watch.store import StateFileCorrupt, StateFileDamaged, WatchStore
from kizashi.watch.watcher import Watcher

MISLEADING = ("free disk space", "nothing is lost", "cannot write", "Traceback")


def write_config(folder, steps: int = 200) -> Any:
    return watch_config(folder, "sigma", steps, storage="state.sqlite")


def grow(folder, steps: int) -> None:
    """More steps in the CSV, so the next tick has something to write."""
    write_config(folder, steps)


def errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def raising(kind: type[Exception], path) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise kind(f"state file {path} is corrupt (database disk image is malformed); move "
                   "it away (or delete it) to start with fresh state — kizashi will not "
                   "overwrite it")
    return fail


#: store methods a tick calls (reads and writes), patched to find damage
METHODS = ["save_tree", "save_state", "progress", "add_block", "set_progress"]


@pytest.mark.parametrize("kind", [StateFileCorrupt, StateFileDamaged])
@pytest.mark.parametrize("method", METHODS)
def test_damage_met_by_a_tick_is_said_once_and_stops_the_loop(tmp_path, caplog, monkeypatch,
                                                               method, kind):
    config = parse_config(write_config(tmp_path, 100).read_text())
    store = WatchStore(str(tmp_path / "state.sqlite"))
    watcher = Watcher(config, store)
    watcher.tick()                       # a first tick writes the state
    assert watcher.corrupt is None
    grow(tmp_path, 200)
    monkeypatch.setattr(store, method, raising(kind, store.path))
    caplog.set_level(logging.INFO)
    stop = threading.Event()
    loop = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    loop.start()
    loop.join(10)
    stopped = not loop.is_alive()
    stop.set()
    assert stopped, "the tick loop goes on retrying a damaged state file"
    watcher.tick()                       # a tick after: nothing more said
    lines = errors(caplog)
    assert len(lines) == 1, lines
    assert str(store.path) in lines[0] and "move it away" in lines[0], lines[0]
    assert not any(word in lines[0] for word in MISLEADING), lines[0]
    assert not any(r.exc_info for r in caplog.records)
    health = watcher.snapshot()["health"]
    assert health["state_corrupt"] == watcher.corrupt and str(store.path) in watcher.corrupt
    assert health["persist_ok"] is False and health["persist_errors"] == 0
    store.close()


def test_healthz_fails_once_the_state_file_is_found_damaged(tmp_path, monkeypatch):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from kizashi.watch.web import create_app

    config = parse_config(write_config(tmp_path, 100).read_text())
    store = WatchStore(str(tmp_path / "state.sqlite"))
    watcher = Watcher(config, store)
    watcher.tick()
    client = TestClient(create_app(store.path, watcher.snapshot))
    assert client.get("/healthz").status_code == 200
    grow(tmp_path, 200)
    monkeypatch.setattr(store, "save_tree", raising(StateFileCorrupt, store.path))
    watcher.tick()
    answer = client.get("/healthz")
    assert answer.status_code == 503, answer.text
    assert answer.json()["status"] == "failed" and store.path in answer.json()["error"]
    store.close()


def test_a_progress_row_damaged_between_two_ticks_stops_in_one_line(tmp_path, caplog):
    """Real damage: the last processed time's bytes change under the running daemon."""
    config = parse_config(write_config(tmp_path, 100).read_text())
    path = tmp_path / "state.sqlite"
    store = WatchStore(str(path))
    watcher = Watcher(config, store)
    watcher.tick()
    with sqlite3.connect(path) as db:   # one bit of the stored double flipped, CRC kept
        (t,) = db.execute("SELECT last_ts FROM progress").fetchone()
        db.execute("UPDATE progress SET last_ts=?", (t + 2.0 ** -20,))
    grow(tmp_path, 200)
    caplog.set_level(logging.INFO)
    for _ in range(3):
        watcher.tick()
    lines = errors(caplog)
    assert len(lines) == 1, lines
    assert str(path) in lines[0] and "corrupt" in lines[0], lines[0]
    assert not any(word in lines[0] for word in MISLEADING), lines[0]
    assert watcher.corrupt is not None
    store.close()


@pytest.mark.parametrize("kind", [StateFileCorrupt, StateFileDamaged])
@pytest.mark.parametrize("once", [True, False])
def test_the_cli_exits_1_after_one_line(tmp_path, monkeypatch, kind, once):
    config = write_config(tmp_path, 100)
    assert CliRunner().invoke(cli, ["watch", "--once", str(config)]).exit_code == 0
    grow(tmp_path, 200)
    monkeypatch.setattr(WatchStore, "save_tree", raising(kind, tmp_path / "state.sqlite"))
    runs = []
    original = watcher_module.Watcher.run

    def run(self: Watcher, stop: threading.Event) -> None:   # the daemon loop, bounded
        runs.append(1)
        assert len(runs) <= 3, "the daemon loop spins on a damaged state file"
        timer = threading.Timer(20.0, stop.set)   # a loop that never returns fails, not hangs
        timer.start()
        try:
            original(self, stop)
        finally:
            timer.cancel()

    monkeypatch.setattr(watcher_module.Watcher, "run", run)
    result = CliRunner().invoke(cli, ["watch", str(config)] + (["--once"] if once else []))
    assert result.exit_code == 1, (result.output, result.exception)
    lines = [line for line in result.output.strip().splitlines()   # but the start's INFO
             if " INFO " not in line]
    assert len(lines) == 1 and " ERROR " in lines[0], result.output
    assert str(tmp_path / "state.sqlite") in lines[0], lines[0]
    assert not any(word in result.output for word in MISLEADING), result.output


def test_a_damaged_chunk_written_by_a_first_run_is_refused_at_the_restart(tmp_path):
    config = write_config(tmp_path, 100)
    assert CliRunner().invoke(cli, ["watch", "--once", str(config)]).exit_code == 0
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as db:   # one byte of the largest chunk changed, CRC kept
        rowid, data = db.execute("SELECT rowid, data FROM state_chunks "
                                 "ORDER BY length(data) DESC LIMIT 1").fetchone()
        damaged = bytearray(data)
        damaged[len(damaged) // 2] ^= 0x10
        db.execute("UPDATE state_chunks SET data=? WHERE rowid=?", (bytes(damaged), rowid))
    grow(tmp_path, 200)
    result = CliRunner().invoke(cli, ["watch", "--once", str(config)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "corrupt" in lines[0], result.output
    assert not any(word in result.output for word in MISLEADING), result.output


def test_a_full_disk_is_still_retried_and_said_as_a_failed_write(tmp_path, caplog,
                                                                 monkeypatch):
    config = parse_config(write_config(tmp_path, 100).read_text())
    store = WatchStore(str(tmp_path / "state.sqlite"))
    watcher = Watcher(config, store)
    watcher.tick()
    grow(tmp_path, 200)
    good = store.save_tree

    def full(*args: Any, **kwargs: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store, "save_tree", full)
    caplog.set_level(logging.INFO)
    last = store.progress("m")
    watcher.tick()
    watcher.tick()
    assert watcher.corrupt is None and watcher.health.persist_errors == 2
    assert store.progress("m") == last          # rolled back: the steps come again
    assert any("free disk space" in line for line in errors(caplog))
    monkeypatch.setattr(store, "save_tree", good)
    watcher.tick()
    assert watcher.corrupt is None and watcher.health.persist_ok
    assert store.progress("m") == T0 + 199
    store.close()
