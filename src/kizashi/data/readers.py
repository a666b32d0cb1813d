"""Readers for metric files: CSV (plain or gzip) and Parquet, in long or wide form.

* **long**: columns ``timestamp, entity, metric, value`` — one observation a row;
  any number of entities (nodes) and metrics.
* **wide**: a ``timestamp`` column and one column per metric, for one entity (named
  after the file, or by ``entity=``). A NAB data file (``timestamp,value``) is a
  wide file with one metric.

What a file holds (a regular file, its size, gzip or not, its encoding and
delimiter) is checked by :mod:`kizashi.data.sniffing`; rows are split with
:mod:`csv` rules (every row as many fields as the header, line numbers of the
file); timestamps' units and range are found by :mod:`kizashi.data.timestamps`.
Everything read goes through :mod:`kizashi.data.validation`, whose rules decide
what is repaired (with a warning) and what is an error naming the line. For bad
input the readers raise only :class:`~kizashi.data.validation.DataError`.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "cpu.csv"
>>> _ = path.write_text("timestamp,entity,metric,value\\n"
...                     "2024-04-01 00:00:00,node1,cpu,10\\n2024-04-01 00:00:00,node2,cpu,20\\n"
...                     "2024-04-01 00:01:00,node1,cpu,11\\n")
>>> frame = read_series(path)
>>> frame.keys, frame.values.tolist()
([('node1', 'cpu'), ('node2', 'cpu')], [[10.0, 20.0], [11.0, nan]])
"""

from __future__ import annotations

import csv
import io
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from kizashi.data.frame import SeriesFrame
from kizashi.data.sniffing import (
    GZIP_MAGIC,
    PARQUET_MAGIC,
    check_regular_file,
    is_parquet,
    read_head,
    read_text,
    sniff_delimiter,
)
from kizashi.data.validation import (
    TRIM,
    DataError,
    DataWarning,
    ValidationReport,
    assemble,
    check_shape,
    clean_names,
    decimal_commas,
    merge_spellings,
    parse_numbers,
    parse_timestamps,
    repeated_text,
    same_column_names,
)

FORMATS = ("auto", "long", "wide")
LONG_COLUMNS = ("timestamp", "entity", "metric", "value")


def is_gzip(path: str | Path) -> bool:
    """Whether ``path`` is gzip-compressed, by its first two bytes.

    Parameters
    ----------
    path : str or Path
        A regular file.

    Returns
    -------
    bool
        True for gzip.

    Examples
    --------
    >>> import gzip, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = path.write_bytes(gzip.compress(b"timestamp,value\\n"))
    >>> is_gzip(path)
    True
    """
    return read_head(path, 2) == GZIP_MAGIC


def open_text(path: str | Path) -> IO[str]:
    """A text handle on a plain or gzip-compressed file (by content, not by name).

    The whole text is read and checked first (see :mod:`kizashi.data.sniffing`), so a
    damaged, binary or non-UTF-8 file is a :class:`DataError` here, not halfway through.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    IO[str]
        The decoded text, line endings untranslated.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = path.write_text("1-2:1\\n")
    >>> with open_text(path) as handle:
    ...     handle.read()
    '1-2:1\\n'
    """
    return io.StringIO(read_text(path), newline="")


