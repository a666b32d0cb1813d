"""Families of odd input files for the file-reading commands, each with what must happen.

Every family is a :class:`OddInput`: a name, the bytes to write (or a special kind of path:
a directory, a missing file, an unreadable file) and the expected outcome, derived from how
the input was *generated*, never from kizashi's output:

* ``"error"``: refused: exit status 1 or 2, one line on stderr naming the file, no traceback;
* ``"ok"`` / ``"warn"``: read and scored, with (``"warn"``) or without a warning line;
  ``steps`` and ``series`` are the distinct time steps and series the generator wrote,
  which the command's summary and ``--out`` file must show (nothing lost silently).

The base file is a regular 5-minute grid from 2024-01-01 with two metrics whose values are
chosen here (``base_value``); each family changes one thing about it.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

START_S = 1_704_067_200  # 2024-01-01T00:00:00Z
STEP_S = 300
N_ROWS = 120
METRICS = ("cpu", "mem")


def base_value(i: int, j: int) -> float:
    """The generator's value of metric ``j`` at row ``i``: a bounded wave, short decimal text."""
    return round(50.0 + 10.0 * ((i * (j + 3)) % 17) / 17.0, 3)


def iso(seconds: int, zone: str = "Z") -> str:
    text = dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + zone


def wide_lines(n: int = N_ROWS, stamp: Callable[[int], str] | None = None,
               cell: Callable[[int, int], str] | None = None,
               header: tuple[str, ...] = ("timestamp", *METRICS), sep: str = ",") -> list[str]:
    """A wide CSV as lines: header, then ``n`` rows (``stamp(i)``, ``cell(i, j)``)."""
    stamp = stamp or (lambda i: str(START_S + i * STEP_S))
    cell = cell or (lambda i, j: repr(base_value(i, j)))
    k = len(header) - 1
    return [sep.join(header)] + [sep.join([stamp(i)] + [cell(i, j) for j in range(k)])
                                 for i in range(n)]


def long_lines(n: int = N_ROWS, entities: tuple[str, ...] = ("n1", "n2")) -> list[str]:
    rows = ["timestamp,entity,metric,value"]
    for i in range(n):
        for e in entities:
            for j, m in enumerate(METRICS):
                rows.append(f"{START_S + i * STEP_S},{e},{m},{base_value(i, j)!r}")
    return rows


def text(lines: list[str], newline: str = "\n", end: str = "\n") -> bytes:
    return (newline.join(lines) + end).encode()


@dataclass(frozen=True)
class OddInput:
    """One odd input and what a file-reading command must do with it."""

    name: str
    data: bytes | None  # None: a special path (see ``special``)
    expect: str  # "ok", "warn" or "error"
    steps: int | None = None  # distinct time steps when read
    series: int | None = None  # series when read
    special: str | None = None  # "directory", "missing", "unreadable"
    suffix: str = ".csv"
    message: str = ""  # a regex the one error/warning line must match
    #: command → expectation where it differs (predict and fit need two rows, say)
    by_command: tuple[tuple[str, str], ...] = ()

    def expected(self, command: str) -> str:
        """What ``command`` must do with this input: "ok", "warn" or "error"."""
        return dict(self.by_command).get(command, self.expect)

    def write(self, folder: Path) -> Path:
        """Write the input under ``folder`` and return its path."""
        path = folder / f"{self.name}{self.suffix}"
        if self.special == "directory":
            path.mkdir()
        elif self.special == "missing":
            pass
        else:
            assert self.data is not None
            path.write_bytes(self.data)
            if self.special == "unreadable":
                path.chmod(0)
        return path


def _with_cells(replace: dict[tuple[int, int], str], n: int = N_ROWS) -> bytes:
    return text(wide_lines(n, cell=lambda i, j: replace.get((i, j), repr(base_value(i, j)))))


def _shuffled() -> bytes:
    lines = wide_lines()
    body = lines[1:]
    order = [(i * 37) % len(body) for i in range(len(body))]  # 37 is prime to 120
    return text([lines[0]] + [body[i] for i in order])


def _duplicated() -> bytes:
    lines = wide_lines()
    return text([*lines[:51], lines[50], *lines[51:]])  # row 49 (line 51) twice


def _gap_years() -> bytes:
    jump = 3 * 365 * 86_400
    return text(wide_lines(stamp=lambda i: str(START_S + i * STEP_S + (jump if i >= 60 else 0))))


