"""A growing log file read line by line as it is written, rotated, truncated or replaced.

:class:`LogTail` hands out each *complete* line once. It reads bytes, not text, and
decodes each whole line on its own, so a character split across two writes is decoded
once it is whole, and a byte that is not UTF-8 (a Latin-1 message, binary junk) becomes
U+FFFD in its line only, as is a NUL byte (such lines counted in
:attr:`LogTail.replaced`): a live log is never
refused, a tick never fails on one odd line.

The file is known by its identity (device and inode), its first bytes and the bytes just
before the offset read to (:data:`HEAD_BYTES` of each), and kept open between reads.

* **Rotated** (``logrotate``'s ``create``: renamed or removed, a new file under the
  name, another inode): the rest of the old file is read through the handle kept open —
  the lines written to it between the last read and the rotation, and its last line
  even without a line end (counted once, by its start: what the writer adds to it later
  is not another line) — then the new file from its start. The old file stays open for
  :data:`ROTATED_GRACE_SECONDS` after the switch, and what a writer that has not
  reopened its log yet writes to it is read too; a file still written at the end of the
  grace is closed with a warning. At most :data:`MAX_ROTATED_OPEN` rotated files are
  kept open (the oldest is closed first, with a warning if it was still written), and a
  deleted one is closed as soon as a read finds nothing new in it while the file under
  the name is not empty (its writer has reopened its log). The same file back under the
  name within the grace (renamed away and back, a stat that failed once) is followed on
  from where it was read to; after the grace, it is read from its start again.
* **Truncated or rewritten in place** (``copytruncate``, ``: > file``, another file's
  content written over it): found when the file is shorter than what was read, or when
  its first bytes or the bytes before the offset differ, even when it has grown past
  the old offset between two reads. Only the bytes before the offset differing must be
  seen at two reads in a row: at the first, nothing new is read from the file (a read
  that returned other bytes once, a stale page over NFS, is not taken for a rewrite and
  no line is counted twice). The lines written between the last read and the
  copy are read from the copy, when one is found next to it (``NAME.1``, ``NAME-DATE``,
  ``NAME.DATE``; uncompressed, its first bytes and the bytes at the offset as
  remembered); if none is, a warning names the file and the offset from which lines
  may be missing. The emptied file is read from its start. A writer that kept its
  offset (opened without ``O_APPEND``) leaves a run of zeros before its next line (a
  hole): it is skipped with a warning naming its length and the bytes it proves lost
  (written between the copy and the truncation). Lines written between the copy and the
  truncation by a writer with ``O_APPEND`` leave no trace: rotate by ``create`` (or
  poll often) where they matter.

A file whose first bytes are a compressed stream's (gzip, bzip2, xz, zstd) is refused
(``OSError``, one line), not read as text; a copy found compressed is not read.
A line longer than :data:`MAX_LINE_BYTES` is cut there (the rest up to its newline is
dropped; its time and host are at its start); at most :data:`MAX_READ_BYTES` are read
per call and file, the rest on the next one, so a first read of a huge file does not
hold it all in memory. Line ends are ``\\n`` or ``\\r\\n``.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.log")
>>> with open(path, "wb") as f:
...     _ = f.write(b"one\\r\\ntw")
>>> tail = LogTail(path)
>>> tail.read(), tail.read()
(['one'], [])
>>> with open(path, "ab") as f:
...     _ = f.write(b"o caf\\xc3")       # half of the two bytes of 'é'
>>> tail.read()
[]
>>> with open(path, "ab") as f:
...     _ = f.write(b"\\xa9\\n")
>>> tail.read()
['two café']
>>> os.rename(path, path + ".1")       # rotated (create): the rest of the old file first
>>> with open(path + ".1", "ab") as f:
...     _ = f.write(b"late\\n")
>>> with open(path, "wb") as f:
...     _ = f.write(b"new\\n")
>>> tail.read()
['late', 'new']
>>> with open(path + ".1", "ab") as f:  # a writer that has not reopened its log yet
...     _ = f.write(b"later\\n")
>>> tail.read()
['later']
"""

from __future__ import annotations

import errno
import gzip
import logging
import os
import stat as stat_module
import struct
import time
import zlib
from collections.abc import Callable
from typing import BinaryIO

