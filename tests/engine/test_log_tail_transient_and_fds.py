"""A byte read differently once is no rewrite; rotated files kept open are bounded.

* A byte before the offset that reads differently at one poll (a stale page or zeros
  from NFS, Lustre or GPFS; a second writer overwriting a byte) must not make the tail
  read the whole file again (every line counted twice): the difference must be seen at
  two polls in a row. At the first, nothing new is read from the file; when the bytes
  are back, reading goes on where it was. A file shorter than the offset, or whose first
  bytes (outside the bytes before the offset) changed, is read again at once.
* Files rotated away (``create``) are kept open for late writes, at most
  ``MAX_ROTATED_OPEN`` of them (the oldest closed first); a deleted one is closed once a
  poll finds nothing new in it and the file under the name is written (its writer
  reopened its log). Open descriptors are counted in ``/proc/self/fd``.

Expectations come from what the fake writers wrote, never from the code.
"""

from __future__ import annotations

import logging
import os
import sys

import pytest

from kizashi.engine.log_tail import HEAD_BYTES, MAX_ROTATED_OPEN, LogTail

COUNTER = [0]


def line() -> bytes:
    COUNTER[0] += 1
    n = COUNTER[0]
    return b"2026-03-09T10:%02d:%02dZ n1 line %d\n" % (n // 60 % 60, n % 60, n)


def append(path, n: int) -> list[str]:
    """Append ``n`` lines (each one write, O_APPEND), return them."""
    out = []
    with open(path, "ab") as handle:
        for _ in range(n):
            raw = line()
            handle.write(raw)
            handle.flush()
            out.append(raw.decode().rstrip("\n"))
    return out


def on_disk(path) -> list[str]:
    """The lines the file holds now, as the tail hands them out (NUL as U+FFFD)."""
    with open(path, "rb") as handle:
        raw = handle.read()
    return [x.decode("utf-8", "replace").replace("\x00", "\ufffd")
            for x in raw.split(b"\n")[:-1] if x.strip()]


@pytest.fixture(autouse=True)
def _numbered_from_one():
    COUNTER[0] = 0   # lines of the same length in every test (fewer than 1000)


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def poke(path, at: int, byte: bytes) -> bytes:
    """Write ``byte`` at ``at`` in place (same inode, same size); return the old byte."""
    with open(path, "r+b") as handle:
        handle.seek(at)
        old = handle.read(1)
        handle.seek(at)
        handle.write(byte)
    return old


# ------------------------------------------------------------ B2: one odd read
LINE = len(line())   # every line of the writer's is this long while n < 1000
COUNTER[0] = 0
# files of 5 lines (all of it both the first bytes and the bytes before the offset),
# 10 lines (the two overlap) and 40 lines (apart)
SIZES = {"5 lines": 5, "10 lines": 10, "40 lines": 40}
BEFORE = [1, 2, 37, 128, HEAD_BYTES - 1, HEAD_BYTES]   # bytes before the offset
CASES = [(name, back) for name, n in SIZES.items() for back in BEFORE if back <= n * LINE]


@pytest.mark.parametrize("lasting", ["one poll", "persisting"])
@pytest.mark.parametrize("byte", [b"\x00", b"X"], ids=["zero", "other byte"])
@pytest.mark.parametrize(("size", "back"), CASES, ids=[f"{s}-{b} before" for s, b in CASES])
def test_a_byte_before_the_offset_read_differently_once_counts_no_line_twice(
        tmp_path, caplog, size, back, byte, lasting):
    path = tmp_path / "a.log"
    path.write_bytes(b"")
    tail = LogTail(str(path), clock=lambda: 0.0)
    first = append(path, SIZES[size])
    assert tail.read() == first
    offset = os.path.getsize(path)
    at = offset - back
    with open(path, "rb") as handle:
        handle.seek(at)
        if handle.read(1) == byte:
            byte = b"Y"
    old = poke(path, at, byte)
    later = append(path, 2)            # written meanwhile: read once the bytes are back
    assert tail.read() == []           # nothing read from the file, nothing said
    assert warnings(caplog) == []
    if lasting == "one poll":
        poke(path, at, old)
        more = append(path, 1)
        assert tail.read() == later + more
        assert tail.read() == []
        assert warnings(caplog) == []
    else:                              # seen twice in a row: rewritten in place
        assert tail.read() == on_disk(path)
        assert any(str(path) in w and "rewritten in place" in w for w in warnings(caplog))
        assert tail.read() == []


@pytest.mark.parametrize("at", [0, 100, HEAD_BYTES - 1])
def test_a_changed_first_byte_is_a_rewrite_at_once(tmp_path, caplog, at):
    path = tmp_path / "a.log"
    path.write_bytes(b"")
    tail = LogTail(str(path), clock=lambda: 0.0)
    written = append(path, 40)
    assert tail.read() == written   # its first bytes and the last ones apart
    poke(path, at, b"X")
    assert tail.read() == on_disk(path)
    assert any(str(path) in w for w in warnings(caplog))


@pytest.mark.parametrize("shrunk_by", [1, LINE, 10 * LINE])
def test_a_file_shorter_than_the_offset_is_read_again_at_once(tmp_path, caplog, shrunk_by):
    path = tmp_path / "a.log"
    path.write_bytes(b"")
    tail = LogTail(str(path), clock=lambda: 0.0)
    written = append(path, 20)
    assert tail.read() == written
    os.truncate(path, os.path.getsize(path) - shrunk_by)
    expected = on_disk(path)                   # the cut last line has no line end yet
    assert tail.read() == expected
    assert any(str(path) in w for w in warnings(caplog))


def test_an_odd_read_then_a_truncation_is_read_from_the_start(tmp_path):
    path = tmp_path / "a.log"
    path.write_bytes(b"")
    tail = LogTail(str(path), clock=lambda: 0.0)
    written = append(path, 20)
    assert tail.read() == written
    poke(path, os.path.getsize(path) - 5, b"X")
    append(path, 1)
    assert tail.read() == []
    os.truncate(path, 0)                       # copytruncate, no copy
    assert tail.read() == []
    written = append(path, 2)
    assert tail.read() == written


# ------------------------------------------------------------ R1: descriptors bounded
needs_proc = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="counts descriptors in /proc/self/fd")


