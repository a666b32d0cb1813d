"""Timestamps as kizashi holds them: UTC ``datetime64[ns]``, checked for range and unit.

A ``datetime64[ns]`` holds 1677-09-21T00:12:43.145224193 to 2262-04-11T23:47:16.854775807
UTC; a date outside is refused (naming file, line and column), never wrapped around.

Numbers are read as time since 1970-01-01 UTC in a unit found from their magnitude
(zero fits any unit):

================  ==================  ==========================================
magnitude         unit                dates it covers (positive side)
================  ==================  ==========================================
below 1e11        seconds             1970 to 2262 (after 2262: refused)
1e11 to < 1e14    milliseconds        1973-03-03 to 5138
1e14 to < 1e17    microseconds        1973-03-03 to 5138
1e17 and above    nanoseconds         1973-03-03 to 2262-04-11
================  ==================  ==========================================

So milliseconds (or µs, ns) since 1970 before 1973-03-03 would be read as a larger
unit; such a file must be converted first. A column whose non-zero numbers fall in
different units' ranges is refused, naming the first line whose unit differs from
that of most numbers, and a line of the majority. Fractional numbers are
read exactly from their decimal text (a float column through its shortest decimal
representation, the one ``repr`` prints), to the nearest nanosecond.

>>> import numpy as np
>>> ns = epoch_to_ns(np.array([1704067200000, 1704067260000]), np.array([2, 3]), "x.csv")
>>> ns.astype("datetime64[ns]").astype(str).tolist()
['2024-01-01T00:00:00.000000000', '2024-01-01T00:01:00.000000000']
>>> epoch_unit(np.array([1.7e9, 1.7e12, 1.7e15, 1.7e18])).tolist()
[0, 1, 2, 3]
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re
from collections.abc import Callable

import numpy as np

from kizashi.data.validation import DataError

NS_MIN = int(np.iinfo(np.int64).min) + 1  # int64 min itself is NaT
NS_MAX = int(np.iinfo(np.int64).max)
FIRST = np.datetime64(NS_MIN, "ns")
LAST = np.datetime64(NS_MAX, "ns")
RANGE_TEXT = ("1677-09-21T00:12:43 to 2262-04-11T23:47:16 UTC, the range of "
              "datetime64[ns]")

#: (name, nanoseconds per unit, upper bound of the magnitude read in this unit)
EPOCH_UNITS: tuple[tuple[str, int, float], ...] = (
    ("seconds", 10**9, 1e11),
    ("milliseconds", 10**6, 1e14),
    ("microseconds", 10**3, 1e17),
    ("nanoseconds", 1, float("inf")),
)
UNIT_RULE = ("the unit of epoch numbers is read from their size: below 1e11 seconds, below "
             "1e14 milliseconds, below 1e17 microseconds, else nanoseconds")
_INTEGER = re.compile(r"[+-]?\d{1,18}")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _where(source: str, line_label: str, line: int, column: str | None) -> str:
    at = f"{source}, {line_label} {int(line)}"
    return f"{at}, column {column!r}" if column is not None else at


def epoch_unit(magnitudes: np.ndarray) -> np.ndarray:
    """Index into :data:`EPOCH_UNITS` of each absolute value (0 seconds … 3 nanoseconds).

    Parameters
    ----------
    magnitudes : np.ndarray
        Absolute values of epoch numbers, as floats.

    Returns
    -------
    np.ndarray
        The unit index of each value.

    Examples
    --------
    >>> epoch_unit(np.array([60.0, 1e11, 99e15, 1e17])).tolist()
    [0, 1, 2, 3]
    """
    bounds = np.array([upper for _, _, upper in EPOCH_UNITS[:-1]])
    return np.searchsorted(bounds, np.asarray(magnitudes, dtype=np.float64), side="right")


def describe_date(ns: int) -> str:
    """A date for a message, also where it is beyond ``datetime64[ns]`` (``year 5138``).

    Parameters
    ----------
    ns : int
        Nanoseconds since 1970-01-01 UTC (any size).

    Returns
    -------
    str
        ISO text to the second, or ``"year N"`` beyond the years Python can show.

    Examples
    --------
    >>> describe_date(10**19)
    '2286-11-20T17:46:40'
    """
    seconds = int(ns) // 10**9
    try:
        when = _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=seconds)
    except OverflowError:
        return f"year {1970 + round(seconds / 31_556_952)}"
    return when.isoformat()


def _choose_unit(magnitudes: np.ndarray, text_of: Callable[[int], str], lines: np.ndarray,
                 source: str, column: str | None, line_label: str) -> int:
    units = epoch_unit(magnitudes)
    nonzero = np.flatnonzero(magnitudes > 0)
    if nonzero.size == 0:
        return 0
    unit = int(np.argmax(np.bincount(units[nonzero], minlength=len(EPOCH_UNITS))))
    other = nonzero[units[nonzero] != unit]
    if other.size:
        first, reference = int(other[0]), int(nonzero[units[nonzero] == unit][0])
        raise DataError(
            f"{_where(source, line_label, lines[first], column)}: epoch timestamps of "
            f"different units in one column: {text_of(first)} here reads as "
            f"{EPOCH_UNITS[units[first]][0]}, but {text_of(reference)} at {line_label} "
            f"{int(lines[reference])} as {EPOCH_UNITS[unit][0]}; {UNIT_RULE}. "
            f"Write every timestamp in one unit."
        )
    return unit


def _out_of_range(source: str, line_label: str, line: int, column: str | None, text: str,
                  unit: str, ns: int) -> DataError:
    return DataError(
        f"{_where(source, line_label, line, column)}: timestamp {text} read as {unit} since "
        f"1970 is {describe_date(ns)}, outside {RANGE_TEXT} ({UNIT_RULE}); correct the "
        f"timestamp or drop the row"
    )


def epoch_to_ns(numbers: np.ndarray, lines: np.ndarray, source: str,
                column: str | None = "timestamp", line_label: str = "line") -> np.ndarray:
    """Nanoseconds since 1970 from epoch numbers whose unit is found from their size.

    Parameters
    ----------
    numbers : np.ndarray
        Integers, floats, or an object array of finite :class:`decimal.Decimal`.
    lines : np.ndarray
        File line (or row) of each number, for messages.
    source : str
        File name, for messages.
    column : str or None
        Column name, for messages.
    line_label : str
        ``"line"`` for text files, ``"row"`` for Parquet.

    Returns
    -------
    np.ndarray
        int64 nanoseconds since 1970-01-01 UTC.

    Raises
    ------
    DataError
        For a missing or non-finite number, numbers of different units, or a date
        outside the ``datetime64[ns]`` range.

    Examples
    --------
    >>> epoch_to_ns(np.array([1.5, 1704067200.25]), np.array([2, 3]), "x.csv").tolist()
    [1500000000, 1704067200250000000]
    """
    numbers = np.asarray(numbers)
    lines = np.asarray(lines)
    if numbers.dtype.kind in "iu":
        if numbers.dtype.kind == "u" and numbers.size and numbers.max() > NS_MAX:
            numbers = numbers.astype(object)
        else:
            return _ints_to_ns(numbers.astype(np.int64), lines, source, column, line_label)
    if numbers.dtype.kind == "f":
        bad = ~np.isfinite(numbers)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            what = "missing" if np.isnan(numbers[first]) else "infinite"
            raise DataError(f"{_where(source, line_label, lines[first], column)}: {what} "
                            f"timestamp")
        numbers = np.array([decimal.Decimal(repr(float(x))) for x in numbers], dtype=object)
    decimals = [decimal.Decimal(x) if not isinstance(x, decimal.Decimal) else x
                for x in numbers.tolist()]
    texts = [str(d) for d in decimals]
    magnitudes = np.array([float(d.copy_abs()) for d in decimals], dtype=np.float64)
    huge = np.flatnonzero(~(magnitudes < 1e20))  # beyond every unit's range (or inf)
    if huge.size:
        i = int(huge[0])
        raise DataError(f"{_where(source, line_label, lines[i], column)}: timestamp "
                        f"{texts[i][:40]} is far outside {RANGE_TEXT} in every unit "
                        f"({UNIT_RULE}); correct the timestamp or drop the row")
    unit = _choose_unit(magnitudes, texts.__getitem__, lines, source, column, line_label)
    name, factor, _ = EPOCH_UNITS[unit]
    out = np.empty(len(decimals), dtype=np.int64)
    with decimal.localcontext() as context:
        context.prec = 60
        for i, d in enumerate(decimals):
            ns = int((d * factor).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))
            if not NS_MIN <= ns <= NS_MAX:
                raise _out_of_range(source, line_label, lines[i], column, texts[i], name, ns)
            out[i] = ns
    return out


def _ints_to_ns(numbers: np.ndarray, lines: np.ndarray, source: str, column: str | None,
                line_label: str) -> np.ndarray:
    magnitudes = np.abs(numbers.astype(np.float64))
    unit = _choose_unit(magnitudes, lambda i: str(int(numbers[i])), lines, source, column,
                        line_label)
    name, factor, _ = EPOCH_UNITS[unit]
    limit = NS_MAX // factor
    outside = np.flatnonzero((numbers > limit) | (numbers < -limit))
    if outside.size:
        i = int(outside[0])
        raise _out_of_range(source, line_label, lines[i], column, str(numbers[i]), name,
                            int(numbers[i]) * factor)
    return numbers * factor


def epoch_numbers(text: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Epoch numbers from stripped text cells, exactly, if every cell is a number.

    Parameters
    ----------
    text : np.ndarray
        Stripped text cells.

    Returns
    -------
    numbers : np.ndarray or None
        int64 where every cell is an integer of up to 18 digits, else an object array of
        :class:`decimal.Decimal`; None when some cell is not a number.
    is_number : np.ndarray
        Which cells are numbers.

    Examples
    --------
    >>> epoch_numbers(np.array(["1704067200", "1704067260"]))[0].dtype
    dtype('int64')
    >>> epoch_numbers(np.array(["1.5e3", "2024-01-01"]))[1].tolist()
    [True, False]
    """
    import pandas as pd

    cells = pd.Series(np.asarray(text, dtype=object), dtype=object).astype(str)
    integer = cells.str.fullmatch(_INTEGER).to_numpy(dtype=bool)
    if integer.all():
        return cells.to_numpy(dtype=str).astype(np.int64), integer
    number = integer | cells.str.fullmatch(_NUMBER).to_numpy(dtype=bool)
    if not number.all():
        return None, number
    return np.array([decimal.Decimal(x) for x in cells.tolist()], dtype=object), number


