"""Quick paths of the validation rules against the rules applied cell by cell.

``parse_numbers`` reads a column of plain numbers at once and only its other
cells by the rules; ``parse_timestamps`` parses a column that repeats its
texts once per distinct text. Both must give what the cell-by-cell rules give:
the same values, the same findings, or the same error message. The families
below put odd cells at every position of a column, alone and in pairs.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from kizashi.data.validation import (
    DataError,
    ValidationReport,
    _numbers_by_rules,
    _parse_timestamps,
    parse_numbers,
    parse_timestamps,
    repeated_text,
)

ODD_NUMBERS = [" 1.5", "2 ", "+1", ".5", "5.", "-0", "\t7\n", "1e-400", "1e400", "0x10",
               "1_000", "١٢", "３", "nan", "NaN", "inf", "-inf", "Infinity", "", " ", "TRUE",
               "NA", "null", "None", "-", "1,5", "1.5.2", "12345678901234567890123",
               "9007199254740993", "-9223372036854775809"]


def _outcome(read, *args):
    report = ValidationReport("x.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            values = read(*args, report)
        except DataError as error:
            return "error", str(error), []
    return "values", values, [(f.kind, f.message, f.lines) for f in report.findings]


def _same(first, second) -> None:
    assert first[0] == second[0]
    if first[0] == "error":
        assert first[1] == second[1]
    else:
        np.testing.assert_array_equal(first[1], second[1])
        assert first[2] == second[2]


def _columns(odd: list[str], fill: str, length: int = 4):
    """Columns of ``length`` cells of ``fill`` with one or two odd cells at each place."""
    for cell in odd:
        for place in range(length):
            column = [fill] * length
            column[place] = cell
            yield column
    for a, b in itertools.combinations(odd[::3], 2):
        yield [a, fill, b, fill]


@pytest.mark.parametrize("on_invalid", ["error", "missing"])
def test_numbers_read_at_once_equal_the_rules_cell_by_cell(on_invalid):
    for column in _columns(ODD_NUMBERS, "1.25"):
        cells = np.array(column, dtype=object)
        lines = np.arange(2, 2 + len(cells))
        quick = _outcome(lambda c, li, r: parse_numbers(c, li, "v", r, on_invalid),
                         cells, lines)
        rules = _outcome(lambda c, li, r: _numbers_by_rules(c, li, "v", r, on_invalid, "line"),
                         cells, lines)
        _same(quick, rules)


def test_numbers_of_other_types_keep_the_rules():
    """Only columns of text take the quick path: True is not 1, whatever pandas says."""
    cells = np.array([1.5, True, "2"], dtype=object)
    report = ValidationReport("x.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = parse_numbers(cells, np.array([1, 2, 3]), "v", report, "missing", "row")
    np.testing.assert_array_equal(values, [1.5, np.nan, 2.0])
    assert report.kinds() == ["invalid"]


ODD_TIMES = ["2024-01-01 00:00:00", "2024-01-01T00:01:00Z", "2024-01-01 00:02:00+09:00",
             " 2024-01-01 00:03:00 ", "", "1704067200", "1704067200000", "2300-01-01",
             "yesterday", "2024-13-01", "2024-01-01 00:04:00+0100"]


@pytest.mark.parametrize("fill", ["2024-01-01 00:05:00", "2024-01-01 00:05:00Z", "1704067500"])
def test_repeated_timestamps_parse_as_the_whole_column(fill):
    for column in _columns(ODD_TIMES, fill):
        cells = np.array(column * 3, dtype=object)  # every time three times, as in long form
        lines = np.arange(2, 2 + len(cells))
        assert repeated_text(cells, lines) is not None
        quick = _outcome(lambda c, li, r: parse_timestamps(c, li, r), cells, lines)
        whole = _outcome(lambda c, li, r: _parse_timestamps(c, li, r, "line", "timestamp"),
                         cells, lines)
        _same(quick, whole)


def test_repeated_text_first_lines_and_codes():
    cells = np.array(["b", "a", "b", "c", "a", "b"], dtype=object)
    uniques, first, codes = repeated_text(cells, np.array([10, 11, 12, 13, 14, 15]))
    assert uniques.tolist() == ["b", "a", "c"]
    assert first.tolist() == [10, 11, 13]
    assert uniques[codes].tolist() == cells.tolist()


@pytest.mark.parametrize("cells", [
    ["a", "b", "c", "d"],        # nothing repeats enough
    ["a", 1, "a", 1, "a", 1],    # not all text
    ["a", None, "a", None],      # a missing cell
    ["a"],
])
def test_repeated_text_declines(cells):
    assert repeated_text(np.array(cells, dtype=object), np.arange(len(cells))) is None
