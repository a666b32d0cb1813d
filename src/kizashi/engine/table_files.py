"""Table files by suffix: the one place that says which formats kizashi's tables are written in.

Every command that writes a table (``detect --out`` and ``--incidents``, ``predict --out``)
picks the format from the file name's suffix through :func:`table_format`, and refuses any
other suffix *before* its work (:func:`kizashi.cli.output_checks.check_table_path`): a
``scores.xlsx`` silently holding CSV would open as garbage in a spreadsheet, and a typo
such as ``scores.cvs`` would be found only after an hour of scoring.

Formats (all written by pandas and pyarrow, the readers' own dependencies):

========== =============================================================
suffix     written as
========== =============================================================
.csv       CSV, times as ISO 8601 UTC text ending in ``Z``
.csv.gz    the same, gzip-compressed (``detect`` and ``predict`` read it)
.parquet   Parquet (times stay timestamps)
.json      one JSON array of row objects (``null`` for an empty cell)
.jsonl     JSON Lines: one row object per line
========== =============================================================

>>> table_format("scores.CSV.gz")
'.csv.gz'
>>> table_format("scores.xlsx")
Traceback (most recent call last):
...
ValueError: '.xlsx' is not a table format kizashi writes; end the name with .csv, .csv.gz, .parquet, .json or .jsonl
"""  # noqa: E501

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TABLE_FORMATS", "supported_text", "table_format", "write_table"]

#: Suffix (lower case, longest first where one ends another) → what the file holds.
TABLE_FORMATS: dict[str, str] = {
    ".csv.gz": "gzip-compressed CSV",
    ".csv": "CSV",
    ".parquet": "Parquet",
    ".json": "a JSON array of rows",
    ".jsonl": "JSON Lines",
}
#: The order the error message names them in.
_NAMED = (".csv", ".csv.gz", ".parquet", ".json", ".jsonl")


def supported_text() -> str:
    """The supported suffixes as a phrase, for error messages and ``--help``.

    >>> supported_text()
    '.csv, .csv.gz, .parquet, .json or .jsonl'
    """
    return ", ".join(_NAMED[:-1]) + " or " + _NAMED[-1]


def table_format(path: str | Path) -> str:
    """The supported suffix ``path`` ends in (case-insensitive), else a ``ValueError``.

    >>> table_format("out/pred.jsonl"), table_format("PRED.Parquet")
    ('.jsonl', '.parquet')
    >>> table_format("pred")
    Traceback (most recent call last):
    ...
    ValueError: no suffix names the table format; end the name with .csv, .csv.gz, .parquet, .json or .jsonl
    """  # noqa: E501
    name = Path(path).name.lower()
    for suffix in TABLE_FORMATS:
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix
    suffixes = Path(name).suffixes
    # a compressed file names its format in the suffix before .gz: show both
    shown = "".join(suffixes[-2:] if suffixes[-1:] == [".gz"] else suffixes[-1:])
    what = (f"{shown!r} is not a table format kizashi writes" if shown
            else "no suffix names the table format")
    raise ValueError(f"{what}; end the name with {supported_text()}")


def _as_text_times(table: Any, missing: Any = "") -> Any:
    """``table`` with its timestamp columns as ISO 8601 UTC text (``Z``; NaT as ``missing``)."""
    import pandas as pd

    from kizashi.data.utc_text import utc_text

    changed = table.copy(deep=False)
    for column in table.columns:
        values = table[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        if pd.api.types.is_datetime64_dtype(values.dtype):
            text = utc_text(values.to_numpy())
            changed[column] = text if missing == "" else np.where(text == "", missing, text)
    return changed


def write_table(table: Any, path: str | Path) -> None:
    """Write the DataFrame ``table`` to ``path`` in the format its suffix names.

    Text formats write times as :func:`~kizashi.data.utc_text.utc_text` does; the row
    index is never written (it is a row counter, not data).

    >>> import pandas as pd, tempfile, json
    >>> t = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-09 10:00"]), "score": [0.5]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_table(t, f"{d}/s.jsonl")
    ...     json.loads(open(f"{d}/s.jsonl").read())
    {'timestamp': '2026-03-09T10:00:00Z', 'score': 0.5}
    """
    suffix = table_format(path)
    if suffix == ".parquet":
        table.to_parquet(path, index=False)
        return
    text = _as_text_times(table, "" if suffix in (".csv", ".csv.gz") else None)
    if suffix in (".csv", ".csv.gz"):
        text.to_csv(path, index=False, compression="gzip" if suffix == ".csv.gz" else None)
    else:
        _write_json_rows(text, path, lines=suffix == ".jsonl")


def _write_json_rows(table: Any, path: str | Path, lines: bool) -> None:
    """``table``'s rows as JSON objects (an array, or one per line), every number with the
    digits Python's ``repr`` gives it (pandas' ``to_json`` keeps 15 decimal places at most,
    so 2⁻⁴⁰ lost its digits) and ``null`` for an empty or non-finite cell."""
    import json

    from kizashi.json_values import strict

    rows = strict(table.astype(object).where(table.notna(), None).to_dict(orient="records"))
    with open(path, "w", encoding="utf-8") as out:
        if lines:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False, allow_nan=False))
                out.write("\n")
        else:
            json.dump(rows, out, ensure_ascii=False, allow_nan=False)
