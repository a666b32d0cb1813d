"""A log file's text: odd bytes in a few lines are replaced there, not a refusal.

Metric files are refused for a byte that is not UTF-8 (a value must be read exactly:
:func:`kizashi.data.sniffing.decode`). A log is different: one daemon writes Latin-1,
another UTF-8, a crash leaves a run of NUL bytes, and converting the whole file (the
advice for a metric file) would garble its UTF-8 lines. So :func:`log_text` decodes a
log as UTF-8 with each byte that is not replaced by U+FFFD in its own line (NUL bytes
too), and counts those lines; the message's template keeps its other words. What is no
text at all is still refused as the metric readers refuse it: mostly control bytes,
UTF-16 without a byte-order mark, a damaged gzip stream, a file over the size limit.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "mixed.log"
>>> _ = path.write_bytes("2026-03-09T10:00:00Z n1 café\\n".encode()
...                      + "2026-03-09T10:00:01Z n1 café\\n".encode("latin-1"))
>>> text, replaced = log_text(path)
>>> text.splitlines()[1], replaced
('2026-03-09T10:00:01Z n1 caf\\ufffd', 1)
"""

from __future__ import annotations

from pathlib import Path

from kizashi.data.sniffing import _CONTROL, BOMS, decode, read_bytes
from kizashi.data.validation import DataError

__all__ = ["log_text"]


def _no_text(sample: bytes) -> bool:
    """Binary data or UTF-16 without a byte-order mark, judged on the file's first 64 KiB
    as :func:`~kizashi.data.sniffing.decode` does, with the bytes that are not UTF-8
    counted with the control bytes: over 30 % of them is no text (Latin-1 prose has a
    few per cent, an executable or an archive half)."""
    even, odd = sample[0::2], sample[1::2]
    if len(sample) >= 4 and any(zeros.count(0) > 0.4 * len(zeros)
                                and other.count(0) < 0.1 * len(other)
                                for zeros, other in ((odd, even), (even, odd))):
        return True
    invalid = sample.decode("utf-8", errors="replace").count("\ufffd")
    odd_bytes = sum(sample.count(c) for c in _CONTROL) + invalid
    return bool(sample) and odd_bytes > 0.3 * len(sample)


def log_text(path: str | Path) -> tuple[str, int]:
    """The text of the log at ``path`` (plain or gzip) and how many of its lines had
    bytes replaced (module docs); a ``DataError`` for what is no text."""
    data = read_bytes(path)
    try:
        return decode(data, str(path)), 0
    except DataError:
        if any(data.startswith(bom) for bom, _ in BOMS) or _no_text(data[:65536]):
            raise
    replaced = 0
    lines = data.split(b"\n")
    for i, raw in enumerate(lines):
        try:
            raw.decode("utf-8")
            if b"\x00" not in raw:
                continue
        except UnicodeDecodeError:
            pass
        lines[i] = raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd").encode()
        replaced += 1
    return b"\n".join(lines).decode("utf-8"), replaced
