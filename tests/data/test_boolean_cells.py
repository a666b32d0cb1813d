"""A CSV column of booleans (``True``/``False``, as pandas and spreadsheets write flags) is
refused with the hint Parquet's booleans get: write them as 0 and 1. Before, the message
only offered ``--on-invalid missing``, which would turn the whole column into gaps.

Family: spellings of true/false, in a wide column or the ``value`` of a long file, at the
first data line or later; the control: other text gets no boolean hint, and
``on_invalid="missing"`` still reads such cells as missing.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from one_series_csv import write_one_series

from kizashi.data.readers import read_series
from kizashi.data.validation import DataError

SPELLINGS = ["True", "False", "TRUE", "false", "true"]


def _write(tmp_path, cell: str, row: int, form: str):
    """A flag column, 1 before ``row`` and ``cell`` from there on."""
    return write_one_series(tmp_path, form, [i * 60 for i in range(20)],
                            [cell if i >= row else 1 for i in range(20)], metric="flag")


@pytest.mark.parametrize("form", ["wide", "long"])
@pytest.mark.parametrize("row", [0, 7])
@pytest.mark.parametrize("cell", SPELLINGS)
def test_a_boolean_cell_is_told_to_be_written_as_0_and_1(tmp_path, cell, row, form):
    with pytest.raises(DataError) as caught:
        read_series(_write(tmp_path, cell, row, form))
    message = str(caught.value)
    assert re.search(rf"line {row + 2}, column '(flag|value)': '{cell}' is not a finite number",
                     message)
    assert "a boolean: write booleans as 0 and 1" in message


@pytest.mark.parametrize("cell", ["abc", "yes", "on", "T"])
def test_other_text_gets_no_boolean_hint(tmp_path, cell):
    with pytest.raises(DataError) as caught:
        read_series(_write(tmp_path, cell, 3, "wide"))
    assert "boolean" not in str(caught.value)


@pytest.mark.parametrize("cell", SPELLINGS)
def test_read_as_missing_when_asked(tmp_path, cell):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = read_series(_write(tmp_path, cell, 7, "wide"), on_invalid="missing")
    flag = frame.values[:, frame.metrics.index("flag")]
    assert np.isnan(flag[7:]).all() and (flag[:7] == 1).all()
