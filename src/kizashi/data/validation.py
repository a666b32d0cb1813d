"""Checking and repairing metric data as it is read, with a report of everything done.

The rules (also in ``docs/data.md``):

========================  ==========================================================
problem                   what happens
========================  ==========================================================
empty file / no rows      error naming the file
a single row              kept, with a warning (detectors need more to say anything)
unsorted timestamps       rows sorted by time, with a warning naming the first line
                          out of order
duplicate timestamps      per series, the value on the *later line* of the file wins
                          (``on_duplicate="last"``; or ``"first"``, or ``"error"``);
                          the values it replaced are kept in the report
gaps                      never filled: marked by :meth:`SeriesFrame.gap_after`
                          and counted in the report
empty cell, NaN, null     kept as missing (NaN), with a warning and the lines
text in a numeric column  error naming file, line, column and text;
or ±inf                   with ``on_invalid="missing"`` kept as missing, warned
unparseable timestamp     error naming file, line and text
mixed time-zone offsets   converted to UTC, with a warning
naive and zoned mixed     error (the naive ones are ambiguous), naming a line
epoch numbers             unit from their size (s < 1e11 ≤ ms < 1e14 ≤ µs < 1e17
                          ≤ ns, see :mod:`kizashi.data.timestamps`); units mixed
                          in one column: error naming a line of each
date beyond 1677–2262     error naming file, line and column (never wrapped)
decimal comma in a ``;``  read as a decimal mark; a column mixing decimal commas
separated file            and points: error (a ``.`` may group thousands)
control characters in     written as escapes (``\\x1f``), with a warning naming
entity/metric/column      the lines; error if that makes two names equal
names that differ only    one name (the first spelling seen, trimmed), with a warning
in white space around     naming both spellings and their lines (long form); two
them or in Unicode form   header columns: error naming both. Case is kept: ``node1``
(NFC/NFD)                 and ``Node1`` are two names (:func:`name_key`)
========================  ==========================================================

What a file may hold (kind, size, compression, encoding, delimiter) is checked
first, in :mod:`kizashi.data.sniffing`; row shape and header names in
:func:`kizashi.data.readers.read_table`. Naive timestamps (no offset) are taken as UTC.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MISSING_TOKENS = frozenset({"", "nan", "na", "n/a", "null", "none", "-"})
ON_INVALID = ("error", "missing")
ON_DUPLICATE = ("last", "first", "error")
# An offset after a time of day (a date alone, 2024-01-01, ends in "-01" but has none).
_ZONE = re.compile(r"[T ]\d\d(?::?\d\d){0,2}(?:[.,]\d+)?\s*(Z|[+-]\d\d(?::?\d\d)?)$",
                   re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
#: Cells that are booleans (a column of flags): told to be written as 0 and 1.
BOOLEAN_WORDS = frozenset({"true", "false"})
_DECIMAL_POINT = re.compile(r"[+-]?(?:\d*\.\d+|\d+\.)(?:[eE][+-]?\d+)?")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: Leading/trailing white space trimmed from names: not the control characters that
#: Python also counts as space (U+001C-001F, U+0085), which are escaped instead.
TRIM = re.compile(r"^[^\S\x1c-\x1f\x85]+|[^\S\x1c-\x1f\x85]+$")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


class DataError(ValueError):
    """Input data that cannot be read as it is; the message says where and why."""


class DataWarning(UserWarning):
    """Input data was repaired; the message says what was done."""


@dataclass(frozen=True)
class Finding:
    """One thing noticed while reading: what, where, and whether it was repaired."""

    kind: str
    message: str
    lines: tuple[int, ...] = ()


@dataclass
class ValidationReport:
    """What was checked and repaired while reading one source.

    ``superseded`` keeps every value that a duplicate timestamp replaced, as
    ``(line, timestamp, entity, metric, value)``, so nothing read is lost.
    """

    source: str = ""
    findings: list[Finding] = field(default_factory=list)
    superseded: list[tuple[int, str, str, str, float]] = field(default_factory=list)

    def add(self, kind: str, message: str, lines: Any = (), warn: bool = True) -> None:
        finding = Finding(kind, message, tuple(int(x) for x in lines))
        self.findings.append(finding)
        if warn:
            warnings.warn(f"{self.source}: {message}", DataWarning, stacklevel=3)

    def kinds(self) -> list[str]:
        return [f.kind for f in self.findings]

    def summary(self) -> str:
        if not self.findings:
            return f"{self.source}: no problems found"
        return "\n".join(f"{self.source}: {f.message}" for f in self.findings)


def describe_lines(lines: np.ndarray, label: str = "line", limit: int = 5) -> str:
    """``"lines 3, 7, 9 and 4 more"``."""
    shown = ", ".join(str(int(x)) for x in lines[:limit])
    more = f" and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{label}{'s' if len(lines) > 1 else ''} {shown}{more}"


def parse_numbers(cells: np.ndarray, lines: np.ndarray, column: str, report: ValidationReport,
                  on_invalid: str = "error", line_label: str = "line") -> np.ndarray:
    """Floats from text cells, applying the missing/invalid rules."""
    import pandas as pd

    if on_invalid not in ON_INVALID:
        raise ValueError(f"on_invalid must be one of {ON_INVALID}, got {on_invalid!r}")
    cells = np.asarray(cells, dtype=object)
    column_text = pd.Series(cells, dtype=object)
    if len(cells) > 1 and pd.api.types.infer_dtype(column_text, skipna=False) == "string":
        # most cells are plain numbers: read them at once, and only the others by the rules
        # below (missing, invalid), in file order, so the findings are those of all cells
        quick = pd.to_numeric(column_text, errors="coerce")
        values = quick.to_numpy(dtype=np.float64, na_value=np.nan).copy()
        other = ~np.isfinite(values)
        if other.any():
            values[other] = _numbers_by_rules(cells[other], np.asarray(lines)[other], column,
                                              report, on_invalid, line_label)
        return values
    return _numbers_by_rules(cells, lines, column, report, on_invalid, line_label)


def _numbers_by_rules(cells: np.ndarray, lines: np.ndarray, column: str,
                      report: ValidationReport, on_invalid: str, line_label: str,
                      ) -> np.ndarray:
    import pandas as pd

    text = cells.astype(str)
    stripped = np.char.strip(text.astype("U"))
    missing = np.isin(np.char.lower(stripped), list(MISSING_TOKENS))
    numbers = pd.to_numeric(pd.Series(np.where(missing, "nan", stripped)), errors="coerce")
    values = numbers.to_numpy(dtype=np.float64, na_value=np.nan).copy()
    bad = (np.isnan(values) & ~missing) | np.isinf(values)
    if bad.any():
        where = np.flatnonzero(bad)
        first = where[0]
        kind = "infinite value" if np.isinf(values[first]) else "text in a numeric column"
        if _DECIMAL_COMMA.fullmatch(str(stripped[first])):
            kind += "; a decimal comma? Write 1.5, or separate the fields with ';'"
        elif str(stripped[first]).lower() in BOOLEAN_WORDS:  # as for Parquet's booleans
            kind += "; a boolean: write booleans as 0 and 1"
        if on_invalid == "error":
            raise DataError(
                f"{report.source}, {line_label} {lines[first]}, column {column!r}: "
                f"{str(text[first])!r} is not a finite number ({kind}; "
                f"{len(where)} such cell{'s' if len(where) > 1 else ''} in all). Fix the file, "
                f"or read it with on_invalid='missing' (CLI: --on-invalid missing) to treat "
                f"them as missing values."
            )
        values[where] = np.nan
        report.add("invalid", f"column {column!r}: {len(where)} non-numeric or infinite "
                   f"cell(s) treated as missing ({describe_lines(lines[where], line_label)})",
                   lines[where])
    if missing.any():
        where = np.flatnonzero(missing)
        report.add("missing", f"column {column!r}: {len(where)} missing value(s) kept as NaN "
                   f"({describe_lines(lines[where], line_label)})", lines[where])
    return values


def parse_timestamps(cells: np.ndarray, lines: np.ndarray, report: ValidationReport,
                     line_label: str = "line", column: str | None = "timestamp") -> np.ndarray:
    """UTC ``datetime64[ns]`` from text: ISO 8601 dates, or numbers since 1970.

    The unit of numbers (seconds, milliseconds, microseconds or nanoseconds) is found
    from their size, and dates outside the ``datetime64[ns]`` range are refused; see
    :mod:`kizashi.data.timestamps`. A column that repeats its timestamps (a long-form
    file: one row per series and time) is parsed once per distinct text; if that finds
    a problem, the whole column is parsed again, so every message names what it would
    have named anyway.

    Parameters
    ----------
    cells : np.ndarray
        Text cells.
    lines : np.ndarray
        File line of each cell.
    report : ValidationReport
        Collects findings; its ``source`` names the file in messages.
    line_label : str
        ``"line"`` or ``"row"``.
    column : str or None
        Column name, for messages.

    Returns
    -------
    np.ndarray
        ``datetime64[ns]`` (UTC, naive).

    Examples
    --------
    >>> report = ValidationReport("x.csv")
    >>> parse_timestamps(np.array(["1704067200000", "1704067260000"]), np.array([2, 3]),
    ...                  report).astype(str).tolist()
    ['2024-01-01T00:00:00.000000000', '2024-01-01T00:01:00.000000000']
    >>> parse_timestamps(np.array(["2300-01-01"]), np.array([2]), report)
    Traceback (most recent call last):
    ...
    kizashi.data.validation.DataError: x.csv, line 2, column 'timestamp': timestamp '2300-01-01' is outside 1677-09-21T00:12:43 to 2262-04-11T23:47:16 UTC, the range of datetime64[ns]; correct the timestamp or drop the row
    """  # noqa: E501
    distinct = repeated_text(cells, lines)
    if distinct is not None:
        uniques, first_lines, codes = distinct
        scratch = ValidationReport(report.source)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)
                parsed = _parse_timestamps(uniques, first_lines, scratch, line_label, column)
        except DataError:
            pass  # the whole column again, for the message it names
        else:
            for finding in scratch.findings:
                report.add(finding.kind, finding.message, finding.lines)
            return parsed[codes]
    return _parse_timestamps(cells, lines, report, line_label, column)


def repeated_text(cells: np.ndarray, lines: np.ndarray,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The distinct cells of a column that repeats them, the line where each is first
    seen, and each cell's index among them; None unless every cell is a str and at most
    half of them are distinct (then a cell-by-cell reading is as quick).

    Examples
    --------
    >>> uniques, first, codes = repeated_text(np.array(["a", "b", "a", "a"], dtype=object),
    ...                                       np.array([2, 3, 4, 5]))
    >>> uniques.tolist(), first.tolist(), codes.tolist()
    (['a', 'b'], [2, 3], [0, 1, 0, 0])
    """
    import pandas as pd

    cells = np.asarray(cells, dtype=object)
    if cells.size < 2:
        return None
    codes, uniques = pd.factorize(cells, use_na_sentinel=False)
    uniques = np.asarray(uniques, dtype=object)
    if 2 * len(uniques) > len(cells) or not all(type(u) is str for u in uniques):
        return None  # (a str equals no other type, so no two kinds of cell were merged)
    first = np.unique(codes, return_index=True)[1]  # codes number cells in order of appearance
    return uniques, np.asarray(lines)[first], codes


