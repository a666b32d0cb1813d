"""What a file holds, found from its bytes: kind of file, compression, encoding, delimiter.

Everything here either returns text that can be parsed or raises a
:class:`~kizashi.data.validation.DataError` naming the file (and the line, where there
is one):

* only **regular files** are read: a FIFO would block forever and ``/dev/zero`` never
  ends, so both are refused before anything is opened;
* at most :data:`MAX_TEXT_BYTES` of text are read (after decompression);
* **gzip** is recognised by content; a damaged stream (bad header, corrupt or truncated
  data) is refused, never read in part; bzip2, xz, zstd, zip, 7z and lz4 are named
  and refused;
* **UTF-8** (with or without a byte-order mark) and **UTF-16 / UTF-32 with a
  byte-order mark** are decoded; UTF-16 without a mark, other encodings such as
  Latin-1 (bytes that are not UTF-8) and binary data (NUL bytes) are refused, naming
  the line of the first offending byte;
* the **delimiter** is ``,`` unless the header line holds more ``;`` (or tabs) than
  commas; a first line ``sep=;`` (as spreadsheets write) names it explicitly.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "cpu.csv"
>>> _ = path.write_bytes("timestamp;cpu\\n2024-01-01;1,5\\n".encode("utf-16"))
>>> text = read_text(path)
>>> text.splitlines()[0], sniff_delimiter(text)
('timestamp;cpu', (';', False))
"""

from __future__ import annotations

import codecs
import gzip
import os
import re
import stat
import zlib
from pathlib import Path

from kizashi.data.validation import DataError

#: The most text (after decompression) read from one file: 1 GiB.
MAX_TEXT_BYTES = 1 << 30
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
OTHER_COMPRESSIONS = (
    (b"BZh", "bzip2", "bunzip2"), (b"\xfd7zXZ\x00", "xz", "unxz"),
    (b"\x28\xb5\x2f\xfd", "zstd", "unzstd"), (b"PK\x03\x04", "zip", "unzip"),
    (b"7z\xbc\xaf\x27\x1c", "7z", "7z x"), (b"\x04\x22\x4d\x18", "lz4", "unlz4"),
)
BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF8, "utf-8-sig"),
)
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13}
_MIB = 1 << 20
_LINES = re.compile(r"[^\r\n]+")


def check_regular_file(path: str | Path) -> os.stat_result:
    """The file's status, if it is a regular file that can be read; else a DataError.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    os.stat_result
        Its status (size and kind).

    Raises
    ------
    DataError
        When it does not exist, is a directory, a FIFO, a device or a socket, or
        cannot be read.

    Examples
    --------
    >>> check_regular_file("/dev/zero")
    Traceback (most recent call last):
    ...
    kizashi.data.validation.DataError: /dev/zero: is a character device, not a regular file; kizashi reads only regular files (a pipe or a device may block or never end): save the data to a file first
    """  # noqa: E501
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read it ({error.strerror or error})") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"{path}: is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
        raise DataError(f"{path}: is {kind}, not a regular file; kizashi reads only regular "
                        f"files (a pipe or a device may block or never end): save the data "
                        f"to a file first")
    if not os.access(path, os.R_OK):
        raise DataError(f"{path}: cannot read it (permission denied)")
    return info


def read_head(path: str | Path, size: int = 8) -> bytes:
    """The first ``size`` bytes of a regular file (checked with :func:`check_regular_file`).

    Parameters
    ----------
    path : str or Path
        The file.
    size : int
        How many bytes.

    Returns
    -------
    bytes
        At most ``size`` bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = path.write_text("timestamp,value")
    >>> read_head(path, 4)
    b'time'
    """
    check_regular_file(path)
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError as error:
        raise DataError(f"{path}: cannot read it ({error.strerror or error})") from None


