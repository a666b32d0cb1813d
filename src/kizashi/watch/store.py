"""The daemon's state in one SQLite file (WAL mode), written one tick per transaction.

Tables:

``series``     every series seen: labels, first/last seen, still active or aged out
``progress``   per watch, the timestamp of the last processed step
``states``     per watch and detector: the detector state and the alert filter
               state (JSON via :func:`kizashi.state.to_json_safe`), with the
               series id of each column
``points``     value, score and threshold of every processed point (for the dashboard)
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
corrupt, is an error: the daemon will not overwrite it. A file (or folder) that
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
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

from kizashi.state import from_json_safe, to_json_safe
from kizashi.watch.sources import series_key

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY, watch TEXT NOT NULL, key TEXT NOT NULL, labels TEXT NOT NULL,
    first_seen REAL NOT NULL, last_seen REAL NOT NULL, active INTEGER NOT NULL DEFAULT 1,
    UNIQUE (watch, key));
CREATE TABLE IF NOT EXISTS progress (watch TEXT PRIMARY KEY, last_ts REAL NOT NULL);
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
"""

#: Columns added since schema version 1 was first written: ``(table, column, type)``.
#: A file written before gets them on the first read-write open (old rows: NULL).
_ADDED_COLUMNS = (("outbox", "alert", "TEXT"), ("alerts", "annotations", "TEXT"))


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
                                          isolation_level=None, timeout=10)
            else:
                self.db = sqlite3.connect(self.path, check_same_thread=False,
                                          isolation_level=None, timeout=10)
            self._check_and_init(readonly, memory)
        except sqlite3.DatabaseError as error:
            if hasattr(self, "db"):
                self.db.close()
            raise ValueError(self._open_error(error, readonly)) from None
        except OSError as error:  # e.g. resolving a path the process may not see
            raise ValueError(f"cannot open state file {self.path}: "
                             f"{error.strerror or error}") from None

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
        return (f"state file {self.path} is not a kizashi watch database or is corrupt "
                f"({error}); move it away (or delete it) to start with fresh state — kizashi "
                "will not overwrite it")

    def _check_and_init(self, readonly: bool, memory: bool) -> None:
        db = self.db
        if not memory:
            result = db.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {result}")
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise sqlite3.DatabaseError("it holds other tables than kizashi's")
        if "meta" in tables:
            row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None or int(row[0]) != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"schema version {row and row[0]} is not "
                                            f"{SCHEMA_VERSION}")
        if readonly:
            return
        if not memory:
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        for table, column, kind in _ADDED_COLUMNS:
            if table in tables and column not in {
                    row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        db.executescript(_SCHEMA)
        db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))

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
                if self.db.in_transaction:  # SQLite may have rolled back already
                    with suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ series
    def series_ids(self, watch: str, labels: Sequence[dict[str, str]], now: float) -> list[int]:
        """Ids of these series of ``watch`` (created if new), marking them seen at ``now``."""
        ids = []
        for item in labels:
            key = series_key(item)
            row = self.db.execute("SELECT id FROM series WHERE watch=? AND key=?",
                                  (watch, key)).fetchone()
            if row is None:
                cursor = self.db.execute(
                    "INSERT INTO series (watch, key, labels, first_seen, last_seen) "
                    "VALUES (?, ?, ?, ?, ?)", (watch, key, key, now, now))
                ids.append(int(cursor.lastrowid))
            else:
                self.db.execute("UPDATE series SET last_seen=max(last_seen, ?), active=1 "
                                "WHERE id=?", (now, row[0]))
                ids.append(int(row[0]))
        return ids

    def set_inactive(self, ids: Sequence[int]) -> None:
        self.db.executemany("UPDATE series SET active=0 WHERE id=?", [(int(i),) for i in ids])

    def series(self, series_id: int) -> dict[str, Any] | None:
        row = self.db.execute("SELECT id, watch, labels, first_seen, last_seen, active FROM series "
                              "WHERE id=?", (series_id,)).fetchone()
        return None if row is None else _series_row(row)

    def all_series(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT id, watch, labels, first_seen, last_seen, active "
                               "FROM series ORDER BY watch, labels")
        return [_series_row(row) for row in rows]

    # ---------------------------------------------------------------- progress
    def progress(self, watch: str) -> float | None:
        row = self.db.execute("SELECT last_ts FROM progress WHERE watch=?", (watch,)).fetchone()
        return None if row is None else float(row[0])

    def set_progress(self, watch: str, t: float) -> None:
        self.db.execute("INSERT INTO progress VALUES (?, ?) ON CONFLICT(watch) DO UPDATE "
                        "SET last_ts=excluded.last_ts", (watch, float(t)))

    # ------------------------------------------------------------------ states
    def load_state(self, watch: str, detector: str) -> tuple[list[int], dict[str, Any]] | None:
        row = self.db.execute("SELECT series, state FROM states WHERE watch=? AND detector=?",
                              (watch, detector)).fetchone()
        if row is None:
            return None
        return json.loads(row[0]), from_json_safe(json.loads(row[1]))

    def save_state(self, watch: str, detector: str, series: Sequence[int],
                   state: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO states VALUES (?, ?, ?, ?) ON CONFLICT(watch, detector) DO UPDATE "
            "SET series=excluded.series, state=excluded.state",
            (watch, detector, json.dumps([int(s) for s in series]),
             json.dumps(to_json_safe(state))))

    # ------------------------------------------------------------------ points
    def add_points(self, rows: Sequence[tuple[int, str, float, float, float, float]]) -> None:
        """Rows of ``(series_id, detector, t, value, score, threshold)``."""
        self.db.executemany("INSERT INTO points VALUES (?, ?, ?, ?, ?, ?)",
                            [(int(s), d, float(t), _num(v), _num(sc), _num(th))
                             for s, d, t, v, sc, th in rows])

    def points(self, series_id: int, start: float | None = None,
               end: float | None = None) -> dict[str, dict[str, np.ndarray]]:
        """Per detector: arrays ``t``, ``value``, ``score``, ``threshold`` in time order."""
        rows = self.db.execute(
            "SELECT detector, t, value, score, threshold FROM points WHERE series_id=? AND t>=? "
            "AND t<=? ORDER BY detector, t",
            (series_id, -1e18 if start is None else start, 1e18 if end is None else end),
        ).fetchall()
        out: dict[str, dict[str, list[float]]] = {}
        for detector, *values in rows:
            part = out.setdefault(detector, {"t": [], "value": [], "score": [], "threshold": []})
            for name, value in zip(("t", "value", "score", "threshold"), values, strict=True):
                part[name].append(np.nan if value is None else value)
        return {d: {k: np.asarray(v, dtype=np.float64) for k, v in part.items()}
                for d, part in out.items()}

    def recent_scores(self, series_ids: Sequence[int], detector: str,
                      since: float) -> dict[int, np.ndarray]:
        out: dict[int, list[float]] = {int(s): [] for s in series_ids}
        for series_id, score in self.db.execute(
                "SELECT series_id, score FROM points WHERE detector=? AND t>=? AND score IS NOT "
                "NULL", (detector, since)):
            if series_id in out:
                out[series_id].append(score)
        return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}

    def prune(self, before: float) -> None:
        """Forget points and resolved alerts older than ``before``."""
        self.db.execute("DELETE FROM points WHERE t<?", (before,))
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

    def resolve_alert(self, alert_id: int, t: float) -> None:
        self.db.execute("UPDATE alerts SET status='resolved', ends_at=? WHERE id=?", (t, alert_id))

    def alert(self, alert_id: int) -> dict[str, Any]:
        row = self.db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id=?",
                              (alert_id,)).fetchone()
        return _alert_row(row)

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
        return [_alert_row(row) for row in rows]

    # ------------------------------------------------------------------ outbox
    def enqueue(self, alert_id: int, sink: str, event: str, now: float) -> None:
        """Queue a message about ``event`` of an alert for ``sink``.

        The alert's row as it is now (at the event, inside the tick's
        transaction) is stored with the message, which is rendered from it.
        """
        row = self.db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id=?",
                              (alert_id,)).fetchone()
        alert = None if row is None else json.dumps(_alert_row(row), sort_keys=True)
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
                item["alert"] = json.loads(item["alert"])
            else:
                current = self.db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id=?",
                                          (item["alert_id"],)).fetchone()
                item["alert"] = None if current is None else _alert_row(current)
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


def _alert_row(row: Sequence[Any]) -> dict[str, Any]:
    out = dict(zip(_ALERT_COLUMNS.split(", "), row, strict=True))
    out["labels"] = json.loads(out["labels"])
    out["annotations"] = json.loads(out["annotations"]) if out["annotations"] else {}
    return out


def _series_row(row: Sequence[Any]) -> dict[str, Any]:
    return {"id": row[0], "watch": row[1], "labels": json.loads(row[2]), "first_seen": row[3],
            "last_seen": row[4], "active": bool(row[5])}


def _num(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
