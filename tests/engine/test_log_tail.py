"""A log file tailed while it is written, rotated, truncated or replaced: every line once.

The expectation is the file's own lines (split on ``\\n``, one ``\\r`` before it dropped,
decoded as UTF-8 with U+FFFD for a byte that is not, blank lines left out), computed
here from the bytes written, whatever the tail does: so the lines read across every way
of cutting the writes must concatenate to it.
"""

from __future__ import annotations

import os

import pytest

import kizashi.engine.log_tail as log_tail
from kizashi.engine.log_tail import LogTail

TEXT = ("2026-03-09T10:00:00Z n1 café ouvert\r\n\n"
        "2026-03-09T10:00:05Z n2 日本語のログ 3\n"
        "   \n"
        "2026-03-09T10:00:09Z n1 emoji 🚀 done\r\n").encode()


def expected(data: bytes) -> list[str]:
    """The complete lines of ``data`` as the tail must give them (independent of it)."""
    whole = data[: data.rfind(b"\n") + 1]
    out = []
    for raw in whole.split(b"\n")[:-1]:
        text = raw.decode("utf-8", errors="replace")
        text = text[:-1] if text.endswith("\r") else text
        if text.strip():
            out.append(text.replace("\x00", "\ufffd"))
    return out


def append(path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)


@pytest.mark.parametrize("cut", range(len(TEXT) + 1))
def test_every_way_of_cutting_the_writes_in_two_reads_every_line_once(tmp_path, cut):
    path = tmp_path / "a.log"
    path.write_bytes(b"")
    tail = LogTail(str(path))
    append(path, TEXT[:cut])
    got = tail.read()
    append(path, TEXT[cut:])
    got += tail.read()
    assert got == expected(TEXT)
    assert tail.read() == []


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_writes_of_any_size_read_after_each(tmp_path, size):
    path = tmp_path / "a.log"
    path.write_bytes(b"")
    tail = LogTail(str(path))
    got = []
    for start in range(0, len(TEXT), size):
        append(path, TEXT[start:start + size])
        got += tail.read()
    assert got == expected(TEXT)


ODD_BYTES = {
    "latin-1": "2026-03-09T10:00:00Z n1 caf\xe9 ferm\xe9\n".encode("latin-1"),
    "invalid utf-8": b"2026-03-09T10:00:00Z n1 bad \xff\xfe\xc3( seq\n",
    "nul bytes": b"2026-03-09T10:00:00Z n1 nul\x00in\x00line\n",
    "binary junk": bytes(range(256)) * 3 + b"\n",
    "lone surrogate bytes": b"2026-03-09T10:00:00Z n1 \xed\xa0\x80 x\n",
    "truncated multibyte at a line end": b"2026-03-09T10:00:00Z n1 half \xe6\x97\n",
}


@pytest.mark.parametrize("case", sorted(ODD_BYTES))
def test_bytes_that_are_not_utf8_are_replaced_in_their_line_only(tmp_path, case):
    good = b"2026-03-09T10:01:00Z n2 fine\n"
    data = good + ODD_BYTES[case] + good
    path = tmp_path / "a.log"
    path.write_bytes(data)
    tail = LogTail(str(path))
    got = tail.read()
    assert got == expected(data)
    assert got[0] == got[-1] == "2026-03-09T10:01:00Z n2 fine"
    assert "\x00" not in "".join(got)
    # a line with a byte that is not UTF-8 or a NUL counts once (as detect --logs counts)
    assert tail.replaced == sum(not _is_utf8(raw) or b"\x00" in raw for raw in data.split(b"\n"))
    assert tail.replaced > 0


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_a_line_longer_than_the_limit_is_cut_and_the_next_lines_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(log_tail, "MAX_LINE_BYTES", 100)
    path = tmp_path / "a.log"
    head = b"2026-03-09T10:00:00Z n1 "
    path.write_bytes(b"")
    tail = LogTail(str(path))
    got = []
    for piece in [head + b"x" * 60, b"y" * 60, b"z" * 500, b"w\nnext line\n"]:  # in pieces
        append(path, piece)
        got += tail.read()
    append(path, head + b"q" * 300 + b"\nlast\n")  # in one write
    got += tail.read()
    assert got == [(head + b"x" * 60 + b"y" * 16).decode(), "next line",
                   (head + b"q" * 76).decode(), "last"]
    assert tail.cut == 2


def test_a_huge_file_is_read_in_bounded_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(log_tail, "MAX_READ_BYTES", 10)
    path = tmp_path / "a.log"
    path.write_bytes(TEXT)
    tail = LogTail(str(path))
    got, reads = [], 0
    while reads < 100:
        before = tail.offset
        got += tail.read()
        reads += 1
        if tail.offset == before:
            break
    assert got == expected(TEXT) and reads == -(-len(TEXT) // 10) + 1


OLD = b"".join(b"2026-03-09T10:00:%02dZ n1 old line %d\n" % (s, s) for s in range(20))


def _rotate_create(path, new: bytes) -> None:  # logrotate's create: a new inode
    os.rename(path, str(path) + ".1")
    path.write_bytes(new)


def _copytruncate(path, new: bytes) -> None:  # same inode, emptied, then written
    with open(path, "r+b") as handle:
        handle.truncate(0)
    append(path, new)


def _overwrite_in_place(path, new: bytes) -> None:  # same inode, other content
    with open(path, "r+b") as handle:
        handle.write(new)
        handle.truncate(len(new))


ROTATIONS = {"create": _rotate_create, "copytruncate": _copytruncate,
             "overwrite": _overwrite_in_place}
#: the new file's size against what was read of the old one
NEW_SIZES = {"shorter": 3, "as long": 20, "longer": 45}


@pytest.mark.parametrize("size", sorted(NEW_SIZES))
@pytest.mark.parametrize("rotation", sorted(ROTATIONS))
def test_a_rotated_truncated_or_replaced_file_is_read_from_its_start(tmp_path, rotation, size):
    path = tmp_path / "a.log"
    path.write_bytes(OLD)
    tail = LogTail(str(path))
    assert tail.read() == expected(OLD)
    new = b"".join(b"2026-03-09T11:%02d:00Z n2 new line %d\n" % (m, m)
                   for m in range(NEW_SIZES[size]))
    ROTATIONS[rotation](path, new)
    assert tail.read() == expected(new)
    append(path, b"2026-03-09T12:00:00Z n2 after\n")
    assert tail.read() == ["2026-03-09T12:00:00Z n2 after"]


def test_a_file_gone_while_rotated_is_an_oserror_then_read_when_back(tmp_path):
    path = tmp_path / "a.log"
    path.write_bytes(OLD)
    tail = LogTail(str(path))
    tail.read()
    os.rename(path, str(path) + ".1")
    with pytest.raises(OSError):
        tail.read()
    path.write_bytes(b"2026-03-09T11:00:00Z n1 back\n")
    assert tail.read() == ["2026-03-09T11:00:00Z n1 back"]


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_path_that_is_no_regular_file_is_an_oserror_not_a_hang(tmp_path, kind):
    path = tmp_path / "a.log"
    path.mkdir() if kind == "folder" else os.mkfifo(path)
    with pytest.raises(OSError, match="not a regular file"):
        LogTail(str(path)).read()
