"""A growing log file read line by line as it is written, rotated, truncated or replaced.

:class:`LogTail` hands out each *complete* line once. It reads bytes, not text, and
decodes each whole line on its own, so a character split across two writes is decoded
once it is whole, and a byte that is not UTF-8 (a Latin-1 message, binary junk) becomes
U+FFFD in its line only, as is a NUL byte (such lines counted in
:attr:`LogTail.replaced`): a live log is never
refused, a tick never fails on one odd line.

The file is known by its identity (device and inode) and its first bytes, and kept open
between reads. It is read from the start again when it was

* rotated (``logrotate``'s create: a new file under the name, another inode) — after
  the rest of the old file, read through the handle kept open: the lines written to it
  between the last read and the rotation, and its last line even without a line end
  (before, they were lost),
* truncated (``copytruncate``, ``: > file``: shorter than what was read), or
* replaced in place by other content (the first bytes differ), even when it has grown
  past the old offset between two reads.

With ``copytruncate`` the lines written between the last read and the copy are in the
copy only, which the tail does not know: they are not read (rotate by ``create``).

A line longer than :data:`MAX_LINE_BYTES` is cut there (the rest up to its newline is
dropped; its time and host are at its start); at most :data:`MAX_READ_BYTES` are read
per call, the rest on the next one, so a first read of a huge file does not hold it
all in memory. Line ends are ``\\n`` or ``\\r\\n``.

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
>>> with open(path, "wb") as f:         # rotated: read from the start
...     _ = f.write(b"new\\n")
>>> tail.read()
['new']
"""

from __future__ import annotations

import errno
import os
import stat as stat_module
from typing import BinaryIO

__all__ = ["MAX_LINE_BYTES", "MAX_READ_BYTES", "LogTail"]

#: A longer line is cut here (its start holds its time and host).
MAX_LINE_BYTES = 1 << 20
#: The most bytes read per call.
MAX_READ_BYTES = 64 << 20
#: Bytes of the file's start remembered to know it again.
HEAD_BYTES = 256


class LogTail:
    """The complete lines of ``path`` not handed out yet (see the module docs)."""

    def __init__(self, path: str):
        self.path = path
        self.offset = 0
        self.replaced = 0  #: lines with a byte that is not UTF-8 or NUL, replaced by U+FFFD
        self.cut = 0  #: lines longer than MAX_LINE_BYTES, cut there
        self._identity: tuple[int, int] | None = None
        self._head = b""
        self._partial = b""
        self._dropping = False  # inside the rest of a cut line
        self._handle: BinaryIO | None = None  # the file read, kept open across reads

    def _restart(self) -> None:
        self.offset, self._partial, self._dropping, self._head = 0, b"", False, b""

    def close(self) -> None:
        """Close the file kept open (a later :meth:`read` opens it again from its start)."""
        if self._handle is not None:
            self._handle.close()
        self._handle, self._identity = None, None
        self._restart()

    def read(self) -> list[str]:
        """The complete lines written since the last call (without their line ends).

        Raises ``OSError`` when the file cannot be read (gone while rotated, no
        permission): the caller says so and asks again later.
        """
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            stat = None
        lines: list[str] = []
        if self._handle is not None and (stat is None or (stat.st_dev, stat.st_ino)
                                         != self._identity):
            # rotated away (renamed, removed): the lines written to it since the last read
            # are still in the file we hold open; read them to its end before the new one
            data = self._handle.read(MAX_READ_BYTES)
            self.offset += len(data)
            lines = self._lines(data)
            if len(data) == MAX_READ_BYTES:
                return lines            # more of the old file first, at the next call
            if self._partial and not self._dropping:   # the old file's last line is done
                lines += [line for line in [self._decode(self._partial)] if line.strip()]
            self.close()
            if stat is None:
                if lines:
                    return lines
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), self.path)
        if stat is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), self.path)
        if not stat_module.S_ISREG(stat.st_mode):  # a FIFO would block
            raise OSError(errno.EINVAL, "not a regular file (a folder, FIFO, socket or "
                          "device): give the log file itself", self.path)
        if self._handle is None:
            self._handle = open(self.path, "rb")  # kept open across reads
        handle = self._handle
        stat = os.fstat(handle.fileno())
        identity = (stat.st_dev, stat.st_ino)
        if identity != self._identity or stat.st_size < self.offset:
            self._restart()
        else:
            handle.seek(0)
            if self._head and handle.read(len(self._head)) != self._head:
                self._restart()  # other content under the same inode
        self._identity = identity
        if len(self._head) < HEAD_BYTES:
            handle.seek(0)
            self._head = handle.read(min(HEAD_BYTES, max(stat.st_size, 0)))
        handle.seek(self.offset)
        data = handle.read(MAX_READ_BYTES)
        self.offset += len(data)
        return lines + self._lines(data)

    def _lines(self, data: bytes) -> list[str]:
        pieces = (self._partial + data).split(b"\n")
        self._partial = pieces.pop()  # an unfinished last line waits for its end
        lines = []
        for piece in pieces:
            if self._dropping:  # the end of a cut line
                self._dropping = False
                continue
            lines.append(self._decode(piece))
        if len(self._partial) > MAX_LINE_BYTES:
            if not self._dropping:
                lines.append(self._decode(self._partial[:MAX_LINE_BYTES]))
                self.cut += 1
            self._partial, self._dropping = b"", True
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