__all__ = ["HEAD_BYTES", "MAX_LINE_BYTES", "MAX_READ_BYTES", "MAX_ROTATED_OPEN",
           "ROTATED_GRACE_SECONDS", "LogTail"]

log = logging.getLogger("kizashi.watch")

#: A longer line is cut here (its start holds its time and host).
MAX_LINE_BYTES = 1 << 20
#: The most bytes read per call and file.
MAX_READ_BYTES = 64 << 20
#: Bytes of the file's start, and before the offset read to, remembered to know it again.
HEAD_BYTES = 256
#: How long a rotated-away file is still read for late writes (seconds of the clock).
ROTATED_GRACE_SECONDS = 300.0
#: The most rotated-away files kept open at once (the oldest is closed first).
MAX_ROTATED_OPEN = 4
#: Rotated copies of a file looked at, the newest first, when it was truncated in place.
COPIES_LOOKED_AT = 16
#: What follows a log's name in its rotated copies' names (``a.log.1``, ``a.log-20261127``).
SEPARATORS = (".", "-", "_")
#: Bytes looked at per piece for the zeros a writer's hole left at the file's start.
HOLE_PIECE = 1 << 16
#: First bytes of compressed files: never read as text.
COMPRESSED_MAGIC = {b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd",
                    b"BZh": "bzip2"}


def compression(head: bytes) -> str | None:
    """The compression whose stream starts with ``head``, or None.

    >>> compression(b"\\x1f\\x8b\\x08\\x00"), compression(b"2026-03-09 n1 ok")
    ('gzip', None)
    """
    for magic, name in COMPRESSED_MAGIC.items():
        if head.startswith(magic):
            # "BZh" could start a line: bzip2 only with its level digit and block magic
            if name != "bzip2" or (head[3:4].isdigit() and head[4:10] == b"1AY&SY"):
                return name
    return None


class _Reader:
    """One open file read from ``offset`` on, and what is known of it."""

    def __init__(self, handle: BinaryIO, identity: tuple[int, int]):
        self.handle = handle
        self.identity = identity
        self.deadline = float("inf")  # rotated away: read until then
        self.rotated_at = float("inf")
        self.capped = False           # closed early: more than MAX_ROTATED_OPEN rotated
        self.reset()

    def reset(self) -> None:
        self.offset = 0
        self.head = b""        # the file's first bytes
        self.mark = b""        # the bytes just before offset
        self.partial = b""     # an unfinished last line
        self.dropping = False  # inside the rest of a line already handed out (or cut)
        self.at_start = True   # nothing but zeros read yet (a hole left by copytruncate)
        self.hole = 0
        self.known_end = -1    # truncated: where its old content was known to end
        self.doubted = False   # the bytes before offset read differently at the last read

    @property
    def fd(self) -> int:
        return self.handle.fileno()

    def pread(self, size: int, offset: int) -> bytes:
        return os.pread(self.fd, size, offset) if size > 0 else b""

    def same_head(self) -> bool:
        """Whether the file still starts with the bytes remembered, but for those that
        are also among the bytes before the offset (a short file): :meth:`same_mark`."""
        now, start = self.pread(len(self.head), 0), max(0, self.offset - len(self.mark))
        return len(now) == len(self.head) and (now[:start], now[self.offset:]) == (
            self.head[:start], self.head[self.offset:])

    def same_mark(self) -> bool:
        """Whether the file still holds the bytes remembered just before the offset."""
        return self.pread(len(self.mark), self.offset - len(self.mark)) == self.mark

    def chunk(self) -> bytes:
        data = self.pread(MAX_READ_BYTES, self.offset)
        self.offset += len(data)
        self.mark = (self.mark + data)[-HEAD_BYTES:]
        return data