def _parse_timestamps(cells: np.ndarray, lines: np.ndarray, report: ValidationReport,
                      line_label: str, column: str | None) -> np.ndarray:
    import pandas as pd

    from kizashi.data.timestamps import datetimes_to_ns, epoch_numbers, epoch_to_ns

    where = f" in column {column!r}" if column is not None else ""
    text = np.char.strip(np.asarray(cells, dtype=object).astype(str).astype("U"))
    empty = text == ""
    if empty.any():
        first = np.flatnonzero(empty)[0]
        raise DataError(f"{report.source}, {line_label} {lines[first]}: empty timestamp{where}")
    numbers, is_number = epoch_numbers(text)
    if numbers is not None:
        ns = epoch_to_ns(numbers, lines, report.source, column, line_label)
        return ns.astype("datetime64[ns]")

    if is_number.any():  # and not all: dates and numbers mixed
        numbers_few = is_number.sum() <= len(is_number) / 2
        first = np.flatnonzero(is_number if numbers_few else ~is_number)[0]
        other = np.flatnonzero(~is_number if numbers_few else is_number)[0]
        raise DataError(
            f"{report.source}, {line_label} {lines[first]}: cannot read timestamp "
            f"{str(text[first])!r}{where}: the column mixes dates and epoch numbers "
            f"({str(text[other])!r} at {line_label} {lines[other]}); write every timestamp "
            f"one way"
        )
    zoned = np.array([bool(_ZONE.search(s)) for s in text])
    if zoned.any() and not zoned.all():
        minority = np.flatnonzero(~zoned if zoned.sum() > len(zoned) / 2 else zoned)
        # a cell that is no timestamp at all ('garbage', 'N/A') is said to be unreadable,
        # not to lack a zone
        readable = pd.to_datetime(pd.Series(text[minority]), errors="coerce", utc=True,
                                  format="ISO8601").notna().to_numpy()
        if not readable.all():
            first = minority[np.flatnonzero(~readable)[0]]
            raise DataError(
                f"{report.source}, {line_label} {lines[first]}: cannot read timestamp "
                f"{str(text[first])!r}{where} ({_timestamp_hint(str(text[first]))})"
            )
        raise DataError(
            f"{report.source}, {line_label} {lines[minority[0]]}: timestamp "
            f"{str(text[minority[0]])!r} "
            f"mixes time-zone-less and zoned timestamps in one file; give every timestamp an "
            f"offset (e.g. +09:00 or Z) so none is ambiguous"
        )
    parsed = pd.to_datetime(pd.Series(text), errors="coerce", utc=True, format="ISO8601")
    bad = parsed.isna().to_numpy()
    if bad.any():
        first = np.flatnonzero(bad)[0]
        raise DataError(
            f"{report.source}, {line_label} {lines[first]}: cannot read timestamp "
            f"{str(text[first])!r}{where} ({_timestamp_hint(str(text[first]))})"
        )
    if zoned.any():
        offsets = {m.group(1).upper().replace(":", "") for m in map(_ZONE.search, text)}
        offsets = {"+0000" if o == "Z" else o for o in offsets}
        if len(offsets) > 1:
            report.add("time zones", f"timestamps use {len(offsets)} different UTC offsets "
                       f"({', '.join(sorted(offsets))}); all converted to UTC")
    naive = parsed.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    return datetimes_to_ns(naive, lines, report.source, column, line_label, texts=text)