def read_table(path: str | Path, header: bool = True,
               report: ValidationReport | None = None) -> tuple[Any, np.ndarray]:
    """A pandas DataFrame of strings and the file line where each row starts.

    The text is parsed with :mod:`csv` (delimiter from :func:`sniff_delimiter`), not
    with pandas' inference: every row must have as many fields as the header (or, with
    ``header=False``, as the first row); a row with more or fewer is an error naming its
    line. Line numbers are those of the file (the header is line 1), also after a quoted
    field that spans lines. Blank lines (and rows of empty fields) are skipped. Header
    names are stripped and must be non-empty and distinct.

    In a ``;``-separated file, ``table.attrs["decimal"]`` is ``","``: numbers may
    be written with a decimal comma (see :func:`~kizashi.data.validation.decimal_commas`).

    Parameters
    ----------
    path : str or Path
        A CSV file, plain or gzip.
    header : bool
        Whether the first non-blank line is a header.
    report : ValidationReport, optional
        Where a dropped row index is noted (a pandas ``to_csv`` index column:
        :mod:`kizashi.data.index_columns`); by default a warning only.

    Returns
    -------
    table : pandas.DataFrame
        Object columns of str (named by the header, else 0, 1, …).
    lines : np.ndarray
        The file line of each row.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = path.write_text('timestamp,note\\n0,"two\\nlines"\\n60,one\\n')
    >>> table, lines = read_table(path)
    >>> table["note"].tolist(), lines.tolist()
    (['two\\nlines', 'one'], [2, 4])
    """
    import pandas as pd

    path = Path(path)
    text = read_text(path)
    if not text.strip():
        raise DataError(f"{path}: empty file (no header, no rows)")
    delimiter, sep_line = sniff_delimiter(text)
    split = _split_regular(text, delimiter, sep_line, header)
    if split is None:  # quotes, irregular rows or odd line ends: field by field
        split = _split_fields(path, text, delimiter, sep_line, header)
    names, reference_line, cells, lines = split
    if not len(lines):
        raise DataError(f"{path}: no data rows (only a header)" if header else
                        f"{path}: no data rows")
    if header:
        spelled = list(names)
        names = [TRIM.sub("", name) for name in names]
        from kizashi.data.index_columns import name_counter_columns

        unnamed = [i for i, name in enumerate(names) if not name]
        names = name_counter_columns(names, cells)  # a to_csv index: pandas' name for it
        _check_header(path, names, reference_line, spelled)
        columns: list[Any] = names
    else:
        columns = list(range(len(names)))
    table = pd.DataFrame(dict(zip(columns, cells, strict=True)), columns=columns, dtype=object)
    table.attrs["decimal"] = "," if delimiter == ";" else "."
    table.attrs["header_line"] = reference_line if header else 0
    if header:  # the index columns named here had no name in the file
        table.attrs["unnamed"] = [names[i] for i in unnamed if names[i]]
        from kizashi.data.index_columns import drop_index_columns

        table = drop_index_columns(table, path, report or ValidationReport(str(path)))
    return table, lines


_BLANK = " \t\f\v"