class _Copy:
    """A copy of a file's old content (``logrotate``'s ``copytruncate``)."""

    def __init__(self, path: str, handle: BinaryIO, size: int, compressed: str | None):
        self.path, self.handle, self.size, self.compressed = path, handle, size, compressed

    @classmethod
    def of(cls, path: str, handle: BinaryIO, reader: _Reader) -> _Copy | None:
        """``path`` as the copy of what ``reader`` read, when its bytes say it is."""
        stat = os.fstat(handle.fileno())
        fd = handle.fileno()
        if not stat_module.S_ISREG(stat.st_mode) or (stat.st_dev, stat.st_ino) == \
                reader.identity:
            return None
        kind = compression(os.pread(fd, 16, 0))
        if kind is None:
            if (stat.st_size >= reader.offset and os.pread(fd, len(reader.head), 0)
                    == reader.head and os.pread(fd, len(reader.mark), reader.offset
                                                - len(reader.mark)) == reader.mark):
                return cls(path, handle, stat.st_size, None)
            return None
        if kind != "gzip" or stat.st_size < 18:
            return None
        # its first bytes decompressed, and its size as the gzip trailer stores it (mod 4 GiB)
        size = struct.unpack("<I", os.pread(fd, 4, stat.st_size - 4))[0]
        with gzip.GzipFile(fileobj=handle) as stream:   # leaves the handle open
            start = stream.read(len(reader.head))
        if start == reader.head and size >= reader.offset:
            return cls(path, handle, size, kind)
        return None