def _timestamp_hint(text: str) -> str:
    import datetime

    try:
        datetime.datetime.fromisoformat(text)
    except ValueError:
        return "expected ISO 8601 such as 2024-04-01 09:00:00, or a number since 1970"
    return ("a date outside 1677-09-21 to 2262-04-11 UTC, the range of datetime64[ns]: "
            "correct the timestamp or drop the row")


def decimal_commas(cells: np.ndarray, lines: np.ndarray, column: str,
                   report: ValidationReport, line_label: str = "line") -> np.ndarray:
    """Numbers written with a decimal comma (``1,5``) as ``1.5``, for ``;``-separated files.

    A column that mixes decimal commas and decimal points is refused: there a ``.`` may
    be a thousands separator. Other cells are returned as they are.

    Parameters
    ----------
    cells : np.ndarray
        Text cells of one numeric (or epoch timestamp) column.
    lines : np.ndarray
        File line of each cell.
    column : str
        Column name, for messages.
    report : ValidationReport
        Its ``source`` names the file in messages.
    line_label : str
        ``"line"`` or ``"row"``.

    Returns
    -------
    np.ndarray
        Text cells with ``.`` as the decimal mark.

    Examples
    --------
    >>> decimal_commas(np.array(["1,5", "-0,25", "7", ""]), np.array([2, 3, 4, 5]), "cpu",
    ...                ValidationReport("x.csv")).tolist()
    ['1.5', '-0.25', '7', '']
    """
    import pandas as pd

    text = pd.Series(np.asarray(cells, dtype=object), dtype=object).astype(str).str.strip()
    comma = text.str.fullmatch(_DECIMAL_COMMA).to_numpy(dtype=bool)
    if not comma.any():
        return text.to_numpy(dtype=object)
    point = text.str.fullmatch(_DECIMAL_POINT).to_numpy(dtype=bool)
    if point.any():
        p, c = np.flatnonzero(point)[0], np.flatnonzero(comma)[0]
        raise DataError(
            f"{report.source}, {line_label} {lines[p]}, column {column!r}: "
            f"{text.iloc[p]!r} has a decimal point, but this column also has decimal commas "
            f"({line_label} {lines[c]}: {text.iloc[c]!r}), so '.' may be a thousands "
            f"separator here; write every number one way"
        )
    return text.where(~comma, text.str.replace(",", ".", regex=False)).to_numpy(dtype=object)