def _split_fields(path: Path, text: str, delimiter: str, sep_line: bool, header: bool,
                  ) -> tuple[list[str], int, list[np.ndarray], np.ndarray]:
    """Header (or first row), its line, object columns and row lines, parsed with csv."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    names: list[str] | None = None
    reference_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    end = 0
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            if not "".join(row).strip(_BLANK):
                continue
            if sep_line:
                sep_line = False
                continue
            if names is None:
                names, reference_line = row, start
                if header:
                    continue
            if len(row) != len(names):
                raise DataError(_ragged(path, start, row, names, reference_line, header,
                                        delimiter))
            rows.append(row)
            lines.append(start)
    except csv.Error as error:
        raise DataError(f"{path}, line {end + 1}: cannot split the line into fields ({error}); "
                        f"an unclosed or stray quote (\") in this row?") from None
    if names is None:
        raise DataError(f"{path}: empty file (no header, no rows)")
    columns = [np.array(column, dtype=object) for column in zip(*rows, strict=True)]
    if not rows:
        columns = [np.array([], dtype=object) for _ in names]
    return names, reference_line, columns, np.array(lines, dtype=np.int64)


def _split_regular(text: str, delimiter: str, sep_line: bool, header: bool,
                   ) -> tuple[list[str], int, list[np.ndarray], np.ndarray] | None:
    """The same as :func:`_split_fields`, fast, for text without quotes whose rows all
    have the header's field count; None for anything else (then csv decides)."""
    import pandas as pd

    if '"' in text or ord(delimiter) > 127:
        return None
    body = text.replace("\r\n", "\n") if "\r" in text else text
    if "\r" in body:
        return None
    encoded = body.encode("utf-8")
    data = np.frombuffer(encoded, dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    if data.size and data[-1] != 10:
        ends = np.append(ends, data.size)
    starts = np.r_[0, ends[:-1] + 1]
    blank_bytes = np.frombuffer((_BLANK + delimiter + "\n").encode(), dtype=np.uint8)
    delimiters = np.flatnonzero(data == ord(delimiter))
    fields = np.bincount(np.searchsorted(ends, delimiters), minlength=len(ends)) + 1
    del delimiters
    # a line is blank when it holds nothing but blanks and delimiters: only a line that is
    # empty or starts with one of those can be, so only those are counted through
    leading = np.zeros(len(starts), dtype=np.uint8)
    filled = starts < ends
    leading[filled] = data[starts[filled]]
    maybe = np.flatnonzero(~filled | np.isin(leading, blank_bytes))
    blank = np.zeros(len(starts), dtype=bool)
    blank[maybe] = _per_line(data, starts[maybe], ends[maybe],
                             lambda chunk: ~np.isin(chunk, blank_bytes)) == 0
    kept = np.flatnonzero(~blank)[int(sep_line):]
    if kept.size == 0:
        return None
    first, data_lines = int(kept[0]), kept[1:] if header else kept
    if (fields[data_lines] != fields[first]).any():
        return None
    try:
        with warnings.catch_warnings():  # a blank line of extra delimiters is cut, warned
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            table = pd.read_csv(io.BytesIO(encoded), sep=delimiter, encoding="utf-8", header=None,
                                names=range(int(fields[first])), dtype=object, na_filter=False,
                                quoting=csv.QUOTE_NONE, skip_blank_lines=False, engine="c",
                                index_col=False)
    except (ValueError, pd.errors.ParserError):
        return None
    if len(table) != len(ends):
        return None
    names = [str(x) for x in table.iloc[first]] if len(table) else []
    rows = table.iloc[data_lines]
    columns = [_shared_strings(rows[c]) for c in rows.columns]
    return names, first + 1, columns, data_lines.astype(np.int64) + 1


def _shared_strings(column: Any) -> np.ndarray:
    """A column of text as an object array; a column that repeats its cells (time,
    entity and metric of a long-form file) holds one str object per distinct cell."""
    import pandas as pd

    sample = column.iloc[:_SAMPLE]
    if len(column) > 4 * _SAMPLE and 2 * sample.nunique(dropna=False) > len(sample):
        return column.to_numpy(dtype=object)  # values, most of them distinct
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    if 2 * len(uniques) > len(column):
        return column.to_numpy(dtype=object)
    return np.asarray(uniques, dtype=object)[codes]


_SAMPLE = 10_000
_CHUNK_BYTES = 1 << 22


def _per_line(data: np.ndarray, starts: np.ndarray, ends: np.ndarray,
              mask: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """How many bytes of each line ``data[starts[i]:ends[i]]`` ``mask`` marks (lines in
    file order, not necessarily every line).

    Counted over runs of lines of about 4 MB, so the running sums stay that size (one
    sum over the whole file took eight bytes for each of its bytes)."""
    counts = np.empty(len(starts), dtype=np.int64)
    first = 0
    while first < len(starts):
        last = int(np.searchsorted(ends, starts[first] + _CHUNK_BYTES, side="right"))
        last = max(last, first + 1)
        low, high = int(starts[first]), int(ends[last - 1])
        total = np.zeros(high - low + 1, dtype=np.int64)
        np.cumsum(mask(data[low:high]), out=total[1:])
        counts[first:last] = total[ends[first:last] - low] - total[starts[first:last] - low]
        first = last
    return counts


def _ragged(path: Path, line: int, row: list[str], names: list[str], reference_line: int,
            header: bool, delimiter: str) -> str:
    where = f"the header (line {reference_line})" if header else f"line {reference_line}"
    message = (f"{path}: line {line} has {len(row)} fields where {where} has {len(names)}; "
               f"every row needs one field per column")
    commented = (names[:1] if header else []) + row[:1]
    if any(cell.lstrip().startswith("#") for cell in commented):  # '# exported by ...'
        message += " (a comment line starting with '#'? Remove it: comments are not read)"
    elif len(row) > len(names) and delimiter == ",":
        message += (" (an unquoted decimal comma such as 1,5? Write 1.5, quote the number, "
                    "or separate the fields with ';')")
    elif len(row) < len(names):
        message += " (write an empty field, e.g. ',,', for a missing value)"
    return message


def _check_header(path: Path, names: list[str], line: int,
                  spelled: list[str] | None = None) -> None:
    """Every column named, and no two names the same (:func:`same_column_names`)."""
    for i, name in enumerate(names, start=1):
        if not name:
            why = ("a row index, as pandas' to_csv writes by default? Write with index=False"
                   if i == 1 else "a trailing delimiter on every line?" if i == len(names)
                   else "a delimiter twice?")
            raise DataError(f"{path}, line {line}: column {i} of the header has no name; name "
                            f"every column ({why})")
    clash = same_column_names(names if spelled is None else spelled)
    if clash:
        raise DataError(f"{path}, line {line}: {clash}")


def detect_format(columns: list[str]) -> str:
    """``"long"`` when the columns ``timestamp, entity, metric, value`` are all present.

    Parameters
    ----------
    columns : list of str
        Column names (any case).

    Returns
    -------
    str
        ``"long"`` or ``"wide"``.

    Examples
    --------
    >>> detect_format(["Timestamp", "entity", "metric", "value"]), detect_format(["timestamp", "cpu"])
    ('long', 'wide')
    >>> detect_format(["timestamp", "metric", "value"]), detect_format(["timestamp", "value"])
    ('long', 'wide')
    """  # noqa: E501
    lowered = [c.lower() for c in columns]
    if all(c in lowered for c in LONG_COLUMNS):
        return "long"
    if "value" in lowered and ("entity" in lowered or "metric" in lowered):
        return "long"  # a long file short of a column: say which, not "'n1' is not a number"
    return "wide"


def read_series(path: str | Path, format: str = "auto", *, entity: str | None = None,
                timestamp_column: str = "timestamp", on_invalid: str = "error",
                on_duplicate: str = "last") -> SeriesFrame:
    """Read a long- or wide-form CSV (plain/gzip) or Parquet file into a :class:`SeriesFrame`.

    Bad input is a :class:`DataError` (a ``ValueError``) naming the file, and the line
    and column where there is one; repairs are :class:`DataWarning` s. The rules are in
    ``docs/data.md``.

    Parameters
    ----------
    path : str or Path
        File to read: Parquet when it starts with ``PAR1`` or is named ``.parquet`` /
        ``.pq``, else CSV (plain or gzip, UTF-8 or UTF-16 with a byte-order mark).
    format : str
        ``"auto"`` (long when the columns ``timestamp, entity, metric, value`` are
        present), ``"long"`` or ``"wide"``.
    entity : str, optional
        Entity name for a wide file (default: the file name without extensions).
    timestamp_column : str
        Name of the time column.
    on_invalid, on_duplicate : str
        See :mod:`kizashi.data.validation`.

    Returns
    -------
    SeriesFrame
        The series, on one sorted UTC time axis.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "node1.csv"
    >>> _ = path.write_text("timestamp;cpu\\n1704067200000;1,5\\n1704067260000;2\\n")
    >>> frame = read_series(path)
    >>> frame.timestamps.astype(str).tolist(), frame.values.tolist()
    (['2024-01-01T00:00:00.000000000', '2024-01-01T00:01:00.000000000'], [[1.5], [2.0]])
    """
    from kizashi.data.validation import ON_DUPLICATE, ON_INVALID

    for argument, value, allowed in (("format", format, FORMATS),
                                     ("on_invalid", on_invalid, ON_INVALID),
                                     ("on_duplicate", on_duplicate, ON_DUPLICATE)):
        if value not in allowed:
            raise ValueError(f"{argument} must be one of {allowed}, got {value!r}")
    path = Path(path)
    try:
        return _read_series(path, format, entity, timestamp_column, on_invalid, on_duplicate)
    except DataError:
        raise
    except (ValueError, OSError, EOFError, OverflowError, LookupError, TypeError,
            csv.Error, zlib.error) as error:  # bad input must never end in a traceback
        reason = " ".join(str(error).split())
        raise DataError(f"{path}: cannot read it ({type(error).__name__}: {reason})") from None


#: other names of the time column, read as it when a file has no 'timestamp' column:
#: Grafana's CSV export (Time), InfluxDB (_time), Elasticsearch (@timestamp), and the usual
TIME_ALIASES = ("time", "_time", "@timestamp", "datetime", "date", "ts")


def time_alias(columns: list[str], path: Path, report: ValidationReport) -> str | None:
    """The one column named as a time column in :data:`TIME_ALIASES` (any case), noted in
    ``report``; None when there is none; an error when there are several.

    >>> report = ValidationReport(source="grafana.csv")
    >>> with warnings.catch_warnings(record=True) as shown:
    ...     time_alias(["Time", "cpu"], Path("grafana.csv"), report)
    'Time'
    >>> str(shown[0].message)
    "grafana.csv: no 'timestamp' column: column 'Time' read as the time"
    >>> report.findings[0].message
    "no 'timestamp' column: column 'Time' read as the time"
    >>> time_alias(["cpu", "mem"], Path("x.csv"), report) is None
    True
    """
    found = [c for c in columns if c.lower() in TIME_ALIASES]
    if len(found) > 1:
        raise DataError(f"{path}: no 'timestamp' column, and {len(found)} columns could be the "
                        f"time ({', '.join(found)}); rename the time column 'timestamp'")
    if not found:
        return None
    report.add("time column", f"no 'timestamp' column: column {found[0]!r} read as the time")
    return found[0]


def _read_series(path: Path, format: str, entity: str | None, timestamp_column: str,
                 on_invalid: str, on_duplicate: str) -> SeriesFrame:
    report = ValidationReport(source=str(path))
    parquet = is_parquet(path)
    table, lines = _read_parquet(path) if parquet else read_table(path, report=report)
    if parquet:  # (read_table drops a CSV's itself)
        from kizashi.data.index_columns import drop_index_columns

        table = drop_index_columns(table, path, report)  # a pandas row index is no metric
    line_label = "row" if parquet else "line"
    decimal = table.attrs.get("decimal", ".")
    header_line = np.array([table.attrs.get("header_line", 0)])
    columns = [str(c) for c in table.columns]
    by_lower: dict[str, str] = {}
    for c in columns:
        if c.lower() in by_lower and c.lower() in (*LONG_COLUMNS, timestamp_column.lower()):
            raise DataError(f"{path}: columns {by_lower[c.lower()]!r} and {c!r} differ only in "
                            f"case; which is meant is ambiguous: rename one")
        by_lower.setdefault(c.lower(), c)
    if format == "auto":
        format = detect_format(columns)
    time_name = by_lower.get(timestamp_column.lower())
    if time_name is None and timestamp_column == "timestamp":
        time_name = time_alias(columns, path, report)  # Grafana's 'Time', InfluxDB's '_time'
    if time_name is None:
        raise DataError(
            f"{path}: no {timestamp_column!r} column (columns: {', '.join(columns)}); name the "
            f"time column {timestamp_column!r} in the header (or one of "
            f"{', '.join(TIME_ALIASES)}; from Python: read_series(..., timestamp_column=NAME))"
        )

    def numeric(name: str) -> Any:
        column = table[name]
        if decimal == ",":
            return decimal_commas(column.to_numpy(dtype=object), lines, name, report,
                                  line_label)
        return column

    times = _timestamps(numeric(time_name), lines, report, line_label, time_name)

    if format == "long":
        missing = [c for c in LONG_COLUMNS if c not in by_lower and c != "timestamp"]
        if missing:
            raise DataError(f"{path}: a long-form file needs columns {', '.join(LONG_COLUMNS)}; "
                            f"missing {', '.join(missing)}")
        extra = [c for c in columns if c.lower() not in LONG_COLUMNS and c != time_name]
        if extra:  # (a label column such as 'job' or 'unit': not read, so said)
            report.add("ignored columns", f"column(s) {', '.join(map(repr, extra))} not read: "
                       f"a long-form file is read as {', '.join(LONG_COLUMNS)} (a series is "
                       f"one entity and metric)")
        names = {}
        for name in ("entity", "metric"):
            absent = np.flatnonzero(table[by_lower[name]].isna().to_numpy())
            if absent.size:  # a Parquet null: not the text "None"
                raise DataError(f"{path}, {line_label} {lines[absent[0]]}: empty {name} name")
            names[name] = _labels(table[by_lower[name]].to_numpy(dtype=object), lines, name,
                                  report, line_label)
        codes, keys = _series_codes(names["entity"], names["metric"])
        values = _numbers(numeric(by_lower["value"]), lines, "value", report, on_invalid,
                          line_label)
        stamps, matrix = assemble(times, codes, values, lines, keys, report, on_duplicate,
                                  line_label)
    else:
        value_columns = [c for c in columns if c != time_name]
        if not value_columns:
            raise DataError(f"{path}: only a {time_name!r} column; no metric columns to read")
        name = entity or path.name.split(".")[0]
        metrics = clean_names(np.array(value_columns, dtype=object),
                              np.repeat(header_line, len(value_columns)), "column", report,
                              "line" if not parquet else "column")
        keys = [(name, str(m)) for m in metrics]
        n, k = len(table), len(value_columns)
        try:
            values = np.column_stack([
                _numbers(numeric(c), lines, c, report, on_invalid, line_label)
                for c in value_columns
            ])
        except DataError:
            if detect_format(columns) != "long":
                raise
            raise DataError(f"{path}: its header ({', '.join(columns)}) is long form, but it "
                            f"was read as wide, where every column is a metric of numbers; "
                            f"read it as long (format 'long' or 'auto'; CLI: --format long, "
                            f"or leave --format out)") from None
        stamps, matrix = assemble(
            np.repeat(times, k), np.tile(np.arange(k), n), values.reshape(-1),
            np.repeat(lines, k), keys, report, on_duplicate, line_label,
        )
    check_shape(stamps, report)
    return SeriesFrame(stamps, matrix, tuple(e for e, _ in keys), tuple(m for _, m in keys),
                       name=str(path), report=report)


def _labels(cells: np.ndarray, lines: np.ndarray, name: str, report: ValidationReport,
            line_label: str) -> np.ndarray:
    """Entity or metric names: trimmed, never empty, control characters escaped.

    A column that repeats its names (as long-form files do) is cleaned once per distinct
    name; anything to report or refuse sends the whole column through the same rules
    again, so messages name the lines they always did."""
    import pandas as pd

    distinct = repeated_text(cells, lines)
    if distinct is not None:
        uniques, first_lines, codes = distinct
        trimmed = pd.Series(uniques, dtype=object).str.replace(TRIM, "", regex=True)
        trimmed = trimmed.to_numpy(dtype=object)
        if not (trimmed == "").any():
            scratch = ValidationReport(report.source)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)
                cleaned = clean_names(trimmed, first_lines, name, scratch, line_label)
            if not scratch.findings:
                return merge_spellings(uniques, cleaned, first_lines, name, report,
                                       line_label)[codes]
    labels = pd.Series(cells, dtype=object).astype(str).str.replace(TRIM, "", regex=True)
    labels = labels.to_numpy(dtype=object)
    empty = np.flatnonzero(labels == "")
    if empty.size:
        raise DataError(f"{report.source}, {line_label} {lines[empty[0]]}: empty {name} name")
    labels = clean_names(labels, lines, name, report, line_label)
    # spellings of one name (white space around it, Unicode form) made one, and said
    codes, uniques = pd.factorize(pd.Series(cells, dtype=object).astype(str).to_numpy())
    first = np.unique(codes, return_index=True)[1]
    return merge_spellings(np.asarray(uniques, dtype=object), labels[first],
                           np.asarray(lines)[first], name, report, line_label)[codes]


def _series_codes(entities: np.ndarray, metrics: np.ndarray,
                  ) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Series index of each row, and the ``(entity, metric)`` keys in order of appearance."""
    import pandas as pd

    entity_codes, entity_names = pd.factorize(entities)
    metric_codes, metric_names = pd.factorize(metrics)
    pairs = entity_codes.astype(np.int64) * len(metric_names) + metric_codes
    codes, unique = pd.factorize(pairs)
    keys = [(str(entity_names[p // len(metric_names)]), str(metric_names[p % len(metric_names)]))
            for p in unique]
    return codes.astype(np.int64), keys


def _read_parquet(path: Path) -> tuple[Any, np.ndarray]:
    check_regular_file(path)
    if read_head(path, 4) != PARQUET_MAGIC:
        raise DataError(f"{path}: named as Parquet but does not start with Parquet's magic "
                        f"bytes PAR1: not Parquet, or damaged")
    try:
        import pyarrow.parquet as pq
        import pyarrow.types as pa_types

        parquet = pq.ParquetFile(path)
        names = list(parquet.schema_arrow.names)
        clash = same_column_names([str(name) for name in names])
        if clash:
            raise DataError(f"{path}: {clash}")
        for field in parquet.schema_arrow:  # lists, records, maps: no cell is one number
            if pa_types.is_nested(field.type):
                raise DataError(f"{path}: column {field.name!r} holds {field.type} values, "
                                f"not one number, time or name per cell; store each value "
                                f"in its own column or row")
            if pa_types.is_boolean(field.type):  # typed: no cell is 'invalid text'
                raise DataError(f"{path}: column {field.name!r} holds booleans (True/False), "
                                f"not numbers; store them as 0 and 1")
        table = parquet.read().to_pandas()
    except DataError:
        raise
    except Exception as error:  # pyarrow raises many types for a damaged file
        reason = " ".join(str(error).split()) or type(error).__name__
        raise DataError(f"{path}: cannot read as Parquet: {reason}") from None
    if table.index.name is not None or getattr(table.index, "names", [None])[0] is not None:
        table = table.reset_index()  # a named index (e.g. the time) is a column
    if table.empty:
        raise DataError(f"{path}: no data rows")
    table.columns = [TRIM.sub("", str(c)) for c in table.columns]  # as a CSV header's
    return table.reset_index(drop=True), np.arange(len(table)) + 1


def _timestamps(column: Any, lines: np.ndarray, report: ValidationReport,
                line_label: str, name: str) -> np.ndarray:
    import pandas as pd

    from kizashi.data.timestamps import datetimes_to_ns, epoch_to_ns

    if not isinstance(column, pd.Series):
        return parse_timestamps(column, lines, report, line_label, name)
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        if getattr(column.dt, "tz", None) is not None:
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        return datetimes_to_ns(column.to_numpy(), lines, report.source, name, line_label)
    if (pd.api.types.is_numeric_dtype(column.dtype)
            and not pd.api.types.is_bool_dtype(column.dtype)):
        if column.isna().any():
            first = int(np.flatnonzero(column.isna().to_numpy())[0])
            raise DataError(f"{report.source}, {line_label} {lines[first]}, column {name!r}: "
                            f"missing timestamp")
        kind = "i" if pd.api.types.is_integer_dtype(column.dtype) else "f"
        raw = column.to_numpy(dtype=np.int64 if kind == "i" else np.float64)
        if kind == "i" and pd.api.types.is_unsigned_integer_dtype(column.dtype):
            raw = column.to_numpy(dtype=np.uint64)
        ns = epoch_to_ns(raw, lines, report.source, name, line_label)
        return ns.astype("datetime64[ns]")
    return parse_timestamps(column.to_numpy(dtype=object), lines, report, line_label, name)


def _numbers(column: Any, lines: np.ndarray, name: str, report: ValidationReport,
             on_invalid: str, line_label: str) -> np.ndarray:
    import pandas as pd

    if not isinstance(column, pd.Series):
        return parse_numbers(column, lines, name, report, on_invalid, line_label)
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
            column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        text = np.where(np.isnan(values), "", values.astype(str)).astype(object)
        return parse_numbers(text, lines, name, report, on_invalid, line_label)
    return parse_numbers(column.to_numpy(dtype=object), lines, name, report, on_invalid,
                         line_label)