def is_parquet(path: str | Path) -> bool:
    """Whether to read ``path`` as Parquet: by its magic bytes or its name.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    bool
        True for a file starting with ``PAR1`` or named ``.parquet`` / ``.pq``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = path.write_text("timestamp,value\\n0,1\\n")
    >>> is_parquet(path)
    False
    """
    path = Path(path)
    return read_head(path, 4) == PARQUET_MAGIC or path.suffix.lower() in (".parquet", ".pq")


def read_bytes(path: str | Path, max_bytes: int | None = None) -> bytes:
    """The file's bytes, gzip-decompressed when it is gzip; at most ``max_bytes``.

    Parameters
    ----------
    path : str or Path
        A regular file.
    max_bytes : int, optional
        Refuse more than this (default :data:`MAX_TEXT_BYTES`).

    Returns
    -------
    bytes
        The (decompressed) content.

    Raises
    ------
    DataError
        For a file that is not regular, too large, damaged gzip, or another compression.

    Examples
    --------
    >>> import gzip, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv.gz"
    >>> _ = path.write_bytes(gzip.compress(b"timestamp,value\\n0,1\\n")[:-6])
    >>> read_bytes(path)
    Traceback (most recent call last):
    ...
    kizashi.data.validation.DataError: ...x.csv.gz: damaged gzip data (the compressed stream ends early: the file is truncated); recompress it from the original (gzip -t FILE checks a file)
    """  # noqa: E501
    limit = MAX_TEXT_BYTES if max_bytes is None else max_bytes
    info = check_regular_file(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
            handle.seek(0)
            if head.startswith(GZIP_MAGIC):
                data = _gunzip(path, handle, limit)
            else:
                for magic, name, tool in OTHER_COMPRESSIONS:
                    if head.startswith(magic):
                        raise DataError(f"{path}: is {name}-compressed; kizashi reads plain "
                                        f"or gzip-compressed text: decompress it first "
                                        f"({tool} FILE)")
                if info.st_size > limit:
                    raise _too_large(path, limit)
                # as much as the file holds: read(limit + 1) reserves the whole limit
                data = handle.read(info.st_size + 1)
                if len(data) > info.st_size:  # it grew since: read on, to the limit
                    data += handle.read(limit + 1 - len(data))
    except OSError as error:
        raise DataError(f"{path}: cannot read it ({error.strerror or error})") from None
    if len(data) > limit:
        raise _too_large(path, limit)
    return data


def _too_large(path: str | Path, limit: int) -> DataError:
    return DataError(f"{path}: more than {limit / _MIB:g} MiB of text, the most kizashi reads "
                     f"from one file (kizashi.data.sniffing.MAX_TEXT_BYTES); split the file or "
                     f"store it as Parquet")


def _gunzip(path: str | Path, handle, limit: int) -> bytes:
    try:
        with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
            return stream.read(limit + 1)
    except EOFError:
        reason = "the compressed stream ends early: the file is truncated"
    except gzip.BadGzipFile as error:
        reason = f"bad gzip header or trailer: {error}"
    except zlib.error as error:
        reason = f"corrupt compressed data: {error}"
    raise DataError(f"{path}: damaged gzip data ({reason}); recompress it from the original "
                    f"(gzip -t FILE checks a file)")


def line_at(data: bytes | str, offset: int) -> int:
    """The 1-based line holding position ``offset`` (``\\n``, ``\\r\\n`` and ``\\r`` end lines).

    Parameters
    ----------
    data : bytes or str
        The whole content.
    offset : int
        A position in it.

    Returns
    -------
    int
        The line number.

    Examples
    --------
    >>> line_at(b"a\\r\\nb\\rc\\nd", 7)
    4
    """
    head = data[:offset]
    if isinstance(head, bytes):
        return 1 + head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n")
    return 1 + head.count("\n") + head.count("\r") - head.count("\r\n")


def decode(data: bytes, source: str) -> str:
    """Text from bytes: UTF-8, or UTF-16/32 with a byte-order mark; otherwise a DataError.

    Parameters
    ----------
    data : bytes
        The file's (decompressed) content.
    source : str
        The file name, for messages.

    Returns
    -------
    str
        The text, without a byte-order mark.

    Raises
    ------
    DataError
        For UTF-16 without a byte-order mark, binary data, or bytes that are not UTF-8
        (such as Latin-1), naming the line of the first offending byte.

    Examples
    --------
    >>> decode("timestamp,value\\n".encode("utf-8-sig"), "x.csv")
    'timestamp,value\\n'
    >>> decode(b"timestamp,entity\\n0,caf\\xe9\\n", "x.csv")
    Traceback (most recent call last):
    ...
    kizashi.data.validation.DataError: x.csv, line 2: byte 0xE9 is not UTF-8 (the text looks Latin-1 or Windows-1252 encoded); kizashi reads UTF-8, or UTF-16 with a byte-order mark: convert the file, e.g. iconv -f LATIN1 -t UTF-8
    """  # noqa: E501
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding).removeprefix("\ufeff")
            except UnicodeDecodeError as error:
                raise DataError(f"{source}: invalid {encoding.upper().removesuffix('-SIG')} "
                                f"text after its byte-order mark (byte {error.start}: "
                                f"{error.reason})") from None
    sample = data[:65536]
    even, odd = sample[0::2], sample[1::2]
    if len(sample) >= 4:
        for zeros, other, order in ((odd, even, "LE"), (even, odd, "BE")):
            if zeros.count(0) > 0.4 * len(zeros) and other.count(0) < 0.1 * len(other):
                raise DataError(f"{source}: looks like UTF-16-{order} text without a "
                                f"byte-order mark; save it as UTF-8 (or UTF-16 with a "
                                f"byte-order mark)")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DataError(f"{source}, line {line_at(data, nul)}: NUL byte: binary data, not a "
                        f"text (CSV) file")
    if sample and sum(sample.count(c) for c in _CONTROL) > 0.3 * len(sample):
        raise DataError(f"{source}: mostly control bytes: binary data, not a text (CSV) file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = data[error.start]
        high = sum(1 for b in sample if b >= 0x80)
        looks = ("the text looks Latin-1 or Windows-1252 encoded" if high < 0.3 * len(sample)
                 else "binary data?")
        raise DataError(
            f"{source}, line {line_at(data, error.start)}: byte 0x{byte:02X} is not UTF-8 "
            f"({looks}); kizashi reads UTF-8, or UTF-16 with a byte-order mark: convert the "
            f"file, e.g. iconv -f LATIN1 -t UTF-8"
        ) from None


def read_text(path: str | Path, max_bytes: int | None = None) -> str:
    """A file's text: regular file, at most ``max_bytes``, gzip or plain, decoded.

    Parameters
    ----------
    path : str or Path
        The file.
    max_bytes : int, optional
        Refuse more than this (default :data:`MAX_TEXT_BYTES`).

    Returns
    -------
    str
        The decoded text.

    Examples
    --------
    >>> import gzip, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = path.write_bytes(gzip.compress("timestamp,value\\n".encode("utf-16")))
    >>> read_text(path)
    'timestamp,value\\n'
    """
    return decode(read_bytes(path, max_bytes), str(path))


def sniff_delimiter(text: str) -> tuple[str, bool]:
    """The field delimiter of CSV text, from its first non-blank line.

    ``,`` unless that line holds more ``;`` or tabs than commas; a first line
    ``sep=X`` (as spreadsheets write) names ``X``.

    Parameters
    ----------
    text : str
        The file's text.

    Returns
    -------
    delimiter : str
        One character.
    sep_line : bool
        Whether the first line is a ``sep=`` line (to be skipped).

    Examples
    --------
    >>> sniff_delimiter("timestamp;cpu;mem\\n")
    (';', False)
    >>> sniff_delimiter("sep=;\\ntimestamp;cpu\\n")
    (';', True)
    """
    first = next((m.group(0) for m in _LINES.finditer(text) if m.group(0).strip()), "")
    if len(first) == 5 and first.lower().startswith("sep="):
        return first[4], True
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return (best if counts[best] > 0 else ","), False
