"""Readers for metric files: CSV (plain or gzip) and Parquet, in long or wide form.

* **long**: columns ``timestamp, entity, metric, value`` — one observation a row;
  any number of entities (nodes) and metrics.
* **wide**: a ``timestamp`` column and one column per metric, for one entity (named
  after the file, or by ``entity=``). A NAB data file (``timestamp,value``) is a
  wide file with one metric.

Everything read goes through :mod:`kizashi.data.validation`, whose rules decide
what is repaired (with a warning) and what is an error naming the line.

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

import gzip
from pathlib import Path
from typing import Any

import numpy as np

from kizashi.data.frame import SeriesFrame
from kizashi.data.validation import (
    DataError,
    ValidationReport,
    assemble,
    check_shape,
    parse_numbers,
    parse_timestamps,
)

FORMATS = ("auto", "long", "wide")
LONG_COLUMNS = ("timestamp", "entity", "metric", "value")


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def open_text(path: Path):
    """Open a plain or gzip-compressed text file (by content, not by name)."""
    if is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_table(path: str | Path, header: bool = True):
    """A pandas DataFrame of strings and the file line of each row.

    Blank lines are skipped (they hold no data); line numbers stay those of the file.
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    with open_text(path) as handle:
        text = handle.read()
    if not text.strip():
        raise DataError(f"{path}: empty file (no header, no rows)")
    from io import StringIO

    try:
        table = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False,
                            skip_blank_lines=False, header=0 if header else None)
    except pd.errors.ParserError as error:
        raise DataError(f"{path}: {error}") from None
    first_data_line = 2 if header else 1
    lines = np.arange(len(table)) + first_data_line
    blank = (table == "").all(axis=1).to_numpy() if len(table.columns) else np.ones(0, bool)
    if len(table.columns) == 1:  # a one-column file: blank means the whole line is empty
        blank = table.iloc[:, 0].to_numpy(dtype=str) == ""
    table, lines = table[~blank], lines[~blank]
    if table.empty:
        raise DataError(f"{path}: no data rows (only a header)" if header else
                        f"{path}: no data rows")
    if header:
        table.columns = [str(c).strip() for c in table.columns]
    return table.reset_index(drop=True), lines


def detect_format(columns: list[str]) -> str:
    lowered = [c.lower() for c in columns]
    if all(c in lowered for c in LONG_COLUMNS):
        return "long"
    return "wide"


def read_series(path: str | Path, format: str = "auto", *, entity: str | None = None,
                timestamp_column: str = "timestamp", on_invalid: str = "error",
                on_duplicate: str = "last") -> SeriesFrame:
    """Read a long- or wide-form CSV (plain/gzip) or Parquet file into a :class:`SeriesFrame`.

    Parameters
    ----------
    path : file to read (``.parquet`` / ``.pq`` is read as Parquet, anything else as CSV)
    format : ``"auto"`` (long when the columns ``timestamp, entity, metric, value`` are
        present), ``"long"`` or ``"wide"``
    entity : entity name for a wide file (default: the file name without extensions)
    timestamp_column : name of the time column
    on_invalid, on_duplicate : see :mod:`kizashi.data.validation`
    """
    path = Path(path)
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    report = ValidationReport(source=str(path))
    parquet = path.suffix.lower() in (".parquet", ".pq")
    table, lines = _read_parquet(path) if parquet else read_table(path)
    line_label = "row" if parquet else "line"
    columns = list(table.columns)
    by_lower = {c.lower(): c for c in columns}
    if format == "auto":
        format = detect_format(columns)
    time_name = by_lower.get(timestamp_column.lower())
    if time_name is None:
        raise DataError(
            f"{path}: no {timestamp_column!r} column (columns: {', '.join(columns)}); name the "
            f"time column {timestamp_column!r} or pass timestamp_column="
        )
    times = _timestamps(table[time_name], lines, report, line_label)

    if format == "long":
        missing = [c for c in LONG_COLUMNS if c not in by_lower]
        if missing:
            raise DataError(f"{path}: a long-form file needs columns {', '.join(LONG_COLUMNS)}; "
                            f"missing {', '.join(missing)}")
        entities = table[by_lower["entity"]].astype(str).str.strip().to_numpy()
        metrics = table[by_lower["metric"]].astype(str).str.strip().to_numpy()
        for name, labels in (("entity", entities), ("metric", metrics)):
            empty = np.flatnonzero(labels == "")
            if empty.size:
                raise DataError(f"{path}, {line_label} {lines[empty[0]]}: empty {name} name")
        pairs = np.char.add(np.char.add(entities.astype("U"), "\x1f"), metrics.astype("U"))
        unique, first_index, codes = np.unique(pairs, return_index=True, return_inverse=True)
        order = np.argsort(first_index)  # series in order of first appearance
        remap = np.empty_like(order)
        remap[order] = np.arange(len(order))
        codes = remap[codes.reshape(-1)]
        keys = [tuple(unique[i].split("\x1f")) for i in order]
        values = _numbers(table[by_lower["value"]], lines, "value", report, on_invalid,
                          line_label)
        stamps, matrix = assemble(times, codes, values, lines, keys, report, on_duplicate,
                                  line_label)
    else:
        value_columns = [c for c in columns if c != time_name]
        if not value_columns:
            raise DataError(f"{path}: only a {time_name!r} column; no metric columns to read")
        name = entity or path.name.split(".")[0]
        keys = [(name, c) for c in value_columns]
        n, k = len(table), len(value_columns)
        values = np.column_stack([
            _numbers(table[c], lines, c, report, on_invalid, line_label) for c in value_columns
        ])
        stamps, matrix = assemble(
            np.repeat(times, k), np.tile(np.arange(k), n), values.reshape(-1),
            np.repeat(lines, k), keys, report, on_duplicate, line_label,
        )
    check_shape(stamps, report)
    return SeriesFrame(stamps, matrix, tuple(e for e, _ in keys), tuple(m for _, m in keys),
                       name=str(path), report=report)


def _read_parquet(path: Path):
    import pandas as pd

    if not path.exists():
        raise DataError(f"{path}: no such file")
    try:
        table = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises many types for a damaged file
        raise DataError(f"{path}: cannot read as Parquet: {error}") from None
    if table.empty:
        raise DataError(f"{path}: no data rows")
    return table.reset_index(drop=True), np.arange(len(table)) + 1


def _timestamps(column: Any, lines: np.ndarray, report: ValidationReport,
                line_label: str) -> np.ndarray:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        if getattr(column.dt, "tz", None) is not None:
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        stamps = column.to_numpy(dtype="datetime64[ns]")
        if np.isnat(stamps).any():
            first = np.flatnonzero(np.isnat(stamps))[0]
            raise DataError(f"{report.source}, {line_label} {lines[first]}: missing timestamp")
        return stamps
    return parse_timestamps(column.to_numpy(dtype=object), lines, report, line_label)


def _numbers(column: Any, lines: np.ndarray, name: str, report: ValidationReport,
             on_invalid: str, line_label: str) -> np.ndarray:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
            column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        text = np.where(np.isnan(values), "", values.astype(str)).astype(object)
        return parse_numbers(text, lines, name, report, on_invalid, line_label)
    return parse_numbers(column.to_numpy(dtype=object), lines, name, report, on_invalid,
                         line_label)
