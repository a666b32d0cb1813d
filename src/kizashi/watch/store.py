"""The daemon's state in one SQLite file (WAL mode), written one tick per transaction.

Tables:

``series``     every series seen: labels, first/last seen, still active or aged out
``progress``   per watch, the timestamp of the last processed step
``state_trees`` per watch and detector: the state tree's skeleton (JSON: the
               tree with each array replaced by its number, dtype and shape;
               :mod:`kizashi.watch.blobstate`) — the detector's and decider's
               state and the series id of each column
``state_chunks`` the arrays of those trees as binary chunks of 64 KiB: a tick
               writes only the chunks that changed
``layouts``    the series ids of a watch's columns, one row per change of the set
``blocks``     one row per watch, detector and processed step: value, score and
               threshold of every series as one binary ``(series, 3)`` float64
               array (the columns of a ``layouts`` row), for the dashboard
``states``, ``points``  the JSON states and per-point rows of files written
               before (still read; ``points`` is still written by :meth:`add_points`)
``alerts``     one row per incident: firing → resolved
``outbox``     notifications to deliver, marked sent once a sink accepted them; each
               holds the alert's row as it was at the event (``alert``, JSON), so a
               message says what happened then, not what the alert has become

Everything a tick changes is committed together, so a ``kill -9`` leaves
either the state before the tick or the state after it: a restart resumes
from ``progress``, loses no processed point, and never opens an incident
twice. A transaction that fails (a full disk, an I/O error), in its body or
in its ``COMMIT``, is rolled back and its error raised: the caller must
forget what it did in memory too. Notifications are delivered after the
commit from ``outbox``, at least once (a kill between sending and marking
re-sends it; Alertmanager merges the copy, webhook receivers get the same
``id``), in order per alert and sink (:meth:`WatchStore.unsent`).

A missing file is created empty. A file that is not a kizashi database, or is
corrupt, is an error: the daemon will not overwrite it. So is a sound SQLite file
whose content is damaged (a state tree whose arrays do not match its skeleton, a
chunk missing, labels or a progress time that do not parse): reading it raises
:class:`StateFileDamaged`, one line naming the file and what cannot be read. A file (or folder) that
cannot be written, a locked file or a path that cannot be opened are errors that
say so, not "corrupt": nothing is wrong with such a file, and deleting it would
lose the state.

Examples
--------
>>> store = WatchStore(":memory:")
>>> with store.transaction():
...     ids = store.series_ids("cpu", [{"instance": "a"}, {"instance": "b"}], now=60.0)
...     store.set_progress("cpu", 60.0)
>>> ids, store.progress("cpu")
([1, 2], 60.0)
"""

from __future__ import annotations

import errno
import functools
import json
import os
import sqlite3
import struct
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

from kizashi.state import from_json_safe
from kizashi.watch.blobstate import (
    ChunkHint,
    changed_chunks,
    chunk_bytes,
    join_tree,
    n_chunks,
    split_tree,
)
from kizashi.watch.sources import series_key
from kizashi.watch.sqlite_files import check_whole_file, row_crc

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY, watch TEXT NOT NULL, key TEXT NOT NULL, labels TEXT NOT NULL,
    first_seen REAL NOT NULL, last_seen REAL NOT NULL, active INTEGER NOT NULL DEFAULT 1,
    UNIQUE (watch, key));
CREATE TABLE IF NOT EXISTS progress (watch TEXT PRIMARY KEY, last_ts REAL NOT NULL,
    crc INTEGER);
CREATE TABLE IF NOT EXISTS states (
    watch TEXT NOT NULL, detector TEXT NOT NULL, series TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (watch, detector));
CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL, detector TEXT NOT NULL, t REAL NOT NULL, value REAL,
    score REAL, threshold REAL, PRIMARY KEY (series_id, detector, t)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS points_t ON points (t);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, watch TEXT NOT NULL,
    detector TEXT NOT NULL, labels TEXT NOT NULL, starts_at REAL NOT NULL, ends_at REAL,
    status TEXT NOT NULL, score REAL, value REAL, threshold REAL, peak_score REAL,
    annotations TEXT);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL, sink TEXT NOT NULL, event TEXT NOT NULL,
    created REAL NOT NULL, sent_at REAL, attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0, last_error TEXT, alert TEXT);
CREATE INDEX IF NOT EXISTS outbox_queue ON outbox (alert_id, sink, id);
CREATE TABLE IF NOT EXISTS state_trees (
    watch TEXT NOT NULL, detector TEXT NOT NULL, skeleton TEXT NOT NULL, crc INTEGER,
    PRIMARY KEY (watch, detector));
CREATE TABLE IF NOT EXISTS state_chunks (
    watch TEXT NOT NULL, detector TEXT NOT NULL, leaf INTEGER NOT NULL, chunk INTEGER NOT NULL,
    data BLOB NOT NULL, crc INTEGER, PRIMARY KEY (watch, detector, leaf, chunk));
CREATE TABLE IF NOT EXISTS layouts (id INTEGER PRIMARY KEY, watch TEXT NOT NULL,
    series BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
    id INTEGER PRIMARY KEY, watch TEXT NOT NULL, detector TEXT NOT NULL, t REAL NOT NULL,
    layout INTEGER NOT NULL, data BLOB NOT NULL, UNIQUE (watch, detector, t));
CREATE INDEX IF NOT EXISTS blocks_t ON blocks (t);
"""

#: Columns added since schema version 1 was first written: ``(table, column, type)``.
#: A file written before gets them on the first read-write open (old rows: NULL).
_ADDED_COLUMNS = (("outbox", "alert", "TEXT"), ("alerts", "annotations", "TEXT"),
                  ("state_trees", "crc", "INTEGER"), ("state_chunks", "crc", "INTEGER"),
                  ("progress", "crc", "INTEGER"))


class StateFileDamaged(ValueError):
    """A part of the state file cannot be read back (the file is sound SQLite)."""


class StateFileCorrupt(StateFileDamaged, sqlite3.DatabaseError):
    """SQLite found a damaged page while reading or writing (``SQLITE_CORRUPT``,
    ``SQLITE_NOTADB``): said in one line naming the file; still an ``sqlite3.Error`` for
    the daemon's handling of failed writes."""


