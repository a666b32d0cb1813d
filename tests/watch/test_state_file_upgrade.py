"""A state file of an older kizashi opened by this one, and tables beside kizashi's own
(docs/watch.md "Upgrading" and "Bytes changed on disk").

* The CRC-32 columns are added at the first read-write open, and the rows written before
  get their CRC-32 in the same transaction: after the upgrade a flipped byte in an old
  chunk is refused, not loaded (before, an old row stayed unchecked until a tick
  rewrote it, which for a chunk that never changes was never). A kill anywhere in the
  upgrade leaves the old file, which the next open upgrades.
* A table of another name (an operator's notes, ``lost_and_found`` left by
  ``sqlite3 .recover``) is left alone: the file opens and ticks. One of kizashi's own
  tables missing (renamed by a changed byte or by hand) is refused: the open would
  create it anew, empty, and the watch would start afresh.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlite_kills import open_killed_at
from ticked_state import T0, ticked_state

from kizashi.cli.main import cli
from kizashi.watch.store import _ADDED_TABLES, WatchStore, _schema_columns

N = 3000                      # series: 3000 x 40 float64 = 15 chunks of 64 KiB
STATE = np.random.default_rng(7).normal(size=(N, 40))
CRC_TABLES = ("state_trees", "state_chunks", "progress")


def write_old(path: Path) -> None:
    """A state file as a kizashi before the checksums wrote it: its tables without the
    ``crc`` columns (what ``DROP COLUMN`` leaves is the older schema's table)."""
    store = WatchStore(str(path))
    with store.transaction():
        ids = store.series_ids("cpu", [{"instance": f"n{i}"} for i in range(N)], now=60.0)
        store.set_progress("cpu", 60.0)
        store.set_progress("mem", 75.5)
        store.save_state("cpu", "t", ids, {"a": STATE, "b": np.arange(N, dtype=float)})
        store.save_state("mem", "t2", ids[:10], {"a": np.ones((10, 3))})
    store.close()
    db = sqlite3.connect(path)
    for table in CRC_TABLES:
        db.execute(f"ALTER TABLE {table} DROP COLUMN crc")
    db.commit()
    db.close()


def columns(path: Path) -> dict[str, list[str]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in CRC_TABLES}
    finally:
        db.close()


def null_crcs(path: Path) -> dict[str, int]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {t: db.execute(f"SELECT count(*) FROM {t} WHERE crc IS NULL").fetchone()[0]
                for t in CRC_TABLES}
    finally:
        db.close()


def read_back(path: Path) -> tuple:
    store = WatchStore(str(path))
    try:
        cpu, mem = store.load_state("cpu", "t"), store.load_state("mem", "t2")
        return (store.progress("cpu"), store.progress("mem"), cpu[0],
                {k: v.tolist() for k, v in cpu[1].items()}, mem[0], mem[1]["a"].tolist())
    finally:
        store.close()


@pytest.fixture(scope="module")
def old_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("old") / "old.sqlite"
    write_old(path)
    assert all("crc" not in c for c in columns(path).values())
    return path


def expected() -> tuple:
    return (60.0, 75.5, list(range(1, N + 1)), {"a": STATE.tolist(),
            "b": np.arange(N, dtype=float).tolist()}, list(range(1, 11)),
            np.ones((10, 3)).tolist())


def test_the_upgrade_gives_every_old_row_its_crc(old_file, tmp_path):
    path = tmp_path / "state.sqlite"
    path.write_bytes(old_file.read_bytes())
    assert read_back(path) == expected()
    assert all(c[-1] == "crc" for c in columns(path).values())
    assert null_crcs(path) == {t: 0 for t in CRC_TABLES}
    assert read_back(path) == expected()      # and the next open reads the same


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_after_the_upgrade_a_flipped_byte_in_an_old_chunk_is_refused(old_file, tmp_path,
                                                                     where):
    path = tmp_path / "state.sqlite"
    path.write_bytes(old_file.read_bytes())
    WatchStore(str(path)).close()             # the upgrade; no tick rewrites a chunk
    db = sqlite3.connect(path)
    rows = db.execute("SELECT rowid, data FROM state_chunks WHERE watch='cpu' "
                      "ORDER BY leaf, chunk").fetchall()
    rowid, data = rows[{"first": 0, "middle": len(rows) // 2, "last": -1}[where]]
    changed = bytearray(data)
    changed[len(changed) // 3] ^= 0x10
    db.execute("UPDATE state_chunks SET data=? WHERE rowid=?", (bytes(changed), rowid))
    db.commit()
    db.close()
    store = WatchStore(str(path))
    try:
        with pytest.raises(ValueError, match="fails its CRC-32"):
            store.load_state("cpu", "t")
    finally:
        store.close()


@pytest.mark.parametrize("table, change", [
    ("progress", "UPDATE progress SET last_ts=last_ts + 1 WHERE watch='mem'"),
    ("state_trees", "UPDATE state_trees SET skeleton=replace(skeleton, '40', '41')"),
])
def test_after_the_upgrade_a_changed_old_key_row_is_refused_at_open(old_file, tmp_path,
                                                                   table, change):
    path = tmp_path / "state.sqlite"
    path.write_bytes(old_file.read_bytes())
    WatchStore(str(path)).close()
    db = sqlite3.connect(path)
    assert db.execute(change).rowcount >= 1
    db.commit()
    db.close()
    with pytest.raises(ValueError, match="fails its CRC-32"):
        WatchStore(str(path))




def test_a_kill_during_the_upgrade_leaves_a_file_the_next_open_upgrades(old_file, tmp_path):
    """SIGKILL from inside SQLite after the k-th batch of its instructions, for k spread
    over the whole upgrading open (counted by a run that is not killed)."""
    path = tmp_path / "count.sqlite"
    path.write_bytes(old_file.read_bytes())
    run = open_killed_at(path, 0, every=200)
    assert run.returncode == 0, run.stderr
    total = int(run.stdout.split()[-1])
    killed = 0
    for k in sorted({max(1, total * i // 6) for i in range(1, 6)}):
        path = tmp_path / f"state{k}.sqlite"
        path.write_bytes(old_file.read_bytes())
        child = open_killed_at(path, k, every=200)
        assert child.returncode in (0, -9), child.stderr
        killed += child.returncode == -9
        cols = columns(path)
        assert all(c[-1] == "crc" for c in cols.values()) or \
            all("crc" not in c for c in cols.values()), (k, cols)   # all or nothing
        assert read_back(path) == expected(), k                     # the next start
        assert null_crcs(path) == {t: 0 for t in CRC_TABLES}, k
    assert killed >= 4, killed      # the kills did land inside the upgrade


# ---------------------------------------------------------------- tables beside kizashi's


@pytest.fixture(scope="module")
def ticked(tmp_path_factory):
    """A state file after one ``--once`` tick, and its config (a second tick adds steps)."""
    folder = tmp_path_factory.mktemp("ticked")
    config = ticked_state(folder, "s")
    return folder / "good.sqlite", config


EXTRA = {
    "notes": ["CREATE TABLE my_notes (t TEXT)", "INSERT INTO my_notes VALUES ('hello')"],
    "lost_and_found": ["CREATE TABLE lost_and_found (rootpgno INTEGER, pgno INTEGER, "
                       "nfield INTEGER, id INTEGER, c0, c1, c2)",
                       "INSERT INTO lost_and_found VALUES (2, 7, 3, 1, 'a', 2, x'00')"],
    "with an index": ["CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT UNIQUE)",
                      "CREATE INDEX audit_what ON audit (what, id)",
                      "INSERT INTO audit (what) VALUES ('x')"],
    "named like a kizashi column": ["CREATE TABLE crc (watch TEXT)"],
    "a view": ["CREATE VIEW open_alerts AS SELECT * FROM alerts WHERE ends_at IS NULL"],
    "without rowid": ["CREATE TABLE kv (k TEXT PRIMARY KEY, v) WITHOUT ROWID",
                      "INSERT INTO kv VALUES ('k', 1)"],
}


@pytest.mark.parametrize("name", list(EXTRA))
def test_a_table_of_another_name_is_left_alone_and_the_daemon_ticks(ticked, tmp_path, name):
    good, config = ticked
    path = tmp_path / "state.sqlite"
    path.write_bytes(good.read_bytes())
    db = sqlite3.connect(path)
    for statement in EXTRA[name]:
        db.execute(statement)
    db.commit()
    db.close()
    before = read_extra(path)
    result = CliRunner().invoke(cli, ["watch", "--once", str(config), "--state", str(path)])
    assert result.exit_code == 0, result.output
    store = WatchStore(str(path))
    assert store.progress("m") == T0 + 199 and store.load_state("m", "s") is not None
    store.close()
    assert read_extra(path) == before       # the other tables' rows as they were


def read_extra(path: Path) -> list:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
                 if r[0] not in _schema_columns()]
        return [(n, db.execute(f"SELECT * FROM {n}").fetchall()) for n in sorted(names)]
    finally:
        db.close()


OWN = sorted(_schema_columns())


@pytest.mark.parametrize("how", ["renamed", "dropped"])
@pytest.mark.parametrize("table", OWN)
def test_a_missing_own_table_is_refused_in_one_line_and_kept(ticked, tmp_path, table, how):
    good, config = ticked
    path = tmp_path / "state.sqlite"
    path.write_bytes(good.read_bytes())
    db = sqlite3.connect(path)
    db.execute(f"ALTER TABLE {table} RENAME TO {table}_x" if how == "renamed"
               else f"DROP TABLE {table}")
    db.commit()
    db.close()
    before = path.read_bytes()
    result = CliRunner().invoke(cli, ["watch", "--once", str(config), "--state", str(path)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: state file {path} is "), lines
    assert path.read_bytes() == before


def test_a_file_from_before_the_binary_state_tables_still_opens(tmp_path):
    """A file written before the four tables of the binary state (``_ADDED_TABLES``) were
    added lacks all four: the open creates them (one of them missing alone is refused)."""
    path = tmp_path / "state.sqlite"
    store = WatchStore(str(path))
    with store.transaction():
        store.set_progress("cpu", 60.0)
    store.close()
    db = sqlite3.connect(path)
    for table in _ADDED_TABLES:
        db.execute(f"DROP TABLE {table}")
    db.commit()
    db.close()
    store = WatchStore(str(path))
    assert store.progress("cpu") == 60.0
    store.close()