def escape_control(name: str) -> str:
    r"""``name`` with each control character written as an escape (``\n``, ``\x1f``).

    Parameters
    ----------
    name : str
        An entity, metric or column name.

    Returns
    -------
    str
        Printable text.

    Examples
    --------
    >>> print(escape_control("rack1\x1fnode\n2"))
    rack1\x1fnode\n2
    """
    return _CONTROL.sub(lambda m: _ESCAPES.get(m.group(0)) or
                        (f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100
                         else f"\\u{ord(m.group(0)):04x}"), name)


def name_key(name: str) -> str:
    """What two entity, metric or column names are compared by: the name without the white
    space around it (:data:`TRIM`: spaces, tabs, no-break spaces, …) and in Unicode's
    composed form (NFC), so that ``" node1"``, ``"node1\\t"`` and ``"node1"`` are one name,
    as are ``"café"`` written with ``é`` or with ``e`` and a combining accent. Case is kept:
    ``"node1"`` and ``"Node1"`` are two names (Prometheus and most systems tell them apart).

    >>> name_key(" node1\\t") == name_key("node1\\u00a0") == "node1"
    True
    >>> name_key("cafe\\u0301") == name_key("caf\\u00e9"), name_key("Node1") == "node1"
    (True, False)
    """
    trimmed = TRIM.sub("", name)
    return trimmed if trimmed.isascii() else unicodedata.normalize("NFC", trimmed)


