"""Odd files, generated: read exactly as written, or refused with one line naming the file.

Issue 13, classes 3 (timestamps in other units, dates beyond datetime64[ns]),
4 (locale-shaped numbers, rows whose field count disagrees with the header) and
6 (damaged gzip, binary and non-UTF-8 text, control characters in names, non-regular
files, duplicate column names, line numbers after quoted newlines).

Every accepted file is checked against the generator's own inputs (integer nanoseconds
and values chosen here, before any text is written), never against the reader's output;
every refused one must raise a ``ValueError`` whose message names the file, and the
line where there is one.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import lzma
import os
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.data import sniffing
from kizashi.data.readers import read_series, read_table
from kizashi.data.validation import DataError, DataWarning

BASE_NS = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z
STEP_NS = 60 * 10**9
N_ROWS = 6
METRICS = ("cpu", "mem", "disk")
LONG_SERIES = (("node1", "cpu"), ("node1", "mem"), ("node2", "cpu"))
UTC = dt.UTC

# unit → (ns per written unit, the sub-unit offset added to row i, in ns)
UNITS: dict[str, tuple[int | None, int]] = {
    "iso": (None, 1_000_001),            # ISO 8601 text, 9 fraction digits, "Z"
    "iso_offset": (None, 250_000_000),   # ISO 8601 text with +09:00
    "s": (10**9, 0),
    "ms": (10**6, 7 * 10**6),
    "us": (10**3, 7_001 * 10**3),
    "ns": (1, 7_000_001),
    "s_fraction": (10**9, 250_000_001),  # "1704067260.250000001"
    "ms_fraction": (10**6, 1_001),       # "1704067260007.001001"
}


def expected_ns(unit: str) -> list[int]:
    """The generator's timestamps: whole minutes from 2024-01-01 plus a sub-unit offset."""
    return [BASE_NS + i * STEP_NS + i * UNITS[unit][1] for i in range(N_ROWS)]


def expected_value(i: int, j: int) -> float:
    return (i * 3 + j) * 0.25 - 1.0  # exact in binary and in short decimal text


def write_time(ns: int, unit: str) -> str:
    if unit in ("iso", "iso_offset"):
        seconds, fraction = divmod(ns, 10**9)
        zone = UTC if unit == "iso" else dt.timezone(dt.timedelta(hours=9))
        when = dt.datetime.fromtimestamp(seconds, tz=zone)
        text = when.strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}"
        return text + ("Z" if unit == "iso" else "+09:00")
    factor = UNITS[unit][0]
    whole, rest = divmod(ns, factor)
    if unit.endswith("_fraction"):
        return f"{whole}.{rest:0{len(str(factor)) - 1}d}"
    assert rest == 0
    return str(whole)


@dataclass(frozen=True)
class Container:
    """How a CSV is stored: delimiter, decimal mark, encoding, line end, compression."""

    delimiter: str = ","
    decimal: str = "."
    encoding: str = "utf-8"
    newline: str = "\n"
    compress: bool = False
    sep_line: bool = False

    def number(self, value: float) -> str:
        return repr(value).replace(".", self.decimal)

    def encode(self, lines: list[str]) -> bytes:
        if self.sep_line:
            lines = [f"sep={self.delimiter}", *lines]
        data = (self.newline.join(lines) + self.newline).encode(self.encoding)
        return gzip.compress(data) if self.compress else data


CONTAINERS = {
    "plain": Container(),
    "gzip-bom-crlf": Container(encoding="utf-8-sig", newline="\r\n", compress=True),
    "utf16-bom": Container(encoding="utf-16"),
    "semicolon-decimal-comma": Container(delimiter=";", decimal=","),
    "gzip-utf16-sep-line-semicolon": Container(delimiter=";", decimal=",", encoding="utf-16",
                                               compress=True, sep_line=True),
    "tab-crlf": Container(delimiter="\t", newline="\r\n"),
}


def csv_lines(layout: str, unit: str, container: Container) -> list[str]:
    stamps = [write_time(ns, unit) for ns in expected_ns(unit)]
    d = container.delimiter
    if layout == "wide":
        lines = [d.join(("timestamp", *METRICS))]
        for i, stamp in enumerate(stamps):
            lines.append(d.join([stamp] + [container.number(expected_value(i, j))
                                           for j in range(len(METRICS))]))
        return lines
    lines = [d.join(("timestamp", "entity", "metric", "value"))]
    for i, stamp in enumerate(stamps):
        for j, (entity, metric) in enumerate(LONG_SERIES):
            lines.append(d.join((stamp, entity, metric, container.number(expected_value(i, j)))))
    return lines