def _mixed_iso() -> bytes:
    def stamp(i: int) -> str:
        s = START_S + i * STEP_S
        return iso(s, "Z") if i % 2 else iso(s + 9 * 3600, "+09:00")
    return text(wide_lines(stamp=stamp))


def _naive_and_zoned() -> bytes:
    return text(wide_lines(stamp=lambda i: iso(START_S + i * STEP_S, "Z" if i % 2 else "")))


def _long_missing(column: str) -> bytes:
    lines = long_lines()
    header = lines[0].split(",")
    keep = [k for k, c in enumerate(header) if c != column]
    return text([",".join(line.split(",")[k] for k in keep) for line in lines])


def _long_blank(field: int, row: int = 7) -> bytes:
    lines = long_lines()
    cells = lines[row].split(",")
    cells[field] = ""
    lines[row] = ",".join(cells)
    return text(lines)


def _wide_columns(k: int) -> bytes:
    header = ("timestamp", *[f"m{j}" for j in range(k)])
    return text(wide_lines(n=30, header=header, cell=lambda i, j: str((i + j) % 10)))


def _parquet(columns: dict[str, list]) -> bytes:
    """A Parquet file of ``columns`` (pyarrow infers the types), as bytes."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


def _parquet_wide(n: int = N_ROWS, cell: Callable[[int, int], float | None] | None = None,
                  order: list[int] | None = None) -> bytes:
    cell = cell or base_value
    rows = order if order is not None else list(range(n))
    return _parquet({"timestamp": [START_S + i * STEP_S for i in rows],
                     **{m: [cell(i, j) for i in rows] for j, m in enumerate(METRICS)}})


def _bools(values: list):
    """A pyarrow boolean array of ``values`` (None: a null)."""
    import pyarrow as pa

    return pa.array(values, type=pa.bool_())


def _parquet_nested(column: str, kind: str) -> bytes:
    """A wide Parquet file whose ``column`` holds a nested type (lists, records, maps)."""
    import pyarrow as pa

    cells = {"list": ([1.0, 2.0], None), "large_list": ([1.0], pa.large_list(pa.float64())),
             "fixed_list": ([1.0, 2.0], pa.list_(pa.float64(), 2)),
             "struct": ({"a": 1.0}, None),
             "map": ([("a", 1.0)], pa.map_(pa.string(), pa.float64()))}
    cell, kind_type = cells[kind]
    columns = {"timestamp": [START_S + i * STEP_S for i in range(N_ROWS)],
               "cpu": [base_value(i, 0) for i in range(N_ROWS)]}
    columns[column] = pa.array([cell] * N_ROWS, type=kind_type)
    return _parquet(columns)


R = N_ROWS
#: text or ±inf in a value column: refused, read as missing with --on-invalid missing
MISSING_OK = (("missing", "warn"),)
FILES: list[OddInput] = [
    # --- shape
    OddInput("plain", text(wide_lines()), "ok", R, 2),
    OddInput("empty", b"", "error", message="empty"),
    OddInput("header-only", text(wide_lines(0)), "error", message="no data rows"),
    OddInput("one-row", text(wide_lines(1)), "warn", 1, 2,
             by_command=(("predict", "error"), ("fit", "error")), message="two"),
    OddInput("two-rows", text(wide_lines(2)), "ok", 2, 2),
    OddInput("wide-10k-columns", _wide_columns(10_000), "ok", 30, 10_000),
    OddInput("long-format", text(long_lines()), "ok", R, 4),
    OddInput("only-time-column", text(["timestamp"] + [str(START_S + i * 60)
                                                         for i in range(5)]), "error",
             message="no metric columns"),
    OddInput("no-time-column", text(["cpu,mem", "1,2", "3,4"]), "error",
             message="no 'timestamp' column"),
    # --- values
    OddInput("all-nan-column", text(wide_lines(cell=lambda i, j: "NaN" if j == 1
                                               else repr(base_value(i, j)))), "warn", R, 2,
             by_command=(("fit", "error"),), message="fewer than two values"),
    OddInput("all-empty-column", text(wide_lines(cell=lambda i, j: "" if j == 1
                                                 else repr(base_value(i, j)))), "warn", R, 2,
             by_command=(("fit", "error"),), message="fewer than two values"),
    OddInput("some-nan", _with_cells({(10, 0): "NaN", (11, 1): "null", (12, 0): "",
                                      (13, 1): "nan", (14, 0): "NA"}), "warn", R, 2),
    OddInput("inf-text", _with_cells({(10, 0): "inf"}), "error", R, 2,
             by_command=MISSING_OK, message="finite"),
    OddInput("minus-inf", _with_cells({(10, 1): "-inf"}), "error", R, 2,
             by_command=MISSING_OK, message="finite"),
    OddInput("infinity-word", _with_cells({(10, 1): "Infinity"}), "error", R, 2,
             by_command=MISSING_OK, message="finite"),
    OddInput("non-numeric", _with_cells({(20, 0): "abc"}), "error", R, 2,
             by_command=MISSING_OK, message="'abc'"),
    OddInput("constant-column", text(wide_lines(cell=lambda i, j: "42" if j == 0
                                                else repr(base_value(i, j)))), "ok", R, 2),
    OddInput("all-constant", text(wide_lines(cell=lambda i, j: "0")), "ok", R, 2),
    OddInput("huge-values", text(wide_lines(cell=lambda i, j: f"{(1 + (i % 3)) * 1e307!r}")),
             "ok", R, 2),
    OddInput("max-float", _with_cells({(60, 0): "1.7976931348623157e308"}), "ok", R, 2),
    OddInput("overflow-1e309", _with_cells({(60, 0): "1e309"}), "error", R, 2,
             by_command=MISSING_OK, message="finite"),
    OddInput("tiny-values", text(wide_lines(cell=lambda i, j: f"{(i % 5) * 1e-300!r}")),
             "ok", R, 2),
    OddInput("negative-values", text(wide_lines(cell=lambda i, j: f"{-base_value(i, j)!r}")),
             "ok", R, 2),
    OddInput("spike", _with_cells({(100, 0): "1e6"}), "ok", R, 2),
    OddInput("everything-nan", text(wide_lines(cell=lambda i, j: "nan")), "warn", R, 2,
             by_command=(("fit", "error"),), message="fewer than two values"),
    OddInput("one-value-per-column", text(wide_lines(cell=lambda i, j: "1" if i == j
                                                     else "")), "warn", R, 2,
             by_command=(("fit", "error"),), message="fewer than two values"),
    # --- timestamps
    OddInput("tiny-steps", text(wide_lines(stamp=lambda i: f"{START_S + i * 0.001:.3f}")),
             "ok", R, 2),
    OddInput("nanosecond-steps", text(wide_lines(stamp=lambda i: str(START_S * 10**9 + i))),
             "ok", R, 2),
    OddInput("duplicate-timestamps", _duplicated(), "warn", R, 2),
    OddInput("unsorted", _shuffled(), "warn", R, 2),
    OddInput("all-one-timestamp", text(wide_lines(stamp=lambda i: str(START_S))), "warn", 1, 2,
             by_command=(("predict", "error"), ("fit", "error")), message="two"),
    OddInput("descending", text([wide_lines()[0], *wide_lines()[:0:-1]]), "warn", R, 2),
    OddInput("epoch-ms", text(wide_lines(stamp=lambda i: str((START_S + i * STEP_S) * 1000))),
             "ok", R, 2),
    OddInput("iso-utc", text(wide_lines(stamp=lambda i: iso(START_S + i * STEP_S))), "ok", R, 2),
    OddInput("iso-naive", text(wide_lines(stamp=lambda i: iso(START_S + i * STEP_S, ""))),
             "ok", R, 2),
    OddInput("iso-mixed-offsets", _mixed_iso(), "warn", R, 2),
    OddInput("iso-naive-and-zoned", _naive_and_zoned(), "error", message="line"),
    OddInput("epoch-and-iso", text(wide_lines(stamp=lambda i: iso(START_S + i * STEP_S)
                                              if i % 2 else str(START_S + i * STEP_S))),
             "error", message="mixes dates and epoch numbers"),
    OddInput("gap-of-years", _gap_years(), "ok", R, 2),
    OddInput("bad-timestamp", text(wide_lines(stamp=lambda i: "yesterday" if i == 5
                                              else str(START_S + i * STEP_S))),
             "error", message="yesterday"),
    OddInput("empty-timestamp", text(wide_lines(stamp=lambda i: "" if i == 5
                                                else str(START_S + i * STEP_S))),
             "error", message="line 7"),
    OddInput("negative-epoch", text(wide_lines(stamp=lambda i: str(-10**8 + i * STEP_S))),
             "ok", R, 2),
    # --- encoding and layout
    OddInput("bom", b"\xef\xbb\xbf" + text(wide_lines()), "ok", R, 2),
    OddInput("crlf", text(wide_lines(), newline="\r\n", end="\r\n"), "ok", R, 2),
    OddInput("semicolon", text(wide_lines(sep=";")), "ok", R, 2),
    OddInput("tab", text(wide_lines(sep="\t")), "ok", R, 2),
    OddInput("quoted", text(['"timestamp","cpu","mem"'] + [
        ",".join(f'"{c}"' for c in line.split(",")) for line in wide_lines()[1:]]), "ok", R, 2),
    OddInput("trailing-blank-lines", text(wide_lines(), end="\n\n\n"), "ok", R, 2),
    OddInput("no-final-newline", text(wide_lines(), end=""), "ok", R, 2),
    OddInput("non-utf8", text(wide_lines(header=("timestamp", "cpu", "m\xe9m")))
             .replace(b"\xc3\xa9", b"\xe9"), "error", message="not UTF-8"),
    OddInput("names-spaces-unicode", text(wide_lines(header=("timestamp", "cpu load %",
                                                            "温度 °C"))), "ok", R, 2),
    OddInput("duplicate-names", text(wide_lines(header=("timestamp", "cpu", "cpu"))), "error",
             message="appears twice"),
    OddInput("gzip", gzip.compress(text(wide_lines())), "ok", R, 2, suffix=".csv.gz"),
    OddInput("gzip-named-csv", gzip.compress(text(wide_lines())), "ok", R, 2),
    OddInput("truncated-gzip", gzip.compress(text(wide_lines()))[:-20], "error",
             message="gzip"),
    OddInput("binary", bytes(range(256)) * 8, "error", message="binary|UTF-8"),
    OddInput("ragged-row", text([*wide_lines()[:10], "1704070000,1", *wide_lines()[10:]]),
             "error", message="fields"),
    # --- Parquet
    OddInput("parquet", _parquet_wide(), "ok", R, 2, suffix=".parquet"),
    OddInput("parquet-nan", _parquet_wide(cell=lambda i, j: None if i == 5 or j == 1
                                          else base_value(i, j)), "warn", R, 2,
             suffix=".parquet", by_command=(("fit", "error"),), message="fewer than two"),
    OddInput("parquet-inf", _parquet_wide(cell=lambda i, j: float("inf") if i == 5
                                          else base_value(i, j)), "error",
             suffix=".parquet", message="row 6.*finite"),
    OddInput("parquet-empty", _parquet_wide(0), "error", suffix=".parquet",
             message="no data rows"),
    OddInput("parquet-unsorted", _parquet_wide(order=[(i * 37) % R for i in range(R)]),
             "warn", R, 2, suffix=".parquet"),
    OddInput("parquet-duplicates", _parquet_wide(order=[*range(60), *range(60)]), "warn",
             60, 2, suffix=".parquet"),
    OddInput("parquet-null-metric", _parquet({"timestamp": [START_S, START_S + STEP_S],
                                              "entity": ["n1", "n1"], "metric": ["cpu", None],
                                              "value": [1.0, 2.0]}), "error",
             suffix=".parquet", message="row 2: empty metric name"),
    OddInput("parquet-named-csv", _parquet_wide(), "ok", R, 2),
    *[OddInput(f"parquet-bool-{kind}", _parquet({
        "timestamp": [START_S + i * STEP_S for i in range(R)],
        "up": _bools([i % 2 == 0 if kind == "plain" or i % 5 else None for i in range(R)])}),
        "error", suffix=".parquet",
        message="column 'up' holds booleans.*0 and 1")
      for kind in ("plain", "nullable")],
    *[OddInput(f"parquet-{kind}-in-{column}", _parquet_nested(column, kind), "error",
               suffix=".parquet", message=f"column '{column}' holds .*not one number")
      for kind in ("list", "large_list", "fixed_list", "struct", "map")
      for column in ("cpu", "timestamp")],
    # --- long format
    OddInput("long-no-entity", _long_missing("entity"), "error", message="entity"),
    OddInput("long-no-metric", _long_missing("metric"), "error", message="metric"),
    OddInput("long-blank-entity", _long_blank(1), "error", message="empty entity"),
    OddInput("long-blank-metric", _long_blank(2), "error", message="empty metric"),
    OddInput("long-blank-value", _long_blank(3), "warn", R, 4),
    # --- not a readable file
    OddInput("a-directory", None, "error", special="directory", message="directory"),
    OddInput("missing-file", None, "error", special="missing", message="not exist|no such"),
    OddInput("unreadable", text(wide_lines()), "error", special="unreadable",
             message="ermission"),
]
