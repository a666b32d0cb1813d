"""Every rotation style, polled at every point of it: each line written is read once.

A fake writer appends numbered lines, as a daemon does (``O_APPEND``, or keeping its own
offset as a writer opened without it does), and the file is rotated the ways
``logrotate`` rotates it:

* ``create``: renamed (or removed) and a new file created; the writer goes on writing
  to the old file until it reopens its log (late writes);
* ``copytruncate``: copied (the copy left plain, compressed with gzip, or not made at
  all: ``: > file``), then emptied in place, the writer going on.

The tail is polled at each subset of the points between these steps. The expectation
comes from what the writer wrote and when the tail could have seen it, never from the
code: every line once and in order, except the lines that no file holds any more when
the tail looks (written to a file between the tail's last look and the truncation,
with no readable copy). Those are missing, and the warning names the file and, where
the bytes on disk tell it (a gzip copy's stored size, the hole of zeros a writer that
kept its offset leaves), the number of bytes lost; the lines a writer with
``O_APPEND`` wrote between the copy and the truncation leave no trace anywhere and are
the only loss nothing can name.
"""

from __future__ import annotations

import gzip
import itertools
import logging
import os
import shutil

import pytest

from kizashi.engine.log_tail import LogTail


class Writer:
    """A daemon appending numbered lines to its log, opened with ``O_APPEND`` or not."""

    def __init__(self, path, append: bool = True):
        self.path, self.append = str(path), append
        self.count = 0
        self.fd = -1
        self.reopen()

    def reopen(self) -> None:  # postrotate's SIGHUP
        if self.fd >= 0:
            os.close(self.fd)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if self.append else 0)
        self.fd = os.open(self.path, flags, 0o644)
        os.lseek(self.fd, 0, os.SEEK_END)

    def lines(self, n: int) -> list[str]:
        """Write ``n`` lines (each in one write), return them."""
        out = []
        for _ in range(n):
            self.count += 1
            minute, second = divmod(self.count, 60)
            text = f"2026-03-09T10:{minute:02d}:{second:02d}Z n1 line {self.count}"
            os.write(self.fd, (text + "\n").encode())
            out.append(text)
        return out

    def close(self) -> None:
        os.close(self.fd)


def size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


class Poller:
    """Polls the tail, collects its lines and says when it last looked."""

    def __init__(self, path):
        self.now = [0.0]
        self.tail = LogTail(str(path), clock=lambda: self.now[0], grace=1000.0)
        self.got: list[str] = []

    def poll(self) -> None:
        self.now[0] += 1.0
        try:
            self.got += self.tail.read()
        except FileNotFoundError:   # between a rename and the new file: said by the caller
            pass


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


COPY_POINTS = ["before the copy", "after the copy", "after lines between copy and truncate",
               "after the truncate"]


@pytest.mark.parametrize("polls", [p for n in range(len(COPY_POINTS) + 1)
                                   for p in itertools.combinations(COPY_POINTS, n)],
                         ids=lambda p: "+".join(p) or "none")