def open_in(folder) -> int:
    """Descriptors of this process open on files in ``folder`` (deleted ones too)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder))
        except OSError:
            continue
    return count


@needs_proc
@pytest.mark.parametrize("rotations", [1, 4, 5, 50])
def test_rotated_files_kept_open_are_at_most_the_cap(tmp_path, caplog, rotations):
    caplog.set_level(logging.INFO, logger="kizashi.watch")
    path = tmp_path / "a.log"
    now = [0.0]
    tail = LogTail(str(path), clock=lambda: now[0], grace=300.0)
    expected: list[str] = []
    got: list[str] = []
    for i in range(rotations):              # one create rotation a second
        path.write_bytes(b"")
        expected += append(path, 2)
        got += tail.read()
        os.rename(path, f"{path}.{i}")
        now[0] += 1.0
    path.write_bytes(b"")
    expected += append(path, 1)
    got += tail.read()
    assert got == expected
    assert open_in(tmp_path) == 1 + min(rotations, MAX_ROTATED_OPEN)
    # late writes to every old file (writers that have not reopened their log): those
    # still open are read, the oldest in order; those closed by the cap are not
    kept = range(max(0, rotations - MAX_ROTATED_OPEN), rotations)
    late = {i: append(f"{path}.{i}", 1) for i in range(rotations)}
    now[0] += 1.0
    assert tail.read() == [x for i in kept for x in late[i]]
    assert warnings(caplog) == []           # closed by the cap when not being written
    closed = [r.getMessage() for r in caplog.records if "the oldest" in r.getMessage()]
    assert len(closed) == max(0, rotations - MAX_ROTATED_OPEN)
    assert all(str(path) in m for m in closed)
    now[0] += 300.0                          # the grace over: only the name's file open
    assert tail.read() == []
    assert open_in(tmp_path) == 1
    tail.close()
    assert open_in(tmp_path) == 0


@needs_proc
def test_the_oldest_still_written_closed_by_the_cap_is_warned_of(tmp_path, caplog):
    path = tmp_path / "a.log"
    now = [0.0]
    tail = LogTail(str(path), clock=lambda: now[0], grace=300.0)
    path.write_bytes(b"")
    expected = append(path, 2)
    got = tail.read()
    for i in range(MAX_ROTATED_OPEN + 1):
        os.rename(path, f"{path}.{i}")
        path.write_bytes(b"")
        expected += append(f"{path}.0", 1)   # a writer that never reopens: the first file
        expected += append(path, 1)
        now[0] += 1.0
        got += tail.read()
    assert got == expected                   # read up to the closing
    said = warnings(caplog)
    assert len(said) == 1 and str(path) in said[0] and "still written" in said[0]
    append(f"{path}.0", 1)                   # closed: no longer read
    now[0] += 1.0
    assert tail.read() == []
    assert open_in(tmp_path) == 1 + MAX_ROTATED_OPEN


@needs_proc
@pytest.mark.parametrize("move", ["remove", "rename"])
def test_a_deleted_rotated_file_is_closed_after_an_empty_poll_once_the_writer_moved(
        tmp_path, move):
    path = tmp_path / "a.log"
    now = [0.0]
    tail = LogTail(str(path), clock=lambda: now[0], grace=300.0)
    old = open(path, "ab", buffering=0)      # the writer's handle
    expected = []

    def write(handle, n=1):
        for _ in range(n):
            raw = line()
            handle.write(raw)
            expected.append(raw.decode().rstrip("\n"))

    def poll() -> list[str]:
        now[0] += 1.0
        return tail.read()

    write(old, 3)
    got = poll()
    if move == "remove":
        os.remove(path)
    else:
        os.rename(path, f"{path}.1")
    write(old)
    path.write_bytes(b"")                    # create: the new file, empty
    got += poll()                            # the rest of the old file
    got += poll()                            # nothing new; the new file still empty
    assert open_in(tmp_path) == 3           # the writer's, the old and the new file
    write(old)                               # late: the writer has not reopened yet
    got += poll()
    new = open(path, "ab", buffering=0)      # reopened (SIGHUP): the new file written
    write(old)                               # its last write to the old one
    write(new)
    got += poll()                            # the old file's last line read: kept open
    old.close()
    assert open_in(tmp_path) == 1 + 1 + 1    # the writer's new file, the tail's two
    write(new)
    got += poll()                            # nothing new in the old file
    assert got == expected
    # deleted: no writer can reach it by name, so closed; renamed: kept for the grace
    assert open_in(tmp_path) == 1 + 1 + (move == "rename")
    new.close()
    tail.close()