def datetimes_to_ns(stamps: np.ndarray, lines: np.ndarray, source: str,
                    column: str | None = "timestamp", line_label: str = "line",
                    texts: np.ndarray | None = None) -> np.ndarray:
    """``datetime64[ns]`` from naive UTC ``datetime64`` of any unit, refusing NaT and overflow.

    Parameters
    ----------
    stamps : np.ndarray
        ``datetime64`` values of any unit (s, ms, us, ns).
    lines, source, column, line_label
        Where each value comes from, for messages.
    texts : np.ndarray, optional
        The text each value was read from, for messages.

    Returns
    -------
    np.ndarray
        ``datetime64[ns]``.

    Raises
    ------
    DataError
        For a missing timestamp or one outside the ``datetime64[ns]`` range.

    Examples
    --------
    >>> datetimes_to_ns(np.array(["2024-01-01"], dtype="datetime64[s]"), np.array([2]),
    ...                 "x.parquet")
    array(['2024-01-01T00:00:00.000000000'], dtype='datetime64[ns]')
    """
    stamps = np.asarray(stamps)
    missing = np.isnat(stamps)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise DataError(f"{_where(source, line_label, lines[first], column)}: missing "
                        f"timestamp")
    unit, count = np.datetime_data(stamps.dtype)
    factor = int(np.timedelta64(count, unit) // np.timedelta64(1, "ns"))
    raw = stamps.astype(np.int64)
    limit = NS_MAX // factor
    outside = np.flatnonzero((raw > limit) | (raw < -limit))
    if outside.size:
        i = int(outside[0])
        shown = str(texts[i]) if texts is not None else str(stamps[i])
        raise DataError(f"{_where(source, line_label, lines[i], column)}: timestamp {shown!r} "
                        f"is outside {RANGE_TEXT}; correct the timestamp or drop the row")
    return (raw * factor).astype("datetime64[ns]")