def _how_they_differ(a: str, b: str) -> str:
    """What sets two spellings of one name (equal :func:`name_key`) apart, in words."""
    if TRIM.sub("", a) == TRIM.sub("", b):
        return "the white space around them"
    if unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b):
        return "their Unicode form (NFC/NFD)"
    return "the white space around them and their Unicode form (NFC/NFD)"


def spelling(a: str, b: str) -> tuple[str, str]:
    """Two spellings of one name, quoted so that they can be told apart: with escapes
    (``ascii``) when they differ in Unicode form and would print alike.

    >>> spelling("node1", " node1"), spelling("caf\\u00e9", "cafe\\u0301")
    (("'node1'", "' node1'"), ("'caf\\\\xe9'", "'cafe\\\\u0301'"))
    """
    if TRIM.sub("", a) == TRIM.sub("", b):  # (white space only: repr shows what differs)
        return repr(a), repr(b)
    return ascii(a), ascii(b)


def same_column_names(spelled: list[str], numbers: list[int] | None = None) -> str | None:
    """Why two of the header names ``spelled`` (as written) are one column, or None;
    ``numbers`` are the columns' numbers in the file (1, 2, … by default).

    Names are compared by :func:`name_key`: two spellings that
    differ only in the white space around them or in Unicode form (NFC/NFD) are one name,
    said naming both; names that differ in case are two.

    >>> print(same_column_names(["timestamp", "cpu", "cpu\\u00a0"]))
    ... # doctest: +NORMALIZE_WHITESPACE
    columns 2 ('cpu') and 3 ('cpu\\xa0') differ only in the white space around them, so
    both name the column 'cpu'; give each column its own name
    >>> same_column_names(["timestamp", "cpu", "CPU"]) is None
    True
    """
    numbers = list(range(1, len(spelled) + 1)) if numbers is None else numbers
    seen: dict[str, int] = {}
    for i, name in enumerate(spelled):
        j = seen.setdefault(name_key(name), i)
        if j == i:
            continue
        if spelled[j] == name:
            return (f"column name {TRIM.sub('', name)!r} appears twice in the header (columns "
                    f"{numbers[j]} and {numbers[i]}); give each column its own name")
        first, second = spelling(spelled[j], name)
        return (f"columns {numbers[j]} ({first}) and {numbers[i]} ({second}) differ only in "
                f"{_how_they_differ(spelled[j], name)}, so both name the column "
                f"{TRIM.sub('', spelled[j])!r}; give each column its own name")
    return None


