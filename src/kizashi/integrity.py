"""A SHA-256 in every file kizashi writes and later reads back, checked on load.

Bytes on disk change after they are written (a flipped bit, a block overwritten, a
write cut short, bytes appended). Where no checksum covers them they load as other
content: a zip archive's CRC-32s leave its headers and the padding between records
uncovered, and a JSON record has none at all. Two forms, one per kind of file:

* **Zip archives** (checkpoints, ``model.pt``, ``model.npz``): the SHA-256 of the
  archive as written goes into its zip comment, ``kizashi-sha256:<hex>``, which
  ``torch.load`` and ``np.load`` ignore (:func:`append_zip_digest`,
  :func:`check_zip`). An archive without one (older files, other programs, also with
  a comment of their own) gets the CRC-32 check of every record.
* **JSON records** (a ``config.json`` of ``kizashi fit`` or ``kizashi train``):
  the SHA-256 of the record's canonical JSON (sorted keys, no spaces) is its
  ``sha256`` entry (:func:`with_digest`, :func:`check_record`). Whitespace may
  change; any value, key or digit may not. A record whose ``format`` says it was
  written with a digest must have one; an older record without one is read as
  before.

Examples
--------
>>> import io, zipfile
>>> buffer = io.BytesIO()
>>> with zipfile.ZipFile(buffer, "w") as archive:
...     archive.writestr("a.txt", "hello")
>>> append_zip_digest(buffer)
>>> zipfile.ZipFile(buffer).comment[:15]
b'kizashi-sha256:'
>>> record = with_digest({"format": "x/2", "mean": [1.5, 2.0]})
>>> check_record(record, "config.json", "fit again", required=True)
>>> record["mean"][0] = 1.25
>>> check_record(record, "config.json", "fit again", required=True)
Traceback (most recent call last):
...
ValueError: config.json was changed after it was written (its sha256 does not match ...
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["DIGEST_KEY", "append_zip_digest", "check_record", "check_zip", "record_digest",
           "with_digest"]

_END_RECORD = b"PK\x05\x06"  # a zip archive's end-of-central-directory record (22 bytes)
_END_SIZE = 22
_DIGEST_MARK = b"kizashi-sha256:"
_DIGEST_SIZE = len(_DIGEST_MARK) + 64
_ZIP_HEAD = b"PK\x03\x04"

#: The entry of a JSON record that holds its SHA-256.
DIGEST_KEY = "sha256"


# ------------------------------------------------------------------ zip archives
def append_zip_digest(out: Any) -> None:
    """Put the SHA-256 of the zip archive in ``out`` (a file open for reading and
    writing, the archive just written) into its zip comment.

    The digest covers the file as written, with an empty comment; :func:`check_zip`
    rebuilds those bytes and compares. An archive that does not end with a plain end
    record (a comment already, zip64) is left as it is, and gets the CRC-32 check.
    """
    size = out.seek(0, os.SEEK_END)
    if size < _END_SIZE:
        return
    out.seek(size - _END_SIZE)
    end = out.read(_END_SIZE)
    if not (end.startswith(_END_RECORD) and end.endswith(b"\x00\x00")):
        return
    out.seek(0)
    digest = hashlib.file_digest(out, "sha256").hexdigest().encode("ascii")
    out.seek(size - 2)
    out.write(_DIGEST_SIZE.to_bytes(2, "little") + _DIGEST_MARK + digest)


def check_zip(path: str | Path, what: str, remedy: str) -> None:
    """Check the SHA-256 that :func:`append_zip_digest` wrote, or, without one, the CRC-32s.

    Parameters
    ----------
    path : path-like
        The file (it exists and is not empty).
    what : str
        What the file is, for the message (``"checkpoint"``, ``"model file"``).
    remedy : str
        What to do, ending the message.

    Raises
    ------
    ValueError
        ``{what} {path} is damaged ...; {remedy}`` when the digest differs, a record
        fails its CRC-32, or a zip archive ends neither with a plain end record nor an
        intact digest (cut short, overwritten or added to). A file that is not a zip
        archive passes: its loader refuses it with its own message.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(4)
        handle.seek(max(0, size - _END_SIZE - _DIGEST_SIZE))
        tail = handle.read()
    plain_end = tail[-_END_SIZE:]
    if plain_end.startswith(_END_RECORD) and plain_end.endswith(b"\x00\x00"):
        _check_crc(path, size, what, remedy)  # no comment: written before, or by another program
        return
    end, comment = tail[:_END_SIZE], tail[_END_SIZE:]
    if (len(tail) == _END_SIZE + _DIGEST_SIZE and end.startswith(_END_RECORD)
            and end[-2:] == _DIGEST_SIZE.to_bytes(2, "little")
            and comment.startswith(_DIGEST_MARK)):
        if _zip_digest(path, size) != comment[len(_DIGEST_MARK):]:
            raise ValueError(f"{what} {path} is damaged ({size} bytes; its SHA-256 differs "
                             "from the one written with it: the bytes changed after they were "
                             f"written); {remedy}")
        return
    if head == _ZIP_HEAD and _foreign_comment(path, size):
        _check_crc(path, size, what, remedy)  # another program's comment: no digest to check
        return
    if head == _ZIP_HEAD:  # a zip archive that ends neither way
        raise ValueError(f"{what} {path} is damaged or truncated ({size} bytes of a zip "
                         f"archive whose end was cut, changed or added to); {remedy}")


