"""The remote_write queue file damaged byte by byte (:mod:`kizashi.testing.damage`).

The queue is a small SQLite file of encoded requests waiting to be sent. Before each
request carried a CRC-32, a flipped bit in a body was sent to the TSDB as other samples,
a file cut inside its last page read zeros for the missing bytes, and the open ran no
integrity check at all. Now a damaged file is refused at open in one line naming it, or
read with each request either as written or, when its bytes changed, never sent: dropped,
logged and counted (``dropped``). The per-watch marks of the last step queued carry no
checksum (docs/watch.md): a changed mark is read as written.
"""

from __future__ import annotations

import logging
import sqlite3
import zlib
from pathlib import Path

import numpy as np
import pytest

from kizashi.testing.damage import check_loader
from kizashi.watch.remote_write import RemoteWriteQueue

N = 20
SENDING = "sending.sqlite"   # the copy load() sends from (errors name it)


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("queue") / "queue.sqlite"
    queue = RemoteWriteQueue(str(path), max_bytes=10**7)
    rng = np.random.default_rng(0)   # the same bytes every run: the same damages found
    for i in range(N):
        queue.put([(5 + i, zlib.compress(rng.bytes(300)))], marks={"cpu": 1000 + i})
    queue.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    queue.close()
    return path.read_bytes()


class _Dropped(logging.Handler):
    """Counts the queue's "request N is damaged … dropped" lines."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += "is damaged" in record.getMessage()


def load(path: Path):
    """Send everything queued (on a copy: sending removes): marks, requests sent, damaged
    samples counted, requests dropped as damaged (its log lines)."""
    copy = path.with_name(SENDING)
    copy.write_bytes(path.read_bytes())
    logger = logging.getLogger("kizashi.watch")   # the queue's logger
    dropped, level = _Dropped(), logger.level
    logger.addHandler(dropped)
    logger.setLevel(logging.ERROR)   # counted even where a test quiets kizashi.watch
    queue = None
    try:
        queue = RemoteWriteQueue(str(copy), max_bytes=10**7)
        sent = []
        for _ in range(N + 5):
            item = queue.oldest()
            if item is None:
                break
            sent.append(item[1:])
            queue.remove(item[0])
        return sorted(queue.marks.items()), sent, queue.damaged, dropped.count
    finally:
        logger.removeHandler(dropped)
        logger.setLevel(level)
        if queue is not None:
            queue.close()
        for name in (copy.name, f"{copy.name}-wal", f"{copy.name}-shm"):
            copy.with_name(name).unlink(missing_ok=True)


def requests_accounted(loaded, reference) -> bool:
    """Every request written is either sent intact exactly once, in order, or dropped and
    counted as damaged: none lost, none sent changed, none sent twice."""
    _, sent, _, dropped = loaded
    _, written, _, _ = reference
    left = iter(written)
    in_order = all(any(item == w for w in left) for item in sent)
    return in_order and len(sent) + dropped == len(written)


def same(loaded, reference) -> bool:
    """The marks as written, and every request accounted for."""
    return loaded[0] == reference[0] and requests_accounted(loaded, reference)


def marks_only(path: Path, reference):
    """A documented limit: the marks carry no checksum, so a changed mark is read as
    written. Only the marks are excused: the requests must still all be accounted for."""
    def known(label: str, data: bytes) -> bool:
        path.write_bytes(data)
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                changed = sorted(db.execute("SELECT * FROM marks")) != reference[0]
            finally:
                db.close()
        except sqlite3.Error:
            return False
        return changed and requests_accounted(load(path), reference)
    return known


DENSITY = [pytest.param(1, id="default"), pytest.param(4, id="dense", marks=pytest.mark.slow)]


@pytest.mark.parametrize("density", DENSITY)
def test_a_damaged_queue_is_refused_or_sends_only_what_was_written(good, tmp_path, density,
                                                                   caplog):
    caplog.set_level(logging.CRITICAL, logger="kizashi.watch")
    path = tmp_path / "queue.sqlite"
    path.write_bytes(good)
    reference = load(path)
    also = [p + o for p in range(0, len(good), 4096) for o in (3, 101, 2048, 4000, 4095)]
    failures = check_loader(path, good, load, same, names=tmp_path / SENDING,
                            known=marks_only(tmp_path / "scratch.sqlite", reference),
                            flip_step=max(7, len(good) // (200 * density)) | 1,
                            overwrite_step=max(7, len(good) // (80 * density)) | 1,
                            cut_step=max(7, len(good) // (40 * density)) | 1, also=also)
    # an empty file is a new queue (SQLite's reading; nothing was in it)
    failures = [f for f in failures if f[0] not in ("cut@0", "zero-length")]
    assert not failures, f"{len(failures)} damaged queues, first: {failures[:5]}"


def test_a_damaged_request_is_dropped_logged_and_counted(good, tmp_path, caplog):
    path = tmp_path / "queue.sqlite"
    path.write_bytes(good)
    db = sqlite3.connect(path)
    rid, body = db.execute("SELECT id, body FROM requests ORDER BY id LIMIT 1 OFFSET 3"
                           ).fetchone()
    changed = bytearray(body)
    changed[100] ^= 0x20
    db.execute("UPDATE requests SET body=? WHERE id=?", (bytes(changed), rid))
    db.commit()
    db.close()
    with caplog.at_level(logging.ERROR, logger="kizashi.watch"):
        _, sent, damaged, dropped = load(path)
    assert len(sent) == N - 1 and damaged == 5 + 3 and dropped == 1
    assert f"request {rid} is damaged" in caplog.text
    assert str(path.with_name(SENDING)) in caplog.text


def test_a_cut_queue_is_refused_in_one_line(good, tmp_path):
    path = tmp_path / "queue.sqlite"
    path.write_bytes(good[:-1])
    with pytest.raises(ValueError, match=f"^remote_write queue {path}: cannot open it "
                                         r"\(its size, \d+ bytes, is not a whole number"):
        RemoteWriteQueue(str(path), max_bytes=10**7)


def test_a_queue_of_an_older_kizashi_without_the_column_still_sends(good, tmp_path):
    path = tmp_path / "queue.sqlite"
    path.write_bytes(good)
    reference = load(path)
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE requests DROP COLUMN crc")
    db.commit()
    db.close()
    assert load(path) == reference