def merge_spellings(raw: np.ndarray, names: np.ndarray, lines: np.ndarray, what: str,
                    report: ValidationReport, line_label: str = "line") -> np.ndarray:
    r"""``names`` (the distinct ``raw`` spellings, cleaned) with spellings of one name made one.

    Two spellings are one name when their :func:`name_key` is equal (they differ only in
    white space around them or in Unicode form): each takes the name of the first one seen
    (``raw`` is in order of appearance, ``lines`` the line each is first seen on), and the
    report says so in one warning naming both spellings and their lines, instead of the
    rows merging in silence (and then showing as duplicate timestamps of one series).

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     out = merge_spellings(np.array(["node1", " node1"], dtype=object),
    ...                           np.array(["node1", "node1"], dtype=object),
    ...                           np.array([2, 3]), "entity", ValidationReport("x.csv"))
    >>> out.tolist(), str(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
    (['node1', 'node1'], "x.csv: entity names 'node1' (line 2) and ' node1' (line 3) differ
    only in the white space around them: read as one entity, 'node1' (names are compared
    without the white space around them and in Unicode's composed form, NFC; case counts)")
    """
    names = np.asarray(names, dtype=object)
    if len(raw) < 2:
        return names
    keys = [name_key(str(n)) for n in names]
    if len(set(keys)) == len(keys):
        return names
    first: dict[str, int] = {}
    merged: list[tuple[int, int]] = []
    out = names.copy()
    for i, key in enumerate(keys):
        j = first.setdefault(key, i)
        if j != i:
            merged.append((j, i))
            out[i] = names[j]
    if merged:
        j, i = merged[0]
        more = f" ({len(merged) - 1} more such spelling(s))" if len(merged) > 1 else ""
        first, second = spelling(str(raw[j]), str(raw[i]))
        report.add("names merged",
                   f"{what} names {first} ({line_label} {lines[j]}) and {second} "
                   f"({line_label} {lines[i]}) differ only in "
                   f"{_how_they_differ(str(raw[j]), str(raw[i]))}: read as one {what}, "
                   f"{names[j]!r}{more} (names are compared without the white space around "
                   "them and in Unicode's composed form, NFC; case counts)",
                   np.asarray([lines[k] for pair in merged for k in pair]))
    return out


def clean_names(names: np.ndarray, lines: np.ndarray, what: str, report: ValidationReport,
                line_label: str = "line") -> np.ndarray:
    r"""Names with control characters written as escapes, with a warning naming the lines.

    Refuses the file when escaping would make two different names equal.

    Parameters
    ----------
    names : np.ndarray
        Stripped names (object array of str).
    lines : np.ndarray
        File line of each name.
    what : str
        ``"entity"``, ``"metric"`` or ``"column"``, for messages.
    report : ValidationReport
        Collects the warning; its ``source`` names the file.
    line_label : str
        ``"line"`` or ``"row"``.

    Returns
    -------
    np.ndarray
        The names, escaped where needed.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     clean_names(np.array(["a\x01", "b"], dtype=object), np.array([2, 3]), "entity",
    ...                 ValidationReport("x.csv")).tolist()
    ['a\\x01', 'b']
    """
    import pandas as pd

    series = pd.Series(np.asarray(names, dtype=object), dtype=object)
    unique = pd.unique(series)
    mapping = {n: escape_control(n) for n in unique if _CONTROL.search(n)}
    if not mapping:
        return series.to_numpy(dtype=object)
    escaped = series.map(lambda n: mapping.get(n, n))
    if escaped.nunique() < len(unique):
        raw_of: dict[str, str] = {}
        for raw, new, line in zip(series, escaped, lines, strict=True):
            if raw_of.setdefault(new, raw) != raw:
                raise DataError(
                    f"{report.source}, {line_label} {line}: {what} name {raw!r} has control "
                    f"characters and, written with escapes, equals another {what} name "
                    f"{raw_of[new]!r}; rename one of them"
                )
    touched = np.asarray(lines)[series.isin(list(mapping)).to_numpy()]
    example = next(iter(mapping))
    report.add("control characters", f"{len(mapping)} {what} name(s) with control characters "
               f"({describe_lines(np.unique(touched), line_label)}) written with escapes, e.g. "
               f"{example!r} as {mapping[example]}", np.unique(touched))
    return escaped.to_numpy(dtype=object)