def _foreign_comment(path: Path, size: int) -> bool:
    """Whether the archive ends with an end record and a comment that another program
    wrote: the record's comment length reaches exactly to the end of the file (as
    ``zipfile`` finds it), and the comment is not the length of a digest (a digest with
    a changed byte is damage, not another program's comment)."""
    span = min(size, _END_SIZE + 0xFFFF)
    with open(path, "rb") as handle:
        handle.seek(size - span)
        tail = handle.read()
    at = tail.rfind(_END_RECORD)
    while at >= 0:
        if at + _END_SIZE <= len(tail):
            length = int.from_bytes(tail[at + _END_SIZE - 2:at + _END_SIZE], "little")
            if at + _END_SIZE + length == len(tail):
                return length not in (0, _DIGEST_SIZE)
        at = tail.rfind(_END_RECORD, 0, at)
    return False


def _zip_digest(path: Path, size: int) -> bytes:
    """The SHA-256 of the archive as written: its bytes before the comment, whose length
    field was 0."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        remaining = size - _DIGEST_SIZE - 2
        while remaining > 0:
            block = handle.read(min(remaining, 1 << 20))
            if not block:
                break
            digest.update(block)
            remaining -= len(block)
    digest.update(b"\x00\x00")
    return digest.hexdigest().encode("ascii")


def _check_crc(path: Path, size: int, what: str, remedy: str) -> None:
    """Verify the CRC-32 of every record (a flipped bit in an array's bytes)."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except Exception:  # not a zip, or headers too mangled: the loader says
        return
    if bad is not None:
        raise ValueError(f"{what} {path} is damaged ({size} bytes; record {bad} fails its "
                         f"CRC-32 check: the bytes changed after they were written); {remedy}")


# ------------------------------------------------------------------ JSON records
def record_digest(record: dict[str, Any], editable: Iterable[tuple[str, ...]] = ()) -> str:
    """The SHA-256 (hex) of ``record``'s canonical JSON, its :data:`DIGEST_KEY` left out.

    ``editable`` names entries (key paths, e.g. ``("params", "backend")``) that may be
    changed by hand and are left out too.
    """
    content = {k: v for k, v in record.items() if k != DIGEST_KEY}
    for path in editable:
        node = content
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                break
            node[key] = node = dict(node[key])
        else:
            node.pop(path[-1], None)
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def with_digest(record: dict[str, Any], editable: Iterable[tuple[str, ...]] = ()
                ) -> dict[str, Any]:
    """``record`` with its :func:`record_digest` as :data:`DIGEST_KEY`."""
    return {**record, DIGEST_KEY: record_digest(record, editable)}


def check_record(record: Any, path: str | Path, remedy: str, required: bool,
                 editable: Iterable[tuple[str, ...]] = ()) -> None:
    """Refuse a record whose content differs from what its digest says.

    Parameters
    ----------
    record : object
        The parsed JSON.
    path : path-like
        The file, for the message.
    remedy : str
        What to do, ending the message.
    required : bool
        The record says it was written with a digest (its ``format``): a missing one is
        an error. Otherwise (an older record) a missing digest is accepted.
    editable : iterable of tuple of str
        Entries that may be changed by hand (as for :func:`record_digest`).

    Raises
    ------
    ValueError
        One line naming the file.
    """
    if not isinstance(record, dict):
        return  # (its reader refuses a record of the wrong shape)
    if DIGEST_KEY not in record:
        if required:
            raise ValueError(f"{path} lacks its {DIGEST_KEY} entry, which its format says it "
                             f"was written with (damaged, or edited by hand); {remedy}")
        return
    if record[DIGEST_KEY] != record_digest(record, editable):
        raise ValueError(f"{path} was changed after it was written (its {DIGEST_KEY} does not "
                         f"match its content: damaged, or edited by hand); {remedy}")