def check_frame(frame, stamps: list[int], keys: list[tuple[str, str]], rows_in: int,
                long: bool = False) -> None:
    """The frame holds exactly the generator's rows: timestamps, values, keys, row count."""
    assert frame.timestamps.astype(np.int64).tolist() == stamps
    assert frame.keys == keys
    want = [[expected_value(i, j) for j in range(len(keys))] for i in range(len(stamps))]
    assert frame.values.tolist() == want
    assert rows_in == (frame.n_times * frame.n_series if long else frame.n_times)


# ----------------------------------------------------------------- accepted: CSV
@pytest.mark.parametrize("container", list(CONTAINERS), ids=list(CONTAINERS))
@pytest.mark.parametrize("unit", list(UNITS))
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_csv_in_every_unit_and_container_reads_exactly(tmp_path, layout, unit, container):
    box = CONTAINERS[container]
    lines = csv_lines(layout, unit, box)
    path = tmp_path / ("node9.csv.gz" if box.compress else "node9.csv")
    path.write_bytes(box.encode(lines))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # nothing to repair in these
        frame = read_series(path)
    keys = ([("node9", m) for m in METRICS] if layout == "wide" else list(LONG_SERIES))
    check_frame(frame, expected_ns(unit), keys, len(lines) - 1, layout == "long")


