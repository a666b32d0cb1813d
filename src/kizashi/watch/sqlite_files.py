"""What every SQLite file kizashi keeps (the state file, the remote_write queue) shares:
the structural check when it is opened (:func:`check_whole_file`) and the CRC-32 its
rows carry (:func:`row_crc`).

SQLite writes whole pages, so a file whose size is not a whole number of pages was cut
short (the missing bytes of its last page would read as zeros: other values, silently,
and ``quick_check`` does not see it); ``PRAGMA quick_check`` then finds damaged pages
and records. Either is a :class:`sqlite3.DatabaseError` saying what is wrong, which the
file's owner turns into its one-line message naming the file.

>>> import sqlite3, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "q.sqlite")
>>> db = sqlite3.connect(path)
>>> _ = db.execute("CREATE TABLE t (x)"); db.commit()
>>> check_whole_file(db, path)
>>> with open(path, "ab") as out:
...     _ = out.write(b"x")
>>> check_whole_file(db, path)
Traceback (most recent call last):
...
sqlite3.DatabaseError: its size, ... bytes, is not a whole number of ...-byte pages: ...
"""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path
from typing import Any

__all__ = ["check_whole_file", "row_crc"]


def row_crc(data: bytes, *key: Any) -> int:
    """The CRC-32 of a row's bytes and its key (e.g. watch, detector, leaf, chunk), so that
    a row whose key changed is found too.

    >>> row_crc(b"abc", "m", 3) == row_crc(b"abc", "m", 3) != row_crc(b"abc", "m", 4)
    True
    """
    return zlib.crc32(data, zlib.crc32("\0".join(map(str, key)).encode("utf-8")))


def check_whole_file(db: sqlite3.Connection, path: str) -> None:
    """Refuse the file at ``path`` (open as ``db``) when it is not whole pages or fails
    ``quick_check``; a file not there yet (SQLite creates it on the first write) passes."""
    page = int(db.execute("PRAGMA page_size").fetchone()[0])
    size = Path(path).stat().st_size if Path(path).exists() else 0
    if size % page:
        raise sqlite3.DatabaseError(f"its size, {size} bytes, is not a whole number of "
                                    f"{page}-byte pages: it was cut short")
    result = db.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise sqlite3.DatabaseError(f"integrity check failed: {result}")
