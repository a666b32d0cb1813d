"""Lines written to a log just before it is rotated away are read, not lost.

A writer appends lines, then the file is rotated before the tail reads them (``logrotate``'s
``create``: renamed, a new file under the name; or removed), and the writer goes on in
the new file. Before, the tail opened the new file and never saw the old file's last
lines: a daemon's burst of restarts logged just before midnight's rotation was never
counted. The tail keeps the file open and reads it to its end first, the old file's last
line too when it has no line end (the file is finished).

Expectation (independent of the tail): every complete line of the old file, then every
line of the new one, each once and in order (:func:`expected` of test_log_tail.py, the
old file's bytes ended with a line end); for ways of cutting the old file's writes
around the tail's last read, and for several rotations kinds.
"""

from __future__ import annotations

import os

import pytest
from test_log_tail import expected

from kizashi.engine.log_tail import LogTail

OLD = b"".join(b"2026-03-09T23:59:%02dZ n1 restart %d\n" % (s, s) for s in range(12))
NEW = b"".join(b"2026-03-10T00:00:%02dZ n1 restart %d\n" % (s, s) for s in range(5))


def rename_then_create(path, new: bytes) -> None:
    os.rename(path, str(path) + ".1")
    path.write_bytes(new)


def remove_then_create(path, new: bytes) -> None:
    os.remove(path)
    path.write_bytes(new)


def rename_twice_then_create(path, new: bytes) -> None:   # a.log.1 → a.log.2 first
    os.rename(path, str(path) + ".1")
    os.rename(str(path) + ".1", str(path) + ".2")
    path.write_bytes(new)


ROTATIONS = {"rename, create": rename_then_create, "remove, create": remove_then_create,
             "rename twice, create": rename_twice_then_create}
#: how much of the old file the tail read before the rotation (bytes)
READ_AT = {"nothing": 0, "one line": OLD.index(b"\n") + 1, "half a line": 20,
           "all but one line": len(OLD) - 35, "all": len(OLD)}
#: the old file's last line: whole, or left without its line end
ENDINGS = {"line end": OLD, "no line end": OLD[:-1]}


@pytest.mark.parametrize("ending", list(ENDINGS))
@pytest.mark.parametrize("read_at", list(READ_AT))
@pytest.mark.parametrize("rotation", list(ROTATIONS))
def test_the_old_files_last_lines_are_read_before_the_new_one(tmp_path, rotation, read_at,
                                                             ending):
    old = ENDINGS[ending]
    cut = min(READ_AT[read_at], len(old))
    path = tmp_path / "a.log"
    path.write_bytes(old[:cut])
    tail = LogTail(str(path))
    got = tail.read()
    with open(path, "ab") as handle:       # written before the rotation, not read yet
        handle.write(old[cut:])
    ROTATIONS[rotation](path, NEW)
    got += tail.read()
    with open(path, "ab") as handle:
        handle.write(b"2026-03-10T00:01:00Z n1 after\n")
    got += tail.read()
    assert got == (expected(old + b"\n") + expected(NEW)
                   + ["2026-03-10T00:01:00Z n1 after"])


@pytest.mark.parametrize("rotation", ["rename", "remove"])
def test_the_old_files_last_lines_are_read_while_no_new_file_exists_yet(tmp_path, rotation):
    path = tmp_path / "a.log"
    path.write_bytes(OLD[:40])
    tail = LogTail(str(path))
    got = tail.read()
    with open(path, "ab") as handle:
        handle.write(OLD[40:])
    os.rename(path, str(path) + ".1") if rotation == "rename" else os.remove(path)
    got += tail.read()                     # the rest of the old file, no error yet
    assert got == expected(OLD)
    with pytest.raises(OSError):           # then: gone, said by the caller
        tail.read()
    path.write_bytes(NEW)
    assert tail.read() == expected(NEW)


def test_a_huge_rest_of_the_old_file_comes_in_bounded_pieces(tmp_path, monkeypatch):
    import kizashi.engine.log_tail as log_tail

    monkeypatch.setattr(log_tail, "MAX_READ_BYTES", 64)
    path = tmp_path / "a.log"
    path.write_bytes(b"")
    tail = LogTail(str(path))
    assert tail.read() == []
    path.write_bytes(OLD)
    os.rename(path, str(path) + ".1")
    path.write_bytes(NEW)
    got, reads = [], 0
    while reads < 100:
        reads += 1
        part = tail.read()
        got += part
        if got[-1:] == expected(NEW)[-1:]:
            break
    assert got == expected(OLD) + expected(NEW) and reads > len(OLD) // 64