# ------------------------------------------------------------- accepted: Parquet
def _parquet_time(kind: str) -> tuple[object, list[int]]:
    """A pyarrow time column of the given kind and the nanoseconds it stands for."""
    import pyarrow as pa

    plan = {  # kind → (per-row offset in ns, column builder from ns)
        "int64_s": (0, lambda ns: pa.array([x // 10**9 for x in ns], pa.int64())),
        "uint32_s": (0, lambda ns: pa.array([x // 10**9 for x in ns], pa.uint32())),
        "int64_ms": (7 * 10**6, lambda ns: pa.array([x // 10**6 for x in ns], pa.int64())),
        "int64_us": (7_001_000, lambda ns: pa.array([x // 10**3 for x in ns], pa.int64())),
        "int64_ns": (7_000_001, lambda ns: pa.array(ns, pa.int64())),
        "float64_s": (250_000_000, lambda ns: pa.array([x / 10**9 for x in ns], pa.float64())),
        "float64_ms": (500_000, lambda ns: pa.array([x / 10**6 for x in ns], pa.float64())),
        "timestamp_ms_utc": (3 * 10**6, lambda ns: pa.array([x // 10**6 for x in ns],
                                                            pa.timestamp("ms", tz="UTC"))),
        "timestamp_us": (3_001_000, lambda ns: pa.array([x // 10**3 for x in ns],
                                                        pa.timestamp("us"))),
        "timestamp_ns_tokyo": (3_000_001, lambda ns: pa.array(
            ns, pa.timestamp("ns", tz="Asia/Tokyo"))),
        "string_iso": (1_000_001, lambda ns: pa.array([write_time(x, "iso") for x in ns])),
    }
    offset, build = plan[kind]
    ns = [BASE_NS + i * STEP_NS + i * offset for i in range(N_ROWS)]
    return build(ns), ns


PARQUET_TIMES = ["int64_s", "uint32_s", "int64_ms", "int64_us", "int64_ns", "float64_s",
                 "float64_ms", "timestamp_ms_utc", "timestamp_us", "timestamp_ns_tokyo",
                 "string_iso"]


@pytest.mark.parametrize("kind", PARQUET_TIMES)
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_parquet_time_columns_of_every_type_read_exactly(tmp_path, layout, kind):
    import pyarrow as pa
    import pyarrow.parquet as pq

    time, stamps = _parquet_time(kind)
    if layout == "wide":
        table = pa.table({"timestamp": time, **{
            m: pa.array([expected_value(i, j) for i in range(N_ROWS)])
            for j, m in enumerate(METRICS)}})
        keys = [("node9", m) for m in METRICS]
    else:
        k = len(LONG_SERIES)
        table = pa.table({
            "timestamp": pa.concat_arrays([time.take([i] * k) for i in range(N_ROWS)]),
            "entity": [e for _ in range(N_ROWS) for e, _ in LONG_SERIES],
            "metric": [m for _ in range(N_ROWS) for _, m in LONG_SERIES],
            "value": [expected_value(i, j) for i in range(N_ROWS) for j in range(k)],
        })
        keys = list(LONG_SERIES)
    path = tmp_path / "node9.parquet"
    pq.write_table(table, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        frame = read_series(path)
    check_frame(frame, stamps, keys, table.num_rows, layout == "long")


def test_parquet_is_recognised_by_content_whatever_its_name(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    time, stamps = _parquet_time("int64_ms")
    path = tmp_path / "node9.csv"
    pq.write_table(pa.table({"timestamp": time, "cpu": [expected_value(i, 0)
                                                        for i in range(N_ROWS)]}), path)
    check_frame(read_series(path), stamps, [("node9", "cpu")], N_ROWS)


# ------------------------------------------------- accepted with a documented repair
def test_control_characters_in_names_are_escaped_with_a_warning(tmp_path):
    names = [("rack\x1fnode1", "cpu"), ("node2", "load\x01avg"), ("node\t3", "mem")]
    lines = ["timestamp,entity,metric,value"]
    for i, ns in enumerate(expected_ns("s")):
        for j, (entity, metric) in enumerate(names):
            lines.append(f"{write_time(ns, 's')},{entity},{metric},{expected_value(i, j)!r}")
    path = tmp_path / "ctrl.csv"
    path.write_text("\n".join(lines) + "\n")
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always", DataWarning)
        frame = read_series(path)
    messages = [str(w.message) for w in got]
    assert len(messages) == 2, messages
    assert re.match(rf"{re.escape(str(path))}: 2 entity name\(s\) with control", messages[0])
    assert "1 metric name(s)" in messages[1] and "lines 3, 6, 9" in messages[1]
    want = [("rack\\x1fnode1", "cpu"), ("node2", "load\\x01avg"), ("node\\t3", "mem")]
    check_frame(frame, expected_ns("s"), want, len(lines) - 1, long=True)


def test_trailing_control_character_does_not_merge_two_series(tmp_path):
    # Python's str.strip() would cut the \x1f (it counts as space) and merge the series.
    path = tmp_path / "tail.csv"
    path.write_text("timestamp,entity,metric,value\n" + "".join(
        f"{write_time(ns, 'ns')},{e},cpu,{expected_value(i, j)!r}\n"
        for i, ns in enumerate(expected_ns("ns")) for j, e in enumerate(("n1\x1f", " n1 "))))
    with pytest.warns(DataWarning, match=r"tail\.csv: 1 entity name\(s\) with control"):
        frame = read_series(path)
    check_frame(frame, expected_ns("ns"), [("n1\\x1f", "cpu"), ("n1", "cpu")], 2 * N_ROWS,
                long=True)


def test_control_character_in_a_wide_column_name_is_escaped(tmp_path):
    path = tmp_path / "node9.csv"
    path.write_text("timestamp,cpu\x07\n" + "".join(
        f"{write_time(ns, 'ms')},{expected_value(i, 0)!r}\n"
        for i, ns in enumerate(expected_ns("ms"))))
    with pytest.warns(DataWarning, match=r"node9\.csv: 1 column name\(s\).*line 1"):
        frame = read_series(path)
    check_frame(frame, expected_ns("ms"), [("node9", "cpu\\x07")], N_ROWS)


def test_quoted_newline_keeps_file_line_numbers(tmp_path):
    # Row 1's entity spans lines 2-3, so the duplicate on line 6 is reported as line 6.
    path = tmp_path / "quoted.csv"
    path.write_text('timestamp,entity,metric,value\n0,"rack 1\nnode 1",cpu,1\n'
                    '60,n2,cpu,2\n120,n2,cpu,3\n120,n2,cpu,4\n')
    with pytest.warns(DataWarning):
        frame = read_series(path)
    assert frame.keys == [("rack 1\\nnode 1", "cpu"), ("n2", "cpu")]
    assert frame.report.superseded == [(5, "1970-01-01T00:02:00.000000000", "n2", "cpu", 3.0)]
    _, lines = read_table(path)
    assert lines.tolist() == [2, 4, 5, 6]


def test_dates_without_a_time_are_not_taken_for_offsets(tmp_path):
    # "2024-01-01" ends in "-01", which is not a UTC offset: no zone warning, no mix error.
    path = tmp_path / "days.csv"
    days = [BASE_NS + i * 86_400 * 10**9 for i in range(3)]
    path.write_text("timestamp,cpu\n" + "".join(
        f"{write_time(ns, 'iso')[:10]},{expected_value(i, 0)!r}\n" for i, ns in enumerate(days)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        frame = read_series(path)
    check_frame(frame, days, [("days", "cpu")], 3)


def test_small_epoch_numbers_are_seconds(tmp_path):
    # The documented rule: below 1e11 is seconds, so 0..300 are the first five minutes.
    path = tmp_path / "x.csv"
    path.write_text("timestamp,v\n0,1\n60,2\n120,3\n")
    assert read_series(path).epoch_seconds.tolist() == [0.0, 60.0, 120.0]


# ----------------------------------------------------------------------- refused
def _long(rows: list[str], header: str = "timestamp,entity,metric,value") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _gz_damaged(cut: slice | None = None, crc: bool = False, flip: int | None = None) -> bytes:
    data = bytearray(gzip.compress(b"timestamp,cpu\n" + b"".join(
        f"{i * 60},{i}\n".encode() for i in range(200)), mtime=0))
    if crc:
        data[-8:-4] = b"\0\0\0\0"
    if flip is not None:
        data[flip] ^= 0xFF
    return bytes(data[cut] if cut else data)


def _zip() -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.csv", "timestamp,cpu\n0,1\n")
    return buffer.getvalue()


MS = 1_704_067_200_000
REFUSED = [
    # (id, bytes, line named (or None), what the message must also say)
    # class 3: units and range
    ("seconds-and-ms-mixed", b"timestamp,cpu\n1704067200,1\n1704067260,2\n1704067320000,3\n",
     4, r"different units.*1704067320000 here reads as milliseconds.*line 2 as seconds"),
    ("seconds-after-2262", b"timestamp,cpu\n1704067200,1\n10413792000,2\n", 3,
     r"10413792000 read as seconds .* 2300-01-01T00:00:00, outside 1677-09-21"),
    ("ns-beyond-int64", b"timestamp,cpu\n9300000000000000000,1\n", 2,
     r"read as nanoseconds .*outside"),
    ("float-seconds-after-2262", b"timestamp,cpu\n1704067200.5,1\n99999999999.5,2\n", 3,
     r"outside"),
    ("iso-after-2262", b"timestamp,cpu\n2024-01-01T00:00:00Z,1\n2300-01-01T00:00:00Z,2\n", 3,
     r"'2300-01-01T00:00:00Z' is outside"),
    ("iso-before-1677", b"timestamp,cpu\n1600-01-01 00:00:00,1\n2024-01-01 00:00:00,2\n", 2,
     r"outside"),
    ("iso-after-2262-long-gzip", gzip.compress(_long(["2024-01-01,a,cpu,1",
                                                      "2262-04-12,a,cpu,2"])), 3, r"outside"),
    ("numbers-among-dates", b"timestamp,cpu\n2024-01-01T00:00:00Z,1\n1704067260,2\n", 3,
     r"mixes dates and epoch numbers"),
    # class 4: locale-shaped numbers and field counts
    ("unquoted-decimal-comma-wide", b"timestamp,cpu,mem\n2024-01-01T00:00:00Z,1.5,2\n"
     b"2024-01-01T00:01:00Z,1,5,2\n", 3, r"4 fields where the header \(line 1\) has 3.*decimal"),
    ("decimal-comma-every-row", b"timestamp,a,b,c\n2024-01-01T00:00:00Z,1,5,2,0\n", 2,
     r"5 fields where the header \(line 1\) has 4"),
    ("unquoted-decimal-comma-long", _long([f"{MS},n1,cpu,1", f"{MS + 60000},n1,cpu,1,5"]), 3,
     r"5 fields"),
    ("short-row", b"timestamp,cpu,mem\n0,1,2\n60,3,4\n120,5\n", 4, r"2 fields.*has 3"),
    ("quoted-decimal-comma", b'timestamp,cpu\n0,1\n60,"1,5"\n', 3, r"decimal comma"),
    ("semicolon-mixed-marks", b"timestamp;cpu\n0;1,5\n60;1.234\n", 3,
     r"'1\.234' has a decimal point.*line 2: '1,5'"),
    ("semicolon-thousands-grouping", b"timestamp;cpu\n0;1.234,5\n", 2, r"not a finite number"),
    ("semicolon-ragged", b"timestamp;cpu\n0;1\n60;2;3\n", 3, r"3 fields"),
    ("tab-comma-is-not-a-decimal-mark", b"timestamp\tcpu\n0\t1.5\n60\t1,234\n", 3,
     r"'1,234' is not a finite number.*decimal comma"),
    # class 6: quoting, names, encodings, compression, binary
    ("error-after-quoted-newline", _long(['0,"rack 1\nnode 1",cpu,1', "60,n2,cpu,2",
                                          "120,n2,cpu,oops"]), 5, r"'oops'"),
    ("ragged-after-quoted-newline", b'timestamp,cpu\n0,"1\n"\n60,2\n120,3,4\n', 5, r"3 fields"),
    ("unclosed-quote", b'timestamp,cpu\n0,1\n60,"2\n120,3\n', 3, r"quote"),
    ("stray-quote", b'timestamp,cpu\n0,1\n60,"2"x\n', 3, r"quote"),
    ("duplicate-wide-column", b"timestamp,cpu,mem,cpu\n0,1,2,3\n", 1,
     r"'cpu' appears twice.*columns 2 and 4"),
    ("duplicate-after-strip", b"timestamp,cpu, cpu \n0,1,2\n", 1,
     r"columns 2 \('cpu'\) and 3 \(' cpu '\) differ only in the white space"),
    ("empty-column-name", b"timestamp,cpu,\n0,1,\n", 1,
     r"column 3 of the header has no name.*trailing delimiter"),
    ("comment-before-header", b"# exported by grafana\ntimestamp,cpu\n0,1\n60,2\n", 2,
     r"2 fields where the header \(line 1\) has 1.*comment line starting with '#'"),
    ("comment-among-rows", b"timestamp,cpu\n0,1\n# restart\n60,2\n", 3,
     r"1 fields.*comment line starting with '#'"),
    ("indented-comment-with-commas", b"timestamp,cpu\n0,1\n  # a, b, c\n60,2\n", 3,
     r"3 fields.*comment line starting with '#'"),
    # a filtered frame's index (no plain row counter, which is dropped: test_index_columns)
    ("pandas-index-column", b",timestamp,cpu\n3,0,1\n7,60,2\n", 1,
     r"column 1 of the header has no name.*row index.*index=False"),
    ("empty-middle-column-name", b"timestamp,,cpu\n0,5,1\n", 1,
     r"column 2 of the header has no name.*delimiter twice"),
    ("ambiguous-time-column", b"timestamp,Timestamp,cpu\n0,0,1\n", None, r"differ only in case"),
    ("control-names-collide", _long(["0,a\x01,cpu,1", "0,a\\x01,cpu,2"]), 3,
     r"equals another entity name"),
    ("latin1", _long(["0,caf\xe9,cpu,1"]).replace(b"\xc3\xa9", b"\xe9"), 2,
     r"byte 0xE9 is not UTF-8.*Latin-1"),
    ("latin1-third-line-crlf", "timestamp,entity,metric,value\r\n0,a,cpu,1\r\n60,Zürich,cpu,2\r\n"
     .encode("latin-1"), 3, r"0xFC is not UTF-8"),
    ("cp1252-in-gzip", gzip.compress("timestamp,entity,metric,value\n0,a,cpu,1\n"
                                     "60,\u201cb\u201d,cpu,2\n".encode("cp1252")), 3,
     r"0x93 is not UTF-8"),
    ("utf16-without-bom", _long(["0,a,cpu,1"]).decode().encode("utf-16-le"), None,
     r"UTF-16-LE .*without a byte-order mark"),
    ("utf16be-without-bom", _long(["0,a,cpu,1"]).decode().encode("utf-16-be"), None,
     r"UTF-16-BE"),
    ("utf16-bom-odd-length", b"\xff\xfe" + "timestamp,cpu\n".encode("utf-16-le") + b"x", None,
     r"invalid UTF-16"),
    ("nul-byte", b"timestamp,cpu\n0,1\n60,\x002\n", 3, r"NUL byte"),
    ("binary-random", bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8)),
     None, r"binary|not UTF-8"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), None, r"binary"),
    ("gzip-bad-header", b"\x1f\x8b\x09\x00garbage-garbage", None, r"damaged gzip"),
    ("gzip-truncated", _gz_damaged(cut=slice(0, -30)), None, r"damaged gzip.*truncated"),
    ("gzip-header-only", _gz_damaged(cut=slice(0, 10)), None, r"damaged gzip"),
    ("gzip-crc", _gz_damaged(crc=True), None, r"damaged gzip.*CRC"),
    ("gzip-corrupt-data", _gz_damaged(flip=14), None, r"damaged gzip"),
    ("gzip-latin1-inside", gzip.compress("timestamp,x\n0,\xe9\n".encode("latin-1")), 2,
     r"not UTF-8"),
    ("bzip2", bz2.compress(b"timestamp,cpu\n0,1\n"), None, r"bzip2-compressed"),
    ("xz", lzma.compress(b"timestamp,cpu\n0,1\n"), None, r"xz-compressed"),
    ("zip", _zip(), None, r"zip-compressed"),
    ("empty", b"", None, r"empty file"),
    ("bom-only", b"\xef\xbb\xbf", None, r"empty file"),
    ("header-only-utf16", "timestamp,cpu\n".encode("utf-16"), None, r"no data rows"),
    ("csv-named-parquet", b"timestamp,cpu\n0,1\n", None, r"PAR1"),
]


@pytest.mark.filterwarnings("ignore::kizashi.data.validation.DataWarning")
@pytest.mark.parametrize(("name", "data", "line", "what"), REFUSED,
                         ids=[case[0] for case in REFUSED])
def test_odd_file_is_refused_with_one_line_naming_file_and_line(tmp_path, name, data, line,
                                                                 what):
    path = tmp_path / (f"{name}.parquet" if name == "csv-named-parquet" else f"{name}.csv")
    path.write_bytes(data)
    with pytest.raises(ValueError) as caught:
        read_series(path)
    message = str(caught.value)
    assert isinstance(caught.value, DataError)
    assert str(path) in message and "\n" not in message
    if line is not None:
        assert re.search(rf"\bline {line}\b", message), message
    assert re.search(what, message), message


def _parquet_refused(kind: str):
    import pyarrow as pa

    ok = pa.array([1.0, 2.0])
    tables = {
        "timestamp-us-after-2262": ({"timestamp": pa.array(
            [BASE_NS // 1000, 10_413_792_000 * 10**6], pa.timestamp("us")), "cpu": ok}, 2),
        "timestamp-s-before-1677": ({"timestamp": pa.array(
            [-10_000_000_000, 0], pa.timestamp("s")), "cpu": ok}, 1),
        "int-seconds-after-2262": ({"timestamp": pa.array([1_704_067_200, 10_413_792_000]),
                                    "cpu": ok}, 2),
        "int-ms-and-s-mixed": ({"timestamp": pa.array([MS, MS + 60_000, 1_704_067_320]),
                                "cpu": pa.array([1.0, 2.0, 3.0])}, 3),
        "float-ms-missing": ({"timestamp": pa.array([MS / 1, None], pa.float64()),
                              "cpu": ok}, 2),
        "timestamp-missing": ({"timestamp": pa.array([BASE_NS, None], pa.timestamp("ns")),
                               "cpu": ok}, 2),
    }
    columns, row = tables[kind]
    return pa.table(columns), row


@pytest.mark.parametrize("kind", ["timestamp-us-after-2262", "timestamp-s-before-1677",
                                  "int-seconds-after-2262", "int-ms-and-s-mixed",
                                  "float-ms-missing", "timestamp-missing"])
def test_bad_parquet_time_column_is_refused_naming_the_row(tmp_path, kind):
    import pyarrow.parquet as pq

    table, row = _parquet_refused(kind)
    path = tmp_path / f"{kind}.parquet"
    pq.write_table(table, path)
    with pytest.raises(DataError, match=rf"{re.escape(str(path))}, row {row}, column "
                                        rf"'timestamp'"):
        read_series(path)


def test_parquet_duplicate_columns_and_damage_are_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "dup.parquet"
    pq.write_table(pa.table([pa.array([0, 60]), pa.array([1.0, 2.0]), pa.array([3.0, 4.0])],
                            names=["timestamp", "cpu", "cpu"]), path)
    with pytest.raises(DataError, match=r"dup\.parquet: column name 'cpu' appears twice"):
        read_series(path)
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.table({"timestamp": [0, 60], "cpu": [1.0, 2.0]}), whole)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole.read_bytes()[:-20])
    with pytest.raises(DataError, match=r"cut\.parquet: cannot read as Parquet"):
        read_series(cut)


# ------------------------------------------------------------ files that are not files
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_refused_before_it_is_opened(tmp_path):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)  # opening it for reading would block: nothing writes to it
    with pytest.raises(DataError, match=r"pipe\.csv: is a FIFO .*not a regular file"):
        read_series(path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_endless_device_is_refused():
    with pytest.raises(DataError, match=r"^/dev/zero: is a character device"):
        read_series("/dev/zero")


def test_directory_and_missing_file_are_refused(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        read_series(tmp_path)
    with pytest.raises(DataError, match=r"nothing\.csv: no such file"):
        read_series(tmp_path / "nothing.csv")


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip-bomb"])
def test_more_text_than_the_limit_is_refused(tmp_path, monkeypatch, compress):
    monkeypatch.setattr(sniffing, "MAX_TEXT_BYTES", 10_000)
    data = b"timestamp,cpu\n" + b"0,1\n" * 5000
    path = tmp_path / "big.csv"
    path.write_bytes(gzip.compress(data) if compress else data)
    assert len(path.read_bytes()) < 10_000 or not compress
    with pytest.raises(DataError, match=r"big\.csv: more than [0-9.]+ MiB of text"):
        read_series(path)


# --------------------------------------------------------------------- through the CLI
def _cli(path: Path):
    return CliRunner().invoke(cli, ["detect", str(path), "-q"])


@pytest.mark.parametrize(("name", "data", "message"), [
    ("truncated.csv.gz", _gz_damaged(cut=slice(0, -30)), "damaged gzip data"),
    ("wide.csv", b"timestamp,cpu,mem\n2024-01-01T00:00:00Z,1,5,2\n", "line 2 has 4 fields"),
    ("latin1.csv", _long(["0,caf\xe9,cpu,1"]).replace(b"\xc3\xa9", b"\xe9"),
     "line 2: byte 0xE9 is not UTF-8"),
    ("far.csv", b"timestamp,cpu\n1704067200,1\n10413792000,2\n", "line 3, column 'timestamp'"),
    ("dup.csv", b"timestamp,cpu,cpu\n0,1,2\n60,3,4\n", "'cpu' appears twice"),
])
def test_cli_refuses_odd_files_in_one_line(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    result = _cli(path)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith(f"Error: {path}")
    assert message in lines[0]
    assert "Traceback" not in result.output and "Aborted" not in result.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_cli_refuses_a_fifo_without_blocking(tmp_path):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    result = _cli(path)
    assert result.exit_code == 1 and "is a FIFO" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_reads_millisecond_timestamps_as_distinct_rows(tmp_path):
    path = tmp_path / "ms.csv"
    path.write_bytes(Container().encode(csv_lines("wide", "ms", Container())))
    result = _cli(path)
    assert result.exit_code == 0, result.output
    assert f"{N_ROWS} time steps, 3 series" in result.output
    assert "duplicate" not in result.output


# ------------------------------------------------ the fast splitter agrees with csv
def test_fast_split_of_regular_text_equals_the_csv_module():
    """Quote-free text whose rows all match the header is split by pandas' C parser;
    on random such text (blank lines, spaces, control characters, CRLF) it must give
    exactly what the :mod:`csv` path gives."""
    from kizashi.data.readers import _split_fields, _split_regular
    from kizashi.data.sniffing import sniff_delimiter

    rng = np.random.default_rng(13)
    alphabet = [*"ab1.,;\t ", "\x1a", "\x0b", "\x0c", "\x01", "é", "\u3000", "#", "'"]
    compared = 0
    for _ in range(400):
        n = int(rng.integers(1, 4))
        rows = []
        for _ in range(int(rng.integers(1, 6))):
            if rng.random() < 0.15:
                rows.append(str(rng.choice(["", " ", "\t", ",", ",,", " , "])))
            else:
                rows.append(",".join("".join(rng.choice(alphabet, int(rng.integers(0, 4))))
                                     for _ in range(n)))
        text = str(rng.choice(["\n", "\r\n"])).join(rows) + "\n"
        if not text.strip():
            continue
        delimiter, sep_line = sniff_delimiter(text)
        for header in (True, False):
            fast = _split_regular(text, delimiter, sep_line, header)
            if fast is None:
                continue
            slow = _split_fields(Path("x.csv"), text, delimiter, sep_line, header)
            assert fast[:2] == slow[:2] and fast[3].tolist() == slow[3].tolist(), text
            assert [c.tolist() for c in fast[2]] == [c.tolist() for c in slow[2]], text
            compared += 1
    assert compared > 300