class LogTail:
    """The complete lines of ``path`` not handed out yet (see the module docs).

    ``clock`` times the grace a rotated-away file is still read for (``grace`` seconds).
    """

    def __init__(self, path: str, clock: Callable[[], float] = time.monotonic,
                 grace: float = ROTATED_GRACE_SECONDS):
        self.path = path
        self.clock = clock
        self.grace = grace
        self.replaced = 0  #: lines with a byte that is not UTF-8 or NUL, replaced by U+FFFD
        self.cut = 0  #: lines longer than MAX_LINE_BYTES, cut there
        self._reader: _Reader | None = None   # the file under the name
        self._rotated: list[_Reader] = []     # rotated away, read while their grace lasts

    @property
    def offset(self) -> int:
        """How far the file under the name was read (bytes)."""
        return self._reader.offset if self._reader is not None else 0

    def close(self) -> None:
        """Close the files kept open (a later :meth:`read` opens it again from its start)."""
        for reader in [*self._rotated, *([self._reader] if self._reader else [])]:
            reader.handle.close()
        self._reader, self._rotated = None, []

    def read(self) -> list[str]:
        """The complete lines written since the last call (without their line ends).

        Raises ``OSError`` when the file cannot be read (gone while rotated, no
        permission, a folder, compressed): the caller says so and asks again later.
        """
        now = self.clock()
        try:
            stat, missing = os.stat(self.path), None
        except OSError as error:   # gone, a symlink loop, a folder above it unreadable
            stat, missing = None, error
        current = self._reader
        if current is not None and (stat is None or (stat.st_dev, stat.st_ino)
                                    != current.identity):
            # rotated away (renamed, removed): the lines written to it since the last read
            # are still in the file kept open; read before the new one, and for late writes
            current.deadline, current.rotated_at = now + self.grace, now
            self._rotated.append(current)
            self._reader = None
            for old in self._rotated[:-MAX_ROTATED_OPEN]:  # too many open: the oldest
                old.deadline, old.capped = min(old.deadline, now), True  # read, closed
        if self._reader is None and stat is not None:
            # a file followed before is back under the name (renamed away and back, a
            # stat that failed once) within the grace: followed on from where it was
            # read to, not reread (after the grace it is closed: read from its start)
            for old in self._rotated:
                if old.identity == (stat.st_dev, stat.st_ino):
                    self._rotated.remove(old)
                    old.deadline, old.capped, self._reader = float("inf"), False, old
                    break
        lines: list[str] = []
        for old in list(self._rotated):
            deleted = os.fstat(old.fd).st_nlink == 0
            data = old.chunk()
            lines += self._lines(old, data)
            if len(data) == MAX_READ_BYTES:
                return lines            # more of the old file first, at the next call
            lines += self._finish_line(old, drop_rest=True)  # the file is done with
            # deleted, nothing new, and the name's file written: no writer reopening its
            # log by name can write to it any more (its blocks are freed once closed)
            done = deleted and not data and stat is not None and stat.st_size > 0
            if now >= old.deadline or done:
                if data and old.capped:
                    log.warning("%s: more than %d files rotated away from it within %.0f s; "
                                "the oldest, rotated %.0f s ago and still written, is closed: "
                                "what is written to it from now is not read (does the writer "
                                "reopen its log when rotated?)", self.path, MAX_ROTATED_OPEN,
                                self.grace, now - old.rotated_at)
                elif data:
                    log.warning("%s: the file rotated away from it was still written %.0f s "
                                "after the rotation; what is written to it from now is not "
                                "read (does the writer reopen its log when rotated?)",
                                self.path, self.grace)
                elif old.capped and not done:
                    log.info("%s: more than %d files rotated away from it within %.0f s; the "
                             "oldest (rotated %.0f s ago, not written since) is closed",
                             self.path, MAX_ROTATED_OPEN, self.grace, now - old.rotated_at)
                old.handle.close()
                self._rotated.remove(old)
        if stat is None:
            if lines:
                return lines
            raise missing or FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT),
                                               self.path)
        if not stat_module.S_ISREG(stat.st_mode):  # a FIFO would block
            if lines:
                return lines
            raise OSError(errno.EINVAL, "not a regular file (a folder, FIFO, socket or "
                          "device): give the log file itself", self.path)
        if self._reader is None:
            try:
                self._reader = self._open()
            except OSError:
                if lines:        # the rotated file's lines first; said at the next call
                    return lines
                raise
        reader = self._reader
        size = os.fstat(reader.fd).st_size
        if size < reader.offset or not reader.same_head():
            lines += self._truncated(reader)
        elif not reader.same_mark():
            if not reader.doubted:  # once may be a transient read (a stale page over NFS,
                reader.doubted = True   # a byte overwritten): nothing read; looked at again
                return lines
            lines += self._truncated(reader)   # twice in a row: rewritten in place
        else:
            reader.doubted = False
        if len(reader.head) < HEAD_BYTES:
            reader.head = reader.pread(HEAD_BYTES, 0)
        if reader.at_start:
            self._skip_hole(reader)
            if reader.at_start:      # zeros up to its end, or more of them than one read
                return lines
        return lines + self._lines(reader, reader.chunk())

    def _open(self) -> _Reader:
        handle = open(self.path, "rb")  # kept open across reads
        opened = os.fstat(handle.fileno())
        kind = compression(os.pread(handle.fileno(), 16, 0))
        if kind is not None:
            handle.close()
            raise OSError(errno.EINVAL, f"a {kind}-compressed file, not read as text: give "
                          "the log being written", self.path)
        return _Reader(handle, (opened.st_dev, opened.st_ino))

    # ------------------------------------------------------------ truncated in place
    def _truncated(self, reader: _Reader) -> list[str]:
        """The old content's unread lines (from its copy, if found); then from the start."""
        lines: list[str] = []
        read_to = reader.offset
        copy = self._find_copy(reader) if reader.mark else None
        known_end = read_to
        if copy is None:
            if read_to:
                log.warning("%s: emptied or rewritten in place (copytruncate?) after %d "
                            "byte(s) had been read, and no copy holding more found next to "
                            "it: any lines written to it after that read and before it was "
                            "emptied are not counted", self.path, read_to)
        elif copy.compressed:
            known_end = copy.size
            log.warning("%s: emptied in place (copytruncate?); its copy %s is %s-compressed, "
                        "not read: %d byte(s) written to it after the last read (from byte %d) "
                        "are lost (compress with delaycompress to keep the newest copy plain)",
                        self.path, copy.path, copy.compressed, copy.size - read_to, read_to)
        else:
            with copy.handle:
                data = os.pread(copy.handle.fileno(), MAX_READ_BYTES, read_to)
            lines = self._lines(reader, data)
            known_end = copy.size   # the bytes after it were written after the copy
            log.info("%s: emptied in place (copytruncate?): the %d byte(s) written to it after "
                     "the last read read from its copy %s", self.path, len(data), copy.path)
            if read_to + len(data) < copy.size:
                log.warning("%s: %d byte(s) of its copy %s after byte %d are lost: not read "
                            "(more than %d MiB since the last read)", self.path,
                            copy.size - read_to - len(data), copy.path, read_to + len(data),
                            MAX_READ_BYTES >> 20)
        lines += self._finish_line(reader, drop_rest=False)
        reader.reset()
        reader.known_end = known_end
        return lines

    def _find_copy(self, reader: _Reader) -> _Copy | None:
        """A file next to the log holding its old content up to and past the offset read
        to (``logrotate``'s copy), the newest first: a plain one, else a gzip one (its
        size only: not read)."""
        folder, base = os.path.split(os.path.abspath(self.path))
        stem, suffix = os.path.splitext(base)
        entries: list[tuple[float, str]] = []
        try:
            for entry in os.scandir(folder):
                name = entry.name
                if name != base and (
                        (name.startswith(base) and name[len(base):len(base) + 1] in SEPARATORS)
                        or (suffix and name.startswith(stem) and name.endswith(suffix)
                            and name[len(stem):len(stem) + 1] in SEPARATORS)):
                    try:
                        entries.append((entry.stat().st_mtime, entry.path))
                    except OSError:
                        continue
        except OSError:
            return None
        compressed: _Copy | None = None
        for _, path in sorted(entries, reverse=True)[:COPIES_LOOKED_AT]:
            try:
                handle = open(path, "rb")
            except OSError:
                continue
            try:
                copy = _Copy.of(path, handle, reader)
            except (OSError, EOFError, zlib.error):
                copy = None
            if copy is not None and not copy.compressed:
                return copy
            handle.close()
            compressed = compressed or copy
        return compressed

    def _skip_hole(self, reader: _Reader) -> None:
        """Skip the zeros a writer that kept its offset left before its next line."""
        try:            # a sparse file's hole at once, where the file system tells it
            data_at = os.lseek(reader.fd, reader.offset, os.SEEK_DATA)
        except (OSError, AttributeError):   # no data after it, or not told
            data_at = reader.offset
        reader.hole += data_at - reader.offset
        reader.offset = data_at
        looked = 0
        while reader.at_start:
            data = reader.pread(HOLE_PIECE, reader.offset)
            zeros = len(data) - len(data.lstrip(b"\x00"))
            reader.offset += zeros
            reader.hole += zeros
            looked += zeros
            if zeros < len(data):
                reader.at_start = False
            if zeros < HOLE_PIECE or looked >= MAX_READ_BYTES:   # the rest at the next call
                break
        if not reader.at_start and reader.hole:
            lost = reader.hole - reader.known_end
            log.warning("%s: its first %d byte(s) are zeros, skipped (a hole: the writer went on "
                        "at its old offset after the file was emptied; open the log with "
                        "O_APPEND)%s", self.path, reader.hole,
                        "" if reader.known_end < 0 else
                        f"; {lost} byte(s) written to it after what was read or copied and "
                        "before it was emptied are lost" if lost > 0 else
                        "; nothing was written to it between what was read or copied and its "
                        "emptying")
            reader.hole = 0

    # ------------------------------------------------------------------ lines
    def _finish_line(self, reader: _Reader, drop_rest: bool) -> list[str]:
        """The unfinished last line of a file done with, as a line (once, by its start:
        with ``drop_rest``, what is written after it up to its line end is dropped)."""
        if not reader.partial or reader.dropping:
            return []
        line = self._decode(reader.partial)
        reader.partial, reader.dropping = b"", drop_rest
        return [line] if line.strip() else []

    def _lines(self, reader: _Reader, data: bytes) -> list[str]:
        if not data:
            return []
        pieces = (reader.partial + data).split(b"\n")
        reader.partial = pieces.pop()  # an unfinished last line waits for its end
        lines = []
        for piece in pieces:
            if reader.dropping:  # the end of a cut line
                reader.dropping = False
                continue
            lines.append(self._decode(piece))
        if len(reader.partial) > MAX_LINE_BYTES:
            if not reader.dropping:
                lines.append(self._decode(reader.partial[:MAX_LINE_BYTES]))
                self.cut += 1
            reader.partial, reader.dropping = b"", True
        return [line for line in lines if line.strip()]

    def _decode(self, raw: bytes) -> str:
        if len(raw) > MAX_LINE_BYTES:
            raw = raw[:MAX_LINE_BYTES]
            self.cut += 1
        try:
            text = raw.decode("utf-8")
            odd = b"\x00" in raw
        except UnicodeDecodeError:
            text, odd = raw.decode("utf-8", errors="replace"), True
        self.replaced += odd  # a line with a NUL counts too, as detect --logs counts it
        return text.removesuffix("\r").replace("\x00", "\ufffd")
