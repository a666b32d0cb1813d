"""Damaged copies of a file kizashi wrote, and a check that its loader never mistakes one.

Files on disk change after they are written: a bit flips, a block is overwritten,
a write is cut short, something is appended, a file is emptied or replaced. A
loader must then do one of two things:

* refuse, with a ``ValueError`` of one line naming the file (no raw error of
  numpy, zipfile, sqlite or torch), or
* load exactly what was written (the damage hit bytes that carry no content:
  whitespace of a JSON file, a zip header field no reader uses).

Never a load of other content. :func:`damaged_copies` gives the family of damaged
files; :func:`check_loader` tries a loader on each and lists the failures.

Examples
--------
>>> import json, tempfile
>>> from pathlib import Path
>>> path = Path(tempfile.mkdtemp()) / "record.json"
>>> good = json.dumps({"a": [1, 2, 3]}).encode()
>>> def load(p):
...     try:
...         return json.loads(Path(p).read_text(encoding="utf-8"))
...     except ValueError as error:
...         raise ValueError(f"{p}: not JSON ({error})") from None
>>> failures = check_loader(path, good, load, lambda a, b: a == b, flip_step=1)
>>> [label for label, _ in failures][:3]   # a key, a digit flipped: read as other content
['flip@2', 'flip@10', 'json-list']
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["check_loader", "damaged_copies", "every", "zip_offsets"]


def every(size: int, step: int, tail: int = 128) -> list[int]:
    """Every ``step``-th offset of a file of ``size`` bytes, and each of its last ``tail``."""
    return sorted(set(range(0, size, max(1, step))) | set(range(max(0, size - tail), size)))


def damaged_copies(good: bytes, seed: int = 0, flip_step: int = 7, overwrite_step: int = 61,
                   cut_step: int = 13, tail: int = 128, also: Iterable[int] = ()
                   ) -> Iterator[tuple[str, bytes]]:
    """Damaged versions of ``good``, each with a label saying what was done.

    Parameters
    ----------
    good : bytes
        The file as written.
    seed : int
        For the random bytes.
    flip_step, overwrite_step, cut_step : int
        One bit is flipped (a different bit each time) at every ``flip_step``-th offset,
        64 random bytes overwrite the file at every ``overwrite_step``-th, and the file is
        cut to every ``cut_step``-th length; each of the last ``tail`` offsets too.
    also : iterable of int
        More offsets to flip, overwrite and cut at (e.g. :func:`zip_offsets`: the
        headers, which a stride across a large file mostly misses).

    Yields
    ------
    (str, bytes)
        ``flip@N``, ``overwrite@N``, ``cut@N`` (the length kept), ``append-…``,
        ``zero-length``, ``text``, ``json-…``. Copies equal to ``good`` are skipped.
    """
    rng = np.random.default_rng(seed)
    size = len(good)
    extra = {o for o in also if 0 <= o < size}

    def offsets(size: int, step: int, tail: int) -> list[int]:
        return sorted(set(every(size, step, tail)) | extra)

    for offset in offsets(size, flip_step, tail):
        data = bytearray(good)
        data[offset] ^= 1 << (offset % 8)
        yield f"flip@{offset}", bytes(data)
    for offset in offsets(size, overwrite_step, tail):
        data = bytearray(good)
        width = min(64, size - offset)
        data[offset:offset + width] = rng.bytes(width)
        if bytes(data) != good:
            yield f"overwrite@{offset}", bytes(data)
    for length in offsets(size, cut_step, tail):
        yield f"cut@{length}", good[:length]
    for label, extra in (("append-zero", b"\x00"), ("append-newline", b"\n"),
                         ("append-text", b"more text\n"), ("append-random", rng.bytes(1000)),
                         ("append-copy", good[:200])):
        yield label, good + extra
    yield "zero-length", b""
    yield "text", b"this is not the file kizashi wrote\njust some notes\n"
    for label, value in (("json-list", [1, 2, 3]), ("json-number", 3),
                         ("json-object", {"format": "other", "tree": {}, "params": []})):
        yield label, json.dumps(value).encode()


def zip_offsets(good: bytes, data_bytes: int = 160) -> list[int]:
    """Every offset of a zip archive's structure: each record's local header and its
    first ``data_bytes`` (a ``.npy`` header, a pickle's start) and the central directory."""
    out: set[int] = set()
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        infos = archive.infolist()
        directory = archive.start_dir
    for info in infos:
        start = info.header_offset
        out.update(range(start, start + 30 + len(info.filename.encode()) + data_bytes))
    out.update(range(directory, len(good)))
    return sorted(o for o in out if o < len(good))


def check_loader(path: str | Path, good: bytes, load: Callable[[Path], Any],
                 same: Callable[[Any, Any], bool],
                 known: Callable[[str, bytes], bool] | None = None,
                 names: str | Path | None = None, **family: Any) -> list[tuple[str, str]]:
    """Write each of :func:`damaged_copies` ``(good)`` to ``path``, load it, list the failures.

    Parameters
    ----------
    path : path-like
        Where the file lives (it is overwritten; restored to ``good`` at the end).
    good : bytes
        The file as kizashi wrote it.
    load : callable
        kizashi's own loading path, given ``path``.
    same : callable
        ``same(loaded, reference)``: whether a load equals that of ``good``.
    known : callable, optional
        ``known(label, data)``: a load of other content that is a documented limit (e.g.
        the damage hit a part that carries no checksum), not counted as a failure.
    names : path-like, optional
        What an error must name (default: ``path``, the damaged file itself; a loader that
        reads a copy of it names the copy). Naming only the folder, or another file of
        it, is a failure.
    **family
        Passed to :func:`damaged_copies`.

    Returns
    -------
    list of (str, str)
        ``(label, what went wrong)``: a silent load of other content, a raw exception, or
        an error message that does not name the file or spans several lines.
    """
    path = Path(path)
    named = str(path if names is None else names)
    path.write_bytes(good)
    reference = load(path)
    failures: list[tuple[str, str]] = []
    for label, data in damaged_copies(good, **family):
        path.write_bytes(data)
        try:
            loaded = load(path)
        except ValueError as error:
            text = str(error)
            if named not in text:
                failures.append((label, f"error does not name the file: {text[:200]}"))
            elif "\n" in text or "Traceback" in text:
                failures.append((label, f"error of several lines: {text[:200]}"))
            continue
        except Exception as error:  # what this check looks for
            failures.append((label, f"raw {type(error).__name__}: {str(error)[:200]}"))
            continue
        if not same(loaded, reference) and not (known is not None and known(label, data)):
            failures.append((label, "loaded other content without an error"))
    path.write_bytes(good)
    return failures
