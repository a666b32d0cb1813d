"""A pandas row index written into a file: recognised and dropped, never read as a metric.

``DataFrame.to_csv()`` without ``index=False`` writes the row index as a first column
with an empty header cell; read back with pandas and written again, it is a column named
``Unnamed: 0`` (``Unnamed: N`` at position N). Parquet written by pandas from such a
frame keeps it as that column, and a frame's index stored as a plain column is named
``__index_level_N__``. Read as data, it becomes a metric ``Unnamed: 0`` that climbs
steadily, which the detectors flag and the predictor extrapolates.

The class is recognised by two things together: an index-like name (:data:`INDEX_NAME`,
or an empty header cell) *and* values that are a plain row counter — whole numbers
rising by exactly one from 0 or 1 down the rows (:func:`is_row_counter`; R's
``write.csv`` counts from 1). Such a column is dropped with a warning. A column with an
index-like name whose values are anything else (a real metric someone named
``Unnamed: 0``, a shuffled index) is kept; an empty header cell over anything else stays
an error that names the column.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["INDEX_NAME", "drop_index_columns", "is_row_counter", "name_counter_columns"]

#: Names pandas gives an index column: read back from CSV, or stored in Parquet.
INDEX_NAME = re.compile(r"^(Unnamed: \d+|__index_level_\d+__)$")
_DIGITS = re.compile(r"^\s*\d{1,18}\s*$")


def is_row_counter(cells: Any) -> bool:
    """Whether ``cells`` (text or numbers, in row order) count rows: k, k+1, … for k 0 or 1.

    >>> is_row_counter(["0", "1", "2"]), is_row_counter([1, 2, 3]), is_row_counter([0.0, 1.0])
    (True, True, True)
    >>> is_row_counter(["0", "2", "4"]), is_row_counter([5, 6]), is_row_counter(["0", "x"])
    (False, False, False)
    >>> is_row_counter([]), is_row_counter([0.5, 1.5]), is_row_counter(["1", "0"])
    (False, False, False)
    """
    values = np.asarray(cells, dtype=object) if not isinstance(cells, np.ndarray) else cells
    if values.size == 0:
        return False
    if values.dtype == object:
        text = [v for v in values.tolist() if isinstance(v, str)]
        if len(text) == values.size:
            ends = (text[0], text[-1])  # most columns fail here, before a pass over all
            if not all(_DIGITS.match(v) for v in ends) or int(ends[0]) not in (0, 1) \
                    or int(ends[1]) != int(ends[0]) + len(text) - 1:
                return False
            try:
                numbers = np.array(text, dtype=str).astype(np.int64)
            except (ValueError, OverflowError):
                return False
        else:
            try:
                numbers = np.asarray(values.tolist(), dtype=np.float64)
            except (TypeError, ValueError):
                return False
    else:
        numbers = values
    if numbers.dtype.kind not in "iuf":
        return False
    if numbers.dtype.kind == "f" and not np.all(np.isfinite(numbers) & (numbers % 1 == 0)):
        return False
    first = numbers[0]
    return bool(first in (0, 1) and np.array_equal(numbers, first + np.arange(values.size)))


def name_counter_columns(names: list[str], cells: list[Any]) -> list[str]:
    """``names`` with each empty header cell over a row counter named ``Unnamed: N``
    (its 0-based position, as pandas names it); other names unchanged.

    >>> name_counter_columns(["", "timestamp", ""], [["0", "1"], ["5", "6"], ["7", "9"]])
    ['Unnamed: 0', 'timestamp', '']
    """
    return [f"Unnamed: {i}" if not name and is_row_counter(column) else name
            for i, (name, column) in enumerate(zip(names, cells, strict=True))]


def drop_index_columns(table: Any, path: Path, report: Any) -> Any:
    """``table`` without its index columns (an index-like name over a row counter), each
    dropped noted in ``report`` (a warning naming it and how to write without it).

    >>> import pandas as pd, warnings
    >>> from kizashi.data.validation import ValidationReport
    >>> t = pd.DataFrame({"Unnamed: 0": ["0", "1"], "timestamp": ["0", "60"],
    ...                   "cpu": ["1", "2"]})
    >>> with warnings.catch_warnings(record=True) as shown:
    ...     warnings.simplefilter("always")
    ...     drop_index_columns(t, Path("n.csv"), ValidationReport("n.csv")).columns.tolist()
    ['timestamp', 'cpu']
    >>> str(shown[0].message)  # doctest: +NORMALIZE_WHITESPACE
    "n.csv: column 'Unnamed: 0' (column 1) is a row index (0, 1, … as pandas' to_csv
    writes it), not data: dropped; write the file with index=False"
    """
    columns = [str(c) for c in table.columns]
    dropped = [c for c in columns if INDEX_NAME.match(c) and is_row_counter(table[c].to_numpy())]
    unnamed = table.attrs.get("unnamed", [])
    for name in dropped:
        start = "1, 2" if _first(table[name]) == 1 else "0, 1"
        which = (f"column {columns.index(name) + 1} (no name in the header)" if name in unnamed
                 else f"column {name!r} (column {columns.index(name) + 1})")
        report.add("index column",
                   f"{which} is a row index "
                   f"({start}, … as pandas' to_csv writes it), not data: dropped; write "
                   f"the file with index=False")
    return table.drop(columns=dropped) if dropped else table


def _first(column: Any) -> int:
    return int(float(column.iloc[0]))