#: SQLite's answers for a file whose bytes are damaged
_CORRUPT = ("SQLITE_CORRUPT", "SQLITE_NOTADB")


class _Cursor(sqlite3.Cursor):
    """A cursor whose SQLite "malformed" errors (a damaged page met after the open's
    ``quick_check``: an overflow page, a page read only by this query) name the file."""

    def _corrupt(self, error: sqlite3.DatabaseError) -> BaseException:
        if not (str(getattr(error, "sqlite_errorname", "")).startswith(_CORRUPT)
                or str(error).startswith("Could not decode to UTF-8")):  # a text value
            return error
        path = getattr(self.connection, "store_path", "?")
        reason = " ".join(str(error).split())[:200]
        return StateFileCorrupt(f"state file {path} is corrupt ({reason}); move it away (or "
                                "delete it) to start with fresh state — kizashi will not "
                                "overwrite it")

    def execute(self, *args: Any) -> _Cursor:
        try:
            return super().execute(*args)
        except sqlite3.DatabaseError as error:
            raise self._corrupt(error) from None

    def executemany(self, *args: Any) -> _Cursor:
        try:
            return super().executemany(*args)
        except sqlite3.DatabaseError as error:
            raise self._corrupt(error) from None

    def executescript(self, *args: Any) -> _Cursor:
        try:
            return super().executescript(*args)
        except sqlite3.DatabaseError as error:
            raise self._corrupt(error) from None

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.DatabaseError as error:
            raise self._corrupt(error) from None

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.DatabaseError as error:
            raise self._corrupt(error) from None

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.DatabaseError as error:
            raise self._corrupt(error) from None

    def fetchmany(self, *args: Any) -> list[Any]:
        try:
            return super().fetchmany(*args)
        except sqlite3.DatabaseError as error:
            raise self._corrupt(error) from None


class _Connection(sqlite3.Connection):
    """A connection whose statements run on :class:`_Cursor`."""

    store_path = "?"

    def execute(self, *args: Any) -> _Cursor:  # type: ignore[override]
        return self.cursor(_Cursor).execute(*args)

    def executemany(self, *args: Any) -> _Cursor:  # type: ignore[override]
        return self.cursor(_Cursor).executemany(*args)

    def executescript(self, *args: Any) -> _Cursor:  # type: ignore[override]
        return self.cursor(_Cursor).executescript(*args)


def _damaged(path: str, what: str, error: BaseException) -> StateFileDamaged:
    reason = " ".join(str(error).split())[:300] or type(error).__name__
    return StateFileDamaged(f"state file {path} is corrupt: {what} cannot be read ({reason}); "
                            "move it away (or delete it) to start with fresh state — kizashi "
                            "will not overwrite it")


#: what reading a damaged row raises (json, numpy, a skeleton of the wrong shape)
_READ_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