def assemble(times: np.ndarray, series: np.ndarray, values: np.ndarray, lines: np.ndarray,
             keys: list[tuple[str, str]], report: ValidationReport,
             on_duplicate: str = "last", line_label: str = "line",
             ) -> tuple[np.ndarray, np.ndarray]:
    """Put observations ``(time, series index, value, line)`` on one sorted time axis.

    Applies the sorting and duplicate rules; returns ``(timestamps, values (T, S))``.
    Every distinct timestamp of the input is a row, even where all values are missing.
    """
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(f"on_duplicate must be one of {ON_DUPLICATE}, got {on_duplicate!r}")
    t = times.astype(np.int64)
    order_in_file = np.argsort(lines, kind="stable")
    t_f, s_f = t[order_in_file], series[order_in_file]
    by_series = np.lexsort((np.arange(len(t_f)), s_f))
    same = s_f[by_series][1:] == s_f[by_series][:-1]
    backwards = same & (np.diff(t_f[by_series]) < 0)
    if backwards.any():
        first_line = lines[order_in_file][by_series][1:][backwards][0]
        report.add("unsorted", f"rows are not in time order (first at {line_label} "
                   f"{first_line}); sorted by timestamp", [first_line])

    observed = ~np.isnan(values)
    order = np.lexsort((lines, t, series))
    t_o, s_o, l_o = t[order], series[order], lines[order]
    duplicate = np.zeros(len(order), dtype=bool)
    duplicate[1:] = (t_o[1:] == t_o[:-1]) & (s_o[1:] == s_o[:-1])
    if duplicate.any():
        group_start = ~duplicate
        group_id = np.cumsum(group_start) - 1
        dup_lines = np.unique(l_o[duplicate | np.r_[duplicate[1:], False]])
        if on_duplicate == "error":
            raise DataError(
                f"{report.source}: {int(duplicate.sum())} duplicate timestamp(s) for the same "
                f"series ({describe_lines(dup_lines, line_label)}); remove them or read with "
                f"on_duplicate='last' or 'first'"
            )
        # Within each (series, time) group keep one observed value: the last (or first) line.
        obs_o = observed[order]
        rank = np.where(obs_o, l_o, -1 if on_duplicate == "last" else np.iinfo(np.int64).max)
        keep = np.zeros(len(order), dtype=bool)
        n_groups = group_id[-1] + 1
        if on_duplicate == "last":
            best = np.full(n_groups, -2, dtype=np.int64)
            np.maximum.at(best, group_id, rank)
        else:
            best = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(best, group_id, rank)
        keep = (rank == best[group_id]) & obs_o
        # A group with no observed value keeps nothing (the row stays, as missing).
        dropped = ~keep & obs_o
        stamps = t_o.astype("datetime64[ns]").astype(str)
        for i in np.flatnonzero(dropped):
            entity, metric = keys[s_o[i]]
            report.superseded.append((int(l_o[i]), stamps[i], entity, metric,
                                      float(values[order][i])))
        rule = "later" if on_duplicate == "last" else "earlier"
        report.add("duplicates", f"{int(duplicate.sum())} duplicate timestamp(s) for the same "
                   f"series ({describe_lines(dup_lines, line_label)}); kept the value on the "
                   f"{rule} line, {int(dropped.sum())} replaced value(s) kept in the report",
                   dup_lines)
        selected = order[keep]
    else:
        selected = order[observed[order]]

    stamps = np.unique(t)
    out = np.full((len(stamps), len(keys)), np.nan)
    out[np.searchsorted(stamps, t[selected]), series[selected]] = values[selected]
    return stamps.astype("datetime64[ns]"), out


def check_shape(timestamps: np.ndarray, report: ValidationReport) -> None:
    """Warn about a single row and count gaps (which stay gaps)."""
    if len(timestamps) == 1:
        report.add("single row", "only one row: detectors need more data before their scores "
                   "mean anything")
        return
    steps = np.diff(timestamps.astype(np.int64))
    usual = np.median(steps)
    gaps = np.flatnonzero(steps > 1.5 * usual)
    if gaps.size:
        largest = int(gaps[np.argmax(steps[gaps])])
        report.add(
            "gaps",
            f"{gaps.size} gap(s) longer than 1.5× the usual step of {usual / 1e9:g} s "
            f"(largest {steps[largest] / 1e9:g} s after {timestamps[largest]}); left as gaps, "
            f"nothing filled in",
            warn=False,
        )
