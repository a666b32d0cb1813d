"""A log's bytes: what is not UTF-8 (or NUL) is replaced in its own line, what is no text
is refused — the family of encodings a cluster's logs come in.

Expected text: each line decoded by Python's own UTF-8 decoder, with replacement only
for the lines that fail it strictly (or hold NUL), so the count of replaced lines is
computed here from the bytes, independently of the code under test.
"""

from __future__ import annotations

import gzip

import pytest

from kizashi.data.log_text import log_text
from kizashi.data.validation import DataError

LINES = [f"2026-03-09T10:00:{s:02d}Z n{s % 3} café ouvert {s}" for s in range(40)]


def _expected(data: bytes) -> tuple[str, int]:
    out, bad = [], 0
    for raw in data.split(b"\n"):
        try:
            text = raw.decode("utf-8")
            if "\x00" in text:
                raise UnicodeDecodeError("utf-8", raw, 0, 1, "NUL")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
            bad += 1
        out.append(text)
    return "\n".join(out), bad


def _mixed(encoding: str, every: int) -> bytes:
    return b"".join((line + "\n").encode(encoding if i % every == 0 else "utf-8")
                    for i, line in enumerate(LINES))


READ = {
    "utf-8": "".join(x + "\n" for x in LINES).encode(),
    "latin-1 throughout": "".join(x + "\n" for x in LINES).encode("latin-1"),
    "cp1252 throughout": "".join(x.replace("é", "€") + "\n" for x in LINES).encode("cp1252"),
    "latin-1 every 3rd line": _mixed("latin-1", 3),
    "latin-1 in one line": _mixed("latin-1", 1000),
    "invalid sequences": "".join(x + "\n" for x in LINES).encode().replace(b"ouvert",
                                                                           b"\xc3\x28uv", 7),
    "a truncated character at the end": "".join(x + "\n" for x in LINES).encode() + b"\xe6\x97",
    "a NUL byte": "".join(x + "\n" for x in LINES).encode().replace(b"ouvert", b"ou\x00vert", 1),
    "a NUL run after a crash": ("".join(x + "\n" for x in LINES) * 20).encode() + b"\x00" * 3000,
}


@pytest.mark.parametrize("gzipped", [False, True])
@pytest.mark.parametrize("case", sorted(READ))
def test_odd_bytes_are_replaced_in_their_lines(tmp_path, case, gzipped):
    data = READ[case]
    path = tmp_path / "a.log"
    path.write_bytes(gzip.compress(data) if gzipped else data)
    text, replaced = log_text(path)
    assert (text, replaced) == _expected(data)
    assert (replaced == 0) == (case == "utf-8")


REFUSED = {
    "binary": (bytes(range(256)) * 64, r"binary|NUL byte|control bytes"),
    "utf-16 without a byte-order mark": ("".join(x + "\n" for x in LINES).encode("utf-16-le"),
                                         r"UTF-16-LE text without a byte-order mark"),
    "damaged gzip": (gzip.compress(READ["utf-8"])[:-12], r"gzip|truncated|end"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_is_no_text_is_refused(tmp_path, case):
    data, message = REFUSED[case]
    path = tmp_path / "a.log"
    path.write_bytes(data)
    with pytest.raises(DataError, match=message):
        log_text(path)


def test_utf16_with_a_byte_order_mark_is_read_as_the_metric_readers_read_it(tmp_path):
    path = tmp_path / "a.log"
    path.write_bytes("".join(x + "\n" for x in LINES).encode("utf-16"))
    assert log_text(path) == ("".join(x + "\n" for x in LINES), 0)