def _reading(what: str) -> Any:
    """Make a reading method raise :class:`StateFileDamaged` (naming ``what``) on damaged
    rows: a layout or block blob of the wrong size or kind."""
    def wrap(method: Any) -> Any:
        @functools.wraps(method)
        def read(self: WatchStore, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except StateFileDamaged:
                raise
            except _READ_ERRORS as error:
                raise _damaged(self.path, what, error) from None
        return read
    return wrap


def _blob_ids(data: Any) -> np.ndarray:
    """The series ids of a ``layouts`` row (int64 bytes)."""
    if not isinstance(data, bytes) or len(data) % 8:
        raise ValueError(f"a layout of {type(data).__name__} {len(data)} long is no list of ids")
    return np.frombuffer(data, np.int64)


def _block(data: Any, n: int | None = None) -> np.ndarray:
    """The ``(series, 3)`` float64 rows of a ``blocks`` row (of ``n`` series when given)."""
    if not isinstance(data, bytes) or len(data) % 24 or (n is not None and len(data) != 24 * n):
        raise ValueError(f"a block of {type(data).__name__} {len(data)} long does not hold "
                         f"{'its' if n is None else n} series' (value, score, threshold)")
    return np.frombuffer(data, np.float64).reshape(-1, 3)


@functools.cache
def _schema_columns() -> dict[str, tuple[str, ...]]:
    """Each table of :data:`_SCHEMA` and its columns."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(_SCHEMA)
        names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE "
                                              "type='table'")]
        return {name: tuple(row[1] for row in db.execute(f"PRAGMA table_info({name})"))
                for name in names}
    finally:
        db.close()


#: Tables added since schema version 1 was first written, together (a file written before
#: lacks all four; the open creates them)
_ADDED_TABLES = ("state_trees", "state_chunks", "layouts", "blocks")

#: The tables whose rows a start finds by key through their index (the progress time, the
#: state trees and their chunks): the daemon's open checks these indexes against their
#: table (``PRAGMA integrity_check(TABLE)``); a damaged one finds no row, or another, for
#: a watch, which would then start afresh
_KEYED_TABLES = ("progress", "state_trees", "state_chunks")


def _check_tables(db: sqlite3.Connection, tables: set[str], readonly: bool = False) -> None:
    """Refuse a file whose own tables or columns are not kizashi's: a changed byte in the
    schema's text (which quick_check does not read) would rename one, and the open would
    then create it anew, empty, beside the renamed one. Tables of other names (an
    operator's notes, ``lost_and_found`` of ``sqlite3 .recover``) are left alone. A
    missing own table is refused by a read-write open only (a read-only one creates
    nothing: the dashboard answers 503 on the pages that read it)."""
    expected = _schema_columns()
    if "meta" in tables and not readonly:
        missing = [t for t in expected if t not in tables and (
            t not in _ADDED_TABLES or any(a in tables for a in _ADDED_TABLES))]
        if missing:
            raise sqlite3.DatabaseError(f"its table {missing[0]!r} is missing (renamed or "
                                        "damaged)")
    added = {(table, column) for table, column, _ in _ADDED_COLUMNS}
    for table in sorted(tables):
        if table not in expected:
            continue
        columns = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
        want = [c for c in expected[table] if c in columns or (table, c) not in added]
        if columns != want:
            raise sqlite3.DatabaseError(f"its table {table!r} has columns {columns}, not "
                                        f"kizashi's {list(expected[table])}")


def _backfill_crc(db: sqlite3.Connection, tables: Sequence[str]) -> None:
    """Give the rows of ``tables`` (of ``state_trees``, ``state_chunks``, ``progress``,
    whose ``crc`` column was just added) the CRC-32 their writes compute, so that a file
    written before the checksums is protected from its upgrade on, not only in the rows
    written since. A value of the wrong kind keeps NULL (not checked; reading it fails)."""
    def text(value: Any) -> bytes | None:
        return (value.encode("utf-8", "surrogatepass") if isinstance(value, str)
                else None)

    def number(value: Any) -> bytes | None:
        return (struct.pack("<d", float(value)) if isinstance(value, (int, float))
                else None)

    def blob(value: Any) -> bytes | None:
        return value if isinstance(value, bytes) else None

    queries = {"state_trees": ("skeleton", "watch, detector", text),
               "state_chunks": ("data", "watch, detector, leaf, chunk", blob),
               "progress": ("last_ts", "watch", number)}
    for table in tables:
        if table not in queries:
            continue
        value, key, encode = queries[table]
        rows = []
        for rowid, data, *names in db.execute(
                f"SELECT rowid, {value}, {key} FROM {table} WHERE crc IS NULL"):
            data = encode(data)
            if data is not None:
                rows.append((row_crc(data, *names), rowid))
        db.executemany(f"UPDATE {table} SET crc=? WHERE rowid=?", rows)


class WatchStore:
    """One connection to the daemon's SQLite state file.

    Parameters
    ----------
    path : str
        The file (``":memory:"`` for tests). Created when missing.
    readonly : bool
        Open an existing file for reading only (the web dashboard does).
    """

    def __init__(self, path: str, readonly: bool = False):
        self.path = str(path)
        self.lock = threading.RLock()
        self._ids: dict[str, dict[str, list[int]]] = {}   # watch → key → [id, active]
        self._layout: dict[str, tuple[int, np.ndarray]] = {}  # watch → its last layout
        memory = self.path == ":memory:"
        if readonly and not memory and not Path(self.path).exists():
            raise ValueError(f"state file {self.path} does not exist yet")
        if not memory and not readonly:
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise ValueError(f"cannot create the folder of state file {self.path}: "
                                 f"{error.strerror or error}; choose another path (storage: "
                                 "or --state)") from None
        try:
            if readonly and not memory:
                uri = f"{Path(self.path).resolve().as_uri()}?mode=ro"
                self.db = sqlite3.connect(uri, uri=True, check_same_thread=False,
                                          isolation_level=None, timeout=10,
                                          factory=_Connection)
            else:
                self.db = sqlite3.connect(self.path, check_same_thread=False,
                                          isolation_level=None, timeout=10,
                                          factory=_Connection)
            self.db.store_path = self.path
            self._check_and_init(readonly, memory)
            columns = [{row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
                       for table in ("state_trees", "state_chunks", "progress")]
            #: the state and progress rows carry their CRC-32 (a file of an older kizashi
            #: opened read-only may lack the column)
            self._crc = all("crc" in names for names in columns[:2])
            self._crc_progress = "crc" in columns[2]
            if not readonly:  # (the dashboard answers 503 on the pages that read one)
                self._check_keys()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as error:  # (quick_check's text)
            if hasattr(self, "db"):
                self.db.close()
            if isinstance(error, UnicodeDecodeError):
                error = sqlite3.DatabaseError(f"integrity check failed: {error}")
            raise ValueError(self._open_error(error, readonly)) from None
        except OSError as error:  # e.g. resolving a path the process may not see
            raise ValueError(f"cannot open state file {self.path}: "
                             f"{error.strerror or error}") from None

    def _check_keys(self) -> None:
        """Check the CRC-32 of every state tree and progress row (few, small) at open: a row
        whose watch or detector name changed on disk would not be found by its name, and
        the watch would start afresh, silently."""
        rows = []
        if self._crc:
            rows += [(f"the state tree of watch {w!r}, {d!r}", text, crc, (w, d))
                     for w, d, text, crc in self.db.execute(
                         "SELECT watch, detector, skeleton, crc FROM state_trees")]
        if self._crc_progress:
            rows += [(f"the last processed step of watch {w!r}", t, crc, (w,))
                     for w, t, crc in self.db.execute("SELECT watch, last_ts, crc FROM progress")]
        for what, value, crc, key in rows:
            if crc is None:
                continue
            data = (value.encode("utf-8", "surrogatepass") if isinstance(value, str)
                    else struct.pack("<d", float(value)) if isinstance(value, (int, float))
                    else None)
            if data is None or crc != row_crc(data, *key):
                raise sqlite3.DatabaseError(f"{what} fails its CRC-32: the bytes changed "
                                            "after they were written")

    def _open_error(self, error: sqlite3.DatabaseError, readonly: bool) -> str:
        """What went wrong opening the file, in words that do not advise deleting good state."""
        path = Path(self.path)
        name = getattr(error, "sqlite_errorname", "")
        text = str(error).lower()
        folder = path.parent if str(path.parent) else Path(".")
        if (name in ("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH") or "readonly" in text
                or "read-only" in text or (not readonly and path.exists()
                                            and not os.access(path, os.W_OK))):
            where = (f"its folder {folder} is" if path.exists() and os.access(path, os.W_OK)
                     else "it is")
            return (f"state file {self.path} cannot be written: {where} read-only (permission "
                    f"denied: {error}); make it writable for this user (SQLite also writes "
                    f"{path.name}-wal and {path.name}-shm beside it) or choose another file "
                    "with --state — the file itself is not damaged")
        if name == "SQLITE_BUSY" or "locked" in text:
            return (f"state file {self.path} is locked by another process ({error}); is another "
                    "kizashi watch running on it?")
        if name == "SQLITE_CANTOPEN" or "unable to open" in text:
            if path.exists() and not os.access(path, os.R_OK):
                reason = f"permission denied ({os.strerror(errno.EACCES)})"
            elif not folder.is_dir():
                reason = f"its folder {folder} does not exist or is not a folder"
            elif not readonly and not os.access(folder, os.W_OK | os.X_OK):
                reason = f"its folder {folder} is not writable (permission denied)"
            else:
                reason = str(error)
            return (f"cannot open state file {self.path}: {reason}; fix the permissions or "
                    "choose another file (storage: or --state)")
        if name.startswith("SQLITE_IOERR") or "disk i/o" in text or name == "SQLITE_FULL":
            return (f"state file {self.path}: the disk failed or is full ({error}); free space "
                    "or fix the disk — the file was not changed")
        detail = " ".join(str(error).split())[:300]  # (quick_check answers in several lines)
        return (f"state file {self.path} is not a kizashi watch database or is corrupt "
                f"({detail}); move it away (or delete it) to start with fresh state — kizashi "
                "will not overwrite it")

    def _check_and_init(self, readonly: bool, memory: bool) -> None:
        db = self.db
        if not memory:
            check_whole_file(db, self.path)
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not memory and not readonly:
            # the daemon's open also checks the indexes of the keyed tables against their
            # rows (a damaged index finds no row, or another, for a key: a watch would start
            # afresh); the other tables' (points, blocks: the dashboard's) are left to the
            # quick_check, which is 2-4 times cheaper on a large file
            for table in _KEYED_TABLES:
                if table in tables:
                    result = db.execute(f'PRAGMA integrity_check("{table}")').fetchone()[0]
                    if result != "ok":
                        raise sqlite3.DatabaseError(f"integrity check failed: {result}")
        if tables and "meta" not in tables:
            raise sqlite3.DatabaseError("it holds other tables than kizashi's")
        _check_tables(db, tables, readonly)
        if "meta" in tables:
            row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None or str(row[0]).strip() != str(SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"schema version {row and row[0]!r} is not "
                                            f"{SCHEMA_VERSION}")
        if readonly:
            return
        if not memory:
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        # the columns added since, the CRC-32 of the rows written before them, the tables
        # and their version in one transaction: a kill -9 at the first start (or the first
        # start of a newer kizashi) leaves the file as it was or whole, never tables
        # without their version or CRC columns without their values (the next open does
        # it again)
        db.execute("BEGIN IMMEDIATE")
        try:
            added = []
            for table, column, kind in _ADDED_COLUMNS:
                if table in tables and column not in {
                        row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                    added.append(table)
            _backfill_crc(db, added)
            for statement in _SCHEMA.split(";"):  # (executescript would commit first)
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)",
                       ("schema", str(int(SCHEMA_VERSION))))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                with suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside is committed together, or not at all.

        An error inside, or in the ``COMMIT`` itself (SQLite's "database or disk
        is full" often comes there), rolls the transaction back and is raised.
        """
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self.db.execute("COMMIT")
            except BaseException:
                self._ids.clear()       # the caches may hold rows that were rolled back
                self._layout.clear()
                if self.db.in_transaction:  # SQLite may have rolled back already
                    with suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ series
    def series_ids(self, watch: str, labels: Sequence[dict[str, str]], now: float,
                   keys: Sequence[str] | None = None) -> list[int]:
        """Ids of these series of ``watch`` (created if new).

        A new series, or one that aged out and is back, is marked seen at ``now``;
        the others' ``last_seen`` is refreshed in bulk by :meth:`set_last_seen`
        (the daemon keeps the exact one in its state). ``keys`` are the label sets'
        :func:`series_key` when the caller has them already.
        """
        cache = self._series_cache(watch)
        keys = [series_key(item) for item in labels] if keys is None else keys
        ids, back = [], []
        for key in keys:
            row = cache.get(key)
            if row is None:
                cursor = self.db.execute(
                    "INSERT INTO series (watch, key, labels, first_seen, last_seen) "
                    "VALUES (?, ?, ?, ?, ?)", (watch, key, key, now, now))
                row = cache[key] = [int(cursor.lastrowid), 1]
            elif not row[1]:
                back.append((now, row[0]))
                row[1] = 1
            ids.append(row[0])
        if back:
            self.db.executemany("UPDATE series SET last_seen=max(last_seen, ?), active=1 "
                                "WHERE id=?", back)
        return ids

    def _series_cache(self, watch: str) -> dict[str, list[int]]:
        cache = self._ids.get(watch)
        if cache is None:
            cache = self._ids[watch] = {
                key: [int(i), int(active)] for key, i, active in self.db.execute(
                    "SELECT key, id, active FROM series WHERE watch=?", (watch,))}
        return cache

    def set_last_seen(self, pairs: Sequence[tuple[int, float]]) -> None:
        """Record when series were last seen: ``(id, t)`` pairs."""
        self.db.executemany("UPDATE series SET last_seen=max(last_seen, ?) WHERE id=?",
                            [(float(t), int(i)) for i, t in pairs])

    def set_inactive(self, ids: Sequence[int]) -> None:
        self.db.executemany("UPDATE series SET active=0 WHERE id=?", [(int(i),) for i in ids])
        gone = {int(i) for i in ids}
        for cache in self._ids.values():
            for row in cache.values():
                if row[0] in gone:
                    row[1] = 0

    def series(self, series_id: int) -> dict[str, Any] | None:
        row = self.db.execute("SELECT id, watch, labels, first_seen, last_seen, active FROM series "
                              "WHERE id=?", (series_id,)).fetchone()
        return None if row is None else self._row(_series_row, row, "series")

    def all_series(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT id, watch, labels, first_seen, last_seen, active "
                               "FROM series ORDER BY watch, labels")
        return [self._row(_series_row, row, "series") for row in rows]

    def _row(self, parse: Any, row: Sequence[Any], table: str) -> dict[str, Any]:
        """``parse(row)``, or :class:`StateFileDamaged` naming the row."""
        try:
            return parse(row)
        except _READ_ERRORS as error:
            raise _damaged(self.path, f"row {row[0]} of table {table}", error) from None

    # ---------------------------------------------------------------- progress
    def progress(self, watch: str) -> float | None:
        crc = "crc" if self._crc_progress else "NULL"
        row = self.db.execute(f"SELECT last_ts, {crc} FROM progress WHERE watch=?",
                              (watch,)).fetchone()
        if row is None:
            return None
        what = f"the last processed step of watch {watch!r}"
        if isinstance(row[0], bool) or not isinstance(row[0], (int, float)) \
                or not np.isfinite(row[0]):
            raise _damaged(self.path, what, ValueError(f"{row[0]!r} is not a time"))
        if row[1] is not None and row[1] != row_crc(struct.pack("<d", float(row[0])), watch):
            raise _damaged(self.path, what, ValueError(
                "it fails its CRC-32: the bytes changed after they were written"))
        return float(row[0])

    def set_progress(self, watch: str, t: float) -> None:
        t = float(t)
        self.db.execute("INSERT INTO progress (watch, last_ts, crc) VALUES (?, ?, ?) "
                        "ON CONFLICT(watch) DO UPDATE SET last_ts=excluded.last_ts, "
                        "crc=excluded.crc", (watch, t, row_crc(struct.pack("<d", t), watch)))

    # ------------------------------------------------------------------ states
    def load_state(self, watch: str, detector: str) -> tuple[list[int], dict[str, Any]] | None:
        """``(series ids, state)`` as last saved, or None."""
        tree = self.load_tree(watch, detector)
        what = f"the state of watch {watch!r}, detector {detector!r}"
        if tree is not None:
            try:
                return [int(i) for i in tree["series"]], tree["state"]
            except _READ_ERRORS as error:
                raise _damaged(self.path, what, error) from None
        row = self.db.execute("SELECT series, state FROM states WHERE watch=? AND detector=?",
                              (watch, detector)).fetchone()
        if row is None:
            return None
        try:
            series = json.loads(row[0])
            return [int(i) for i in series], from_json_safe(json.loads(row[1]))
        except _READ_ERRORS as error:
            raise _damaged(self.path, what, error) from None

    def save_state(self, watch: str, detector: str, series: Sequence[int] | np.ndarray,
                   state: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        """Store ``state`` with the series id of each column, in binary.

        ``previous`` is what the last call stored for this watch and detector
        (the state before the tick): only the chunks that differ from it are
        written. Without it the whole state is written.
        """
        def tree(s: Any, ids: Any) -> dict[str, Any]:
            return {"series": np.asarray(ids, dtype=np.int64), "state": s}

        self.save_tree(watch, detector, tree(state, series),
                       None if previous is None else tree(previous["state"],
                                                          previous["series"]))

    def has_tree(self, watch: str, detector: str) -> bool:
        """Whether a binary state tree is stored for this watch and detector."""
        return self.db.execute("SELECT 1 FROM state_trees WHERE watch=? AND detector=?",
                               (watch, detector)).fetchone() is not None

    def load_tree(self, watch: str, detector: str) -> dict[str, Any] | None:
        """A tree saved by :meth:`save_tree`, or None."""
        crc = ", crc" if self._crc else ", NULL"
        row = self.db.execute(f"SELECT skeleton{crc} FROM state_trees WHERE watch=? AND "
                              "detector=?", (watch, detector)).fetchone()
        if row is None:
            return None
        what = f"the state tree of watch {watch!r}, {detector!r}"
        if row[1] is not None and (not isinstance(row[0], str) or row[1] != row_crc(
                row[0].encode("utf-8", "surrogatepass"), watch, detector)):
            raise _damaged(self.path, what, ValueError(
                "its skeleton fails its CRC-32: the bytes changed after they were written"))
        parts: dict[int, list[bytes]] = {}
        for leaf, chunk, data, check in self.db.execute(
                f"SELECT leaf, chunk, data{crc} FROM state_chunks WHERE watch=? AND detector=? "
                "ORDER BY leaf, chunk", (watch, detector)):
            if check is not None and (not isinstance(data, bytes)
                                      or check != row_crc(data, watch, detector, leaf, chunk)):
                raise _damaged(self.path, what, ValueError(
                    f"array {leaf}, chunk {chunk} fails its CRC-32: the bytes changed after "
                    "they were written"))
            parts.setdefault(int(leaf), []).append(data)
        try:
            n = row[0].count('"__leaf__"')
            tree = join_tree(row[0], [b"".join(parts.get(k, [])) for k in range(n)])
            if not isinstance(tree, dict):
                raise TypeError(f"the tree is a {type(tree).__name__}, not a mapping")
            return tree
        except _READ_ERRORS as error:
            raise _damaged(self.path, what, error) from None

    def save_tree(self, watch: str, detector: str, tree: dict[str, Any],
                  previous: dict[str, Any] | None = None) -> int:
        """Store a state tree; with ``previous`` (the tree as last stored) only what changed.

        Returns the bytes of array data written.
        """
        skeleton, arrays = split_tree(tree)
        before: list[np.ndarray] | None = None
        if previous is not None:
            _, before = split_tree(previous)
            if len(before) != len(arrays):
                before = None
        if before is None:
            self.db.execute("DELETE FROM state_chunks WHERE watch=? AND detector=?",
                            (watch, detector))
        self.db.execute(
            "INSERT INTO state_trees (watch, detector, skeleton, crc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(watch, detector) DO UPDATE SET skeleton=excluded.skeleton, "
            "crc=excluded.crc WHERE skeleton IS NOT excluded.skeleton OR crc IS NOT excluded.crc",
            (watch, detector, skeleton, row_crc(skeleton.encode("utf-8"), watch, detector)))
        rows, written = [], 0
        for leaf, array in enumerate(arrays):
            old = None if before is None else before[leaf]
            for index in changed_chunks(old, array).tolist():
                data = chunk_bytes(array, index)
                rows.append((watch, detector, leaf, index, data,
                             row_crc(data, watch, detector, leaf, index)))
                written += len(data)
            if (old is not None and n_chunks(old) > n_chunks(array)) or (
                    isinstance(old, ChunkHint) and old.chunks is None):
                self.db.execute("DELETE FROM state_chunks WHERE watch=? AND detector=? AND "
                                "leaf=? AND chunk>=?", (watch, detector, leaf, n_chunks(array)))
        self.db.executemany(
            "INSERT INTO state_chunks (watch, detector, leaf, chunk, data, crc) VALUES "
            "(?, ?, ?, ?, ?, ?) ON CONFLICT(watch, detector, leaf, chunk) DO UPDATE SET "
            "data=excluded.data, crc=excluded.crc", rows)
        return written

    def drop_state(self, watch: str, detector: str) -> None:
        """Forget the stored state of a watch's detector."""
        for table in ("state_trees", "state_chunks", "states"):
            self.db.execute(f"DELETE FROM {table} WHERE watch=? AND detector=?",
                            (watch, detector))

    # ------------------------------------------------------------------ points
    def layout(self, watch: str, series: Sequence[int] | np.ndarray) -> int:
        """The id of a layout row for these columns of ``watch`` (a new row when they changed)."""
        ids = np.asarray(series, dtype=np.int64)
        last = self._layout.get(watch)
        if last is None:
            row = self.db.execute("SELECT id, series FROM layouts WHERE watch=? ORDER BY id DESC "
                                  "LIMIT 1", (watch,)).fetchone()
            if row is not None:
                try:
                    last = self._layout[watch] = (int(row[0]), _blob_ids(row[1]))
                except _READ_ERRORS as error:
                    raise _damaged(self.path, f"layout {row[0]} of watch {watch!r}",
                                   error) from None
        if last is not None and np.array_equal(last[1], ids):
            return last[0]
        cursor = self.db.execute("INSERT INTO layouts (watch, series) VALUES (?, ?)",
                                 (watch, ids.tobytes()))
        self._layout[watch] = (int(cursor.lastrowid), ids.copy())
        return int(cursor.lastrowid)

    def add_block(self, watch: str, detector: str, layout: int, times: np.ndarray,
                  value: np.ndarray, score: np.ndarray, threshold: np.ndarray) -> None:
        """Points of every column of a layout at some steps: arrays ``(time, series)``."""
        rows = []
        for i, t in enumerate(np.asarray(times, dtype=np.float64).tolist()):
            data = np.stack([value[i], score[i], threshold[i]], axis=1).astype(np.float64)
            rows.append((watch, detector, t, int(layout), data.tobytes()))
        self.db.executemany("INSERT INTO blocks (watch, detector, t, layout, data) VALUES "
                            "(?, ?, ?, ?, ?) ON CONFLICT(watch, detector, t) DO UPDATE SET "
                            "layout=excluded.layout, data=excluded.data", rows)

    def add_points(self, rows: Sequence[tuple[int, str, float, float, float, float]]) -> None:
        """Rows of ``(series_id, detector, t, value, score, threshold)``."""
        self.db.executemany("INSERT INTO points VALUES (?, ?, ?, ?, ?, ?)",
                            [(int(s), d, float(t), _num(v), _num(sc), _num(th))
                             for s, d, t, v, sc, th in rows])

    def _positions(self, layouts: Sequence[int], series_id: int) -> dict[int, int]:
        """Column of ``series_id`` in each of these layouts (absent where it has none)."""
        out = {}
        for layout in set(layouts):
            row = self.db.execute("SELECT series FROM layouts WHERE id=?", (layout,)).fetchone()
            if row is None:
                continue
            where = np.flatnonzero(_blob_ids(row[0]) == series_id)
            if where.size:
                out[layout] = int(where[0])
        return out

    @_reading("the stored points (blocks, layouts)")
    def points(self, series_id: int, start: float | None = None,
               end: float | None = None) -> dict[str, dict[str, np.ndarray]]:
        """Per detector: arrays ``t``, ``value``, ``score``, ``threshold`` in time order."""
        lo, hi = -1e18 if start is None else start, 1e18 if end is None else end
        out: dict[str, dict[str, list[float]]] = {}
        for detector, *values in self.db.execute(
                "SELECT detector, t, value, score, threshold FROM points WHERE series_id=? AND "
                "t>=? AND t<=? ORDER BY detector, t", (series_id, lo, hi)):
            part = out.setdefault(detector, {"t": [], "value": [], "score": [], "threshold": []})
            for name, value in zip(("t", "value", "score", "threshold"), values, strict=True):
                part[name].append(np.nan if value is None else value)
        row = self.db.execute("SELECT watch FROM series WHERE id=?", (series_id,)).fetchone()
        if row is not None:
            blocks = self.db.execute(
                "SELECT id, detector, t, layout FROM blocks WHERE watch=? AND t>=? AND t<=? "
                "ORDER BY detector, t", (row[0], lo, hi)).fetchall()
            where = self._positions([b[3] for b in blocks], series_id)
            for block_id, detector, t, layout in blocks:
                j = where.get(layout)
                if j is None:
                    continue
                with self.db.blobopen("blocks", "data", block_id, readonly=True) as blob:
                    blob.seek(24 * j)
                    value, score, threshold = _block(blob.read(24), 1)[0].tolist()
                if np.isnan(value):   # not observed at that step
                    continue
                part = out.setdefault(detector, {"t": [], "value": [], "score": [],
                                                 "threshold": []})
                for name, x in (("t", t), ("value", value), ("score", score),
                                ("threshold", threshold)):
                    part[name].append(x)
        result = {}
        for d, part in out.items():
            arrays = {k: np.asarray(v, dtype=np.float64) for k, v in part.items()}
            order = np.argsort(arrays["t"], kind="stable")
            result[d] = {k: v[order] for k, v in arrays.items()}
        return result

    @_reading("the stored points (blocks, layouts)")
    def recent_values(self, watch: str, series_ids: Sequence[int], start: float,
                      end: float) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Per series of ``watch``: ``(t, value)`` of its observed points in ``[start, end]``
        (from the blocks of the watch's first detector): the dashboard's sparklines."""
        wanted = np.asarray(list(series_ids), dtype=np.int64)
        out: dict[int, tuple[list[float], list[float]]] = {int(i): ([], []) for i in wanted}
        row = self.db.execute("SELECT min(detector) FROM blocks WHERE watch=? AND t>=? AND "
                              "t<=?", (watch, start, end)).fetchone()
        if row is None or row[0] is None or not wanted.size:
            return {k: (np.zeros(0), np.zeros(0)) for k in out}
        where: dict[int, list[tuple[int, int]]] = {}
        for block_id, t, layout in self.db.execute(
                "SELECT id, t, layout FROM blocks WHERE watch=? AND detector=? AND t>=? AND "
                "t<=? ORDER BY t", (watch, row[0], start, end)).fetchall():
            if layout not in where:
                series = self.db.execute("SELECT series FROM layouts WHERE id=?",
                                         (layout,)).fetchone()
                ids = _blob_ids(series[0]) if series else np.zeros(0, np.int64)
                hit = np.flatnonzero(np.isin(ids, wanted))
                where[layout] = list(zip(ids[hit].tolist(), hit.tolist(), strict=True))
            if not where[layout]:
                continue
            with self.db.blobopen("blocks", "data", block_id, readonly=True) as blob:
                for sid, j in where[layout]:
                    blob.seek(24 * j)
                    value = _block(blob.read(24), 1)[0, 0]
                    if not np.isnan(value):
                        out[sid][0].append(t)
                        out[sid][1].append(float(value))
        return {k: (np.asarray(t, dtype=np.float64), np.asarray(v, dtype=np.float64))
                for k, (t, v) in out.items()}

    def alert_counts(self, since: float) -> dict[int, int]:
        """Alerts per series that started at or after ``since``."""
        return {int(sid): int(n) for sid, n in self.db.execute(
            "SELECT series_id, count(*) FROM alerts WHERE starts_at>=? GROUP BY series_id",
            (since,))}

    def recent_scores(self, series_ids: Sequence[int], detector: str,
                      since: float) -> dict[int, np.ndarray]:
        out: dict[int, list[float]] = {int(s): [] for s in series_ids}
        for series_id, score in self.db.execute(
                "SELECT series_id, score FROM points WHERE detector=? AND t>=? AND score IS NOT "
                "NULL", (detector, since)):
            if series_id in out:
                out[series_id].append(score)
        for series, block in self.score_blocks(detector, since):
            for sid, value, score in zip(series.tolist(), block[:, 0].tolist(),
                                         block[:, 1].tolist(), strict=True):
                if sid in out and not np.isnan(value) and not np.isnan(score):
                    out[sid].append(score)
        return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}

    def score_blocks(self, detector: str, since: float
                     ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The stored blocks of ``detector`` from ``since`` on, oldest first: per block its
        layout's series ids and its ``(series, 3)`` value, score, threshold columns."""
        layouts: dict[int, np.ndarray] = {}
        for layout, data in self.db.execute(
                "SELECT layout, data FROM blocks WHERE detector=? AND t>=? ORDER BY t",
                (detector, since)):
            try:
                if layout not in layouts:
                    row = self.db.execute("SELECT series FROM layouts WHERE id=?",
                                          (layout,)).fetchone()
                    layouts[layout] = _blob_ids(row[0]) if row else np.zeros(0, np.int64)
                block = _block(data, layouts[layout].size)
            except _READ_ERRORS as error:
                raise _damaged(self.path, "the stored scores (blocks, layouts)", error) from None
            yield layouts[layout], block

    def score_points(self, detector: str, since: float) -> tuple[np.ndarray, np.ndarray]:
        """Series ids and scores of the single points of ``detector`` from ``since`` on."""
        rows = self.db.execute("SELECT series_id, score FROM points WHERE detector=? AND t>=? "
                               "AND score IS NOT NULL", (detector, since)).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids, scores = zip(*rows, strict=True)
        return np.asarray(ids, dtype=np.int64), np.asarray(scores, dtype=np.float64)

    def prune(self, before: float) -> None:
        """Forget points and resolved alerts older than ``before``."""
        self.db.execute("DELETE FROM points WHERE t<?", (before,))
        self.db.execute("DELETE FROM blocks WHERE t<?", (before,))
        self.db.execute("DELETE FROM layouts WHERE id NOT IN (SELECT DISTINCT layout FROM "
                        "blocks) AND id NOT IN (SELECT max(id) FROM layouts GROUP BY watch)")
        self.db.execute("DELETE FROM outbox WHERE sent_at IS NOT NULL AND created<?", (before,))
        self.db.execute("DELETE FROM alerts WHERE status='resolved' AND ends_at<?", (before,))

    # ------------------------------------------------------------------ alerts
    def open_alert(self, series_id: int, watch: str, detector: str, labels: dict[str, str],
                   t: float, score: float, value: float, threshold: float,
                   annotations: dict[str, str] | None = None) -> int:
        cursor = self.db.execute(
            "INSERT INTO alerts (series_id, watch, detector, labels, starts_at, status, score, "
            "value, threshold, peak_score, annotations) "
            "VALUES (?, ?, ?, ?, ?, 'firing', ?, ?, ?, ?, ?)",
            (series_id, watch, detector, json.dumps(labels, sort_keys=True), t, _num(score),
             _num(value), _num(threshold), _num(score),
             json.dumps(annotations, sort_keys=True) if annotations else None))
        return int(cursor.lastrowid)

    def touch_alert(self, alert_id: int, score: float, value: float) -> None:
        self.db.execute("UPDATE alerts SET score=?, value=?, peak_score=max(coalesce(peak_score, "
                        "?), ?) WHERE id=?", (_num(score), _num(value), _num(score), _num(score),
                                              alert_id))

    def touch_alerts(self, rows: Sequence[tuple[int, float, float]]) -> None:
        """:meth:`touch_alert` for many ``(alert_id, score, value)`` at once."""
        self.db.executemany(
            "UPDATE alerts SET score=?, value=?, peak_score=max(coalesce(peak_score, ?), ?) "
            "WHERE id=?", [(_num(sc), _num(v), _num(sc), _num(sc), int(a)) for a, sc, v in rows])

    def resolve_alert(self, alert_id: int, t: float) -> None:
        self.db.execute("UPDATE alerts SET status='resolved', ends_at=? WHERE id=?", (t, alert_id))

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        """The alert ``alert_id``, or None when there is none."""
        row = self.db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id=?",
                              (alert_id,)).fetchone()
        return None if row is None else self._row(_alert_row, row, "alerts")

    def alerts(self, status: str | None = None, series_id: int | None = None,
               limit: int = 500) -> list[dict[str, Any]]:
        query = f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE 1=1"
        args: list[Any] = []
        if status:
            query += " AND status=?"
            args.append(status)
        if series_id is not None:
            query += " AND series_id=?"
            args.append(series_id)
        rows = self.db.execute(query + " ORDER BY starts_at DESC, id DESC LIMIT ?", (*args, limit))
        return [self._row(_alert_row, row, "alerts") for row in rows]

    # ------------------------------------------------------------------ outbox
    def enqueue(self, alert_id: int, sink: str, event: str, now: float) -> None:
        """Queue a message about ``event`` of an alert for ``sink``.

        The alert's row as it is now (at the event, inside the tick's
        transaction) is stored with the message, which is rendered from it.
        """
        current = self.alert(alert_id)
        alert = None if current is None else json.dumps(current, sort_keys=True)
        self.db.execute("INSERT INTO outbox (alert_id, sink, event, created, alert) "
                        "VALUES (?, ?, ?, ?, ?)", (alert_id, sink, event, now, alert))

    def unsent(self) -> list[dict[str, Any]]:
        """Messages not yet sent, oldest first, each with what is needed to send it in order.

        Keys: ``id``, ``alert_id``, ``sink``, ``event``, ``attempts``, ``created``,
        ``next_try``, ``alert`` (the alert's row at the event; its current row for a
        message queued by an older version, None when that is gone too) and
        ``prev_sent`` (when the latest earlier message of the same alert to the same
        sink was sent; None if there was none).
        """
        rows = self.db.execute(
            "SELECT o.id, o.alert_id, o.sink, o.event, o.attempts, o.created, o.next_try, "
            "o.alert, (SELECT max(p.sent_at) FROM outbox p WHERE p.alert_id=o.alert_id AND "
            "p.sink=o.sink AND p.id<o.id) FROM outbox o WHERE o.sent_at IS NULL ORDER BY o.id"
        ).fetchall()
        keys = ("id", "alert_id", "sink", "event", "attempts", "created", "next_try", "alert",
                "prev_sent")
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            if item["alert"] is not None:
                try:
                    item["alert"] = _mapping(json.loads(item["alert"]), "alert")
                except _READ_ERRORS:  # a damaged copy: the alert's row as it is now
                    item["alert"] = None
            if item["alert"] is None:
                item["alert"] = self.alert(item["alert_id"])
            out.append(item)
        return out

    def n_pending(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
                   .fetchone()[0])

    def mark_sent(self, outbox_id: int, now: float) -> None:
        """Record that a sink accepted the message at ``now``."""
        with self.lock:
            self.db.execute("UPDATE outbox SET sent_at=?, attempts=attempts+1, last_error=NULL "
                            "WHERE id=?", (now, outbox_id))

    def mark_failed(self, outbox_id: int, error: str, next_try: float) -> None:
        """Count a failed attempt; the message is not tried again before ``next_try``."""
        with self.lock:
            self.db.execute("UPDATE outbox SET attempts=attempts+1, last_error=?, next_try=? "
                            "WHERE id=?", (error[:500], next_try, outbox_id))


_ALERT_COLUMNS = ("id, series_id, watch, detector, labels, starts_at, ends_at, status, score, "
                  "value, threshold, peak_score, annotations")


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"its {what} is a {type(value).__name__}, not a mapping")
    return value


def _alert_row(row: Sequence[Any]) -> dict[str, Any]:
    out = dict(zip(_ALERT_COLUMNS.split(", "), row, strict=True))
    out["labels"] = _mapping(json.loads(out["labels"]), "labels")
    out["annotations"] = _mapping(json.loads(out["annotations"]), "annotations") \
        if out["annotations"] else {}
    return out


def _series_row(row: Sequence[Any]) -> dict[str, Any]:
    return {"id": row[0], "watch": row[1], "labels": _mapping(json.loads(row[2]), "labels"),
            "first_seen": row[3], "last_seen": row[4], "active": bool(row[5])}


def _num(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