@pytest.mark.parametrize("copy", ["plain", "gzip", "none"])
@pytest.mark.parametrize("append", [True, False], ids=["O_APPEND", "own offset"])
def test_copytruncate_every_line_once_or_the_loss_named(tmp_path, caplog, polls, copy, append):
    caplog.set_level(logging.INFO, logger="kizashi.watch")
    path = tmp_path / "a.log"
    writer = Writer(path, append)
    poller = Poller(path)
    first = writer.lines(3)
    poller.poll()
    before_copy = writer.lines(3)           # not read yet unless polled before the truncate
    if "before the copy" in polls:
        poller.poll()
    if copy == "plain":
        shutil.copyfile(path, str(path) + ".1")
    elif copy == "gzip":                     # compress without delaycompress
        with open(path, "rb") as src, gzip.open(str(path) + ".1.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
    if "after the copy" in polls:
        poller.poll()
    between = writer.lines(2)                # in no copy
    if "after lines between copy and truncate" in polls:
        poller.poll()
    os.truncate(path, 0)
    if "after the truncate" in polls:
        poller.poll()
    after = writer.lines(3)
    poller.poll()
    poller.poll()

    # what the tail could see: a line is lost when no file holds it when the tail looks
    looked_before_truncate = bool(set(polls) - {"after the truncate"})
    saw_between = "after lines between copy and truncate" in polls
    lost_before_copy = [] if looked_before_truncate or copy == "plain" else before_copy
    lost_between = [] if saw_between else between
    expected = first + [x for x in before_copy + between if x not in lost_before_copy
                        + lost_between] + after
    assert poller.got == expected
    said = " ".join(warnings(caplog))
    if lost_before_copy:   # the tail knew it had not read the file to its end
        assert str(path) in said
        if copy == "gzip":  # the compressed copy's stored size tells how much
            assert f"{size(lost_before_copy)} byte(s)" in said
    if not append and (lost_before_copy or lost_between):  # the hole tells how much
        lost = size(lost_between) + (size(lost_before_copy) if copy != "gzip" else 0)
        assert f"{lost} byte(s) written to it after what was read or copied" in said
    if not (lost_before_copy or lost_between):   # at most: "any lines written after …"
        assert "are lost" not in said
    writer.close()


CREATE_POINTS = ["before the rename", "after the rename", "after the new file",
                 "after late lines"]


@pytest.mark.parametrize("polls", [p for n in range(len(CREATE_POINTS) + 1)
                                   for p in itertools.combinations(CREATE_POINTS, n)],
                         ids=lambda p: "+".join(p) or "none")
@pytest.mark.parametrize("move", ["rename", "remove", "rename twice"])
def test_create_rotation_late_writes_to_the_old_file_are_read(tmp_path, caplog, polls, move):
    path = tmp_path / "a.log"
    writer = Writer(path)
    poller = Poller(path)
    lines = writer.lines(3)
    poller.poll()
    lines += writer.lines(2)
    if "before the rename" in polls:
        poller.poll()
    if move == "remove":
        os.remove(path)
    else:
        os.rename(path, str(path) + ".1")
        if move == "rename twice":
            os.rename(str(path) + ".1", str(path) + ".2")
    if "after the rename" in polls:
        poller.poll()
    path.write_bytes(b"")                   # create
    if "after the new file" in polls:
        poller.poll()
    lines += writer.lines(2)                # the writer has not reopened yet: the old file
    if "after late lines" in polls:
        poller.poll()
    writer.reopen()
    lines += writer.lines(3)
    poller.poll()
    poller.poll()
    assert poller.got == lines
    assert warnings(caplog) == []
    writer.close()


def test_a_file_still_written_after_the_grace_is_closed_with_a_warning(tmp_path, caplog):
    path = tmp_path / "a.log"
    writer = Writer(path)
    now = [0.0]
    tail = LogTail(str(path), clock=lambda: now[0], grace=10.0)
    lines = writer.lines(2)
    got = tail.read()
    os.rename(path, str(path) + ".1")
    path.write_bytes(b"")
    got += tail.read()                      # switched at t=0: the old file read until t=10
    now[0] = 5.0
    lines += writer.lines(2)
    got += tail.read()
    now[0] = 10.0
    lines += writer.lines(1)                # still written at the end of the grace
    got += tail.read()
    assert got == lines
    assert any(str(path) in w and "still written" in w for w in warnings(caplog))
    writer.lines(1)                         # too late: no longer read
    now[0] = 20.0
    assert tail.read() == []
    writer.close()


PARTIAL = "2026-03-09T10:00:30Z n1 half a li"


@pytest.mark.parametrize("then", ["completed", "create rotation", "copytruncate",
                                  "create rotation, completed late",
                                  "copytruncate, completed after"])
def test_a_partial_last_line_is_handed_out_once(tmp_path, then):
    path = tmp_path / "a.log"
    path.write_bytes(b"2026-03-09T10:00:00Z n1 whole\n" + PARTIAL.encode())
    tail = LogTail(str(path), clock=lambda: 0.0)
    got = tail.read()
    assert got == ["2026-03-09T10:00:00Z n1 whole"]          # held: no line end yet
    assert tail.read() == []
    new = b"2026-03-09T10:01:00Z n1 next\n"
    if then == "completed":
        with open(path, "ab") as handle:
            handle.write(b"ne\n" + new)
        assert tail.read() == [PARTIAL + "ne", "2026-03-09T10:01:00Z n1 next"]
        return
    old = open(path, "ab")
    if then.startswith("create"):
        os.rename(path, str(path) + ".1")
        path.write_bytes(new)
    else:
        shutil.copyfile(path, str(path) + ".1")
        os.truncate(path, 0)
        with open(path, "ab") as handle:
            handle.write((b"ne\n" if then.endswith("after") else b"") + new)
    got = tail.read()
    if then.endswith("late"):           # the writer finishes the line in the old file
        old.write(b"ne\n")
        old.flush()
    got += tail.read()
    old.close()
    # the line counted once, by its start (its time and host); its rest is not a line
    # of its own in the old file; after a truncation it is the emptied file's first bytes
    rest = ["ne"] if then.endswith("after") else []
    assert got == [PARTIAL, *rest, "2026-03-09T10:01:00Z n1 next"]


BANNER = b"# mbatchd log " + b"=" * 300 + b"\n"


@pytest.mark.parametrize("grown", [0, 1, 40, 400], ids=lambda n: f"grown by {n} lines")
@pytest.mark.parametrize("same_start", [True, False], ids=["same first bytes", "other start"])
def test_a_file_rewritten_in_place_is_read_from_its_start(tmp_path, caplog, grown, same_start):
    path = tmp_path / "a.log"
    old = BANNER + b"".join(b"2026-03-09T10:00:%02dZ n1 old %d\n" % (i, i) for i in range(20))
    path.write_bytes(old)
    tail = LogTail(str(path))
    assert len(tail.read()) == 21
    start = BANNER if same_start else b"# restarted\n"
    new = start + b"".join(b"2026-03-09T11:%02d:00Z n2 new %d\n" % (i % 60, i)
                           for i in range(grown))
    with open(path, "r+b") as handle:       # same inode, shorter or longer than read
        handle.write(new)
        handle.truncate(len(new))
    assert os.path.getsize(path) != len(old)
    got = tail.read()
    if same_start and len(new) >= len(old):  # only the bytes before the offset differ:
        assert got == []                     # a rewrite only when seen twice in a row
        assert warnings(caplog) == []
        got = tail.read()
    assert got == [x for x in new.decode().split("\n") if x]
    assert any(str(path) in w for w in warnings(caplog))


def test_a_compressed_file_is_refused_not_read_as_text(tmp_path):
    path = tmp_path / "a.log"
    path.write_bytes(gzip.compress(b"2026-03-09T10:00:00Z n1 x\n" * 100))
    tail = LogTail(str(path))
    for _ in range(3):                     # each time, and no lines of junk
        with pytest.raises(OSError, match="gzip-compressed"):
            tail.read()
    path.write_bytes(b"2026-03-09T10:00:00Z n1 plain\n")
    assert tail.read() == ["2026-03-09T10:00:00Z n1 plain"]


def test_a_text_line_starting_like_bzip2_is_read(tmp_path):
    path = tmp_path / "a.log"
    path.write_bytes(b"BZh9 is not a bzip2 stream\n")
    assert LogTail(str(path)).read() == ["BZh9 is not a bzip2 stream"]


def test_a_line_completed_before_the_copy_is_read_whole_from_the_copy(tmp_path):
    path = tmp_path / "a.log"
    path.write_bytes(PARTIAL.encode())
    tail = LogTail(str(path))
    assert tail.read() == []
    with open(path, "ab") as handle:
        handle.write(b"ne\n2026-03-09T10:00:40Z n1 more\n")
    shutil.copyfile(path, str(path) + "-20260309")      # dateext
    os.truncate(path, 0)
    path.write_bytes(b"2026-03-09T10:01:00Z n1 next\n")
    assert tail.read() == [PARTIAL + "ne", "2026-03-09T10:00:40Z n1 more",
                           "2026-03-09T10:01:00Z n1 next"]


def test_a_copy_longer_than_one_read_names_the_bytes_not_read(tmp_path, caplog,
                                                                monkeypatch):
    import kizashi.engine.log_tail as log_tail

    monkeypatch.setattr(log_tail, "MAX_READ_BYTES", 100)
    path = tmp_path / "a.log"
    writer = Writer(path)
    tail = LogTail(str(path))
    got, lines = [], writer.lines(2)
    while True:
        part = tail.read()
        got += part
        if not part:
            break
    unread = writer.lines(6)                     # 6 x 38 bytes: more than one read
    shutil.copyfile(path, str(path) + ".1")
    os.truncate(path, 0)
    lines += writer.lines(1)
    got += tail.read()
    read = [x for x in unread if x in got]
    skipped = size(unread) - 100                 # one read of the copy: 100 bytes
    assert got[:2] == lines[:2] and read == unread[:len(read)]
    assert any(f"{skipped} byte(s) of its copy" in w and str(path) in w
               for w in warnings(caplog))


def test_zeros_at_the_start_of_a_file_opened_are_skipped_with_a_warning(tmp_path, caplog):
    path = tmp_path / "a.log"
    path.write_bytes(b"\x00" * 100_000 + b"2026-03-09T10:00:00Z n1 after the hole\n")
    assert LogTail(str(path)).read() == ["2026-03-09T10:00:00Z n1 after the hole"]
    said = warnings(caplog)
    assert len(said) == 1 and "first 100000 byte(s) are zeros" in said[0]
    assert "lost" not in said[0]          # nothing known of what was before


@pytest.mark.parametrize("sparse", [True, False], ids=["sparse hole", "zeros written"])
def test_a_hole_longer_than_one_read_is_skipped_over_several_reads(tmp_path, caplog,
                                                                   monkeypatch, sparse):
    import kizashi.engine.log_tail as log_tail

    monkeypatch.setattr(log_tail, "MAX_READ_BYTES", 1000)
    monkeypatch.setattr(log_tail, "HOLE_PIECE", 100)
    path = tmp_path / "a.log"
    line = b"2026-03-09T10:00:00Z n1 after the hole\n"
    with open(path, "wb") as handle:
        if sparse:
            handle.seek(1 << 20)
        else:
            handle.write(b"\x00" * 5000)
        handle.write(line)
    hole = os.path.getsize(path) - len(line)
    tail = LogTail(str(path))
    got = []
    for _ in range(hole // 1000 + 2):
        got += tail.read()
    assert got == [line.decode().strip()]            # never a line of zeros
    said = warnings(caplog)
    assert len(said) == 1 and f"first {hole} byte(s) are zeros" in said[0]


@pytest.mark.parametrize(("name", "copy"), [
    ("a.log", "a.log.1"), ("a.log", "a.log-20261127"), ("a.log", "a.log.2026-11-27"),
    ("a.log", "a.log_old"), ("a.log", "a-20261127.log"), ("messages", "messages.0"),
    ("x.log.log", "x.log.log.1"),
])
def test_copytruncate_finds_its_copy_by_logrotates_names(tmp_path, name, copy):
    path = tmp_path / name
    for other in ("x.log", "a.log.1.gz", "b.log.1", "a", "zzz"):   # near names, not copies
        if other != name:
            (tmp_path / other).write_bytes(b"2026-03-09T09:00:00Z n9 other\n" * 3)
    writer = Writer(path)
    poller = Poller(path)
    lines = writer.lines(2)
    poller.poll()
    lines += writer.lines(2)                 # in the copy only
    shutil.copyfile(path, tmp_path / copy)
    os.truncate(path, 0)
    lines += writer.lines(1)
    poller.poll()
    assert poller.got == lines
    writer.close()


@pytest.mark.parametrize("away", ["renamed away and back", "a stat that failed once"])
def test_the_same_file_back_under_the_name_is_not_read_again(tmp_path, monkeypatch, away):
    import kizashi.engine.log_tail as log_tail

    path = tmp_path / "a.log"
    writer = Writer(path)
    poller = Poller(path)
    lines = writer.lines(3)
    poller.poll()
    lines += writer.lines(1)
    if away == "renamed away and back":
        os.rename(path, str(path) + ".tmp")
        poller.poll()
        lines += writer.lines(1)
        os.rename(str(path) + ".tmp", path)
    else:
        real = os.stat

        def flaky(name, *args, **kwargs):
            if str(name) == str(path):
                raise OSError(116, "Stale file handle", str(name))
            return real(name, *args, **kwargs)

        monkeypatch.setattr(log_tail.os, "stat", flaky)
        poller.got += poller.tail.read()     # the rest read, the file kept
        with pytest.raises(OSError, match="Stale"):
            poller.tail.read()               # then the error, said by the caller
        monkeypatch.setattr(log_tail.os, "stat", real)
    lines += writer.lines(2)
    poller.poll()
    poller.poll()
    assert poller.got == lines
    writer.close()
