"""A cell that is no timestamp at all, among zoned ISO timestamps, is said to be unreadable
(naming its line and the formats expected), not to lack a time zone. Before, ``garbage``
in a column of ``...Z`` timestamps was refused as "mixes time-zone-less and zoned
timestamps", which sent the operator looking for a missing offset.

Family: odd cells (words, placeholders, impossible dates) at a few lines, in columns whose
zone is ``Z`` or ``+09:00``, in wide and long form; the control keeps a real zone-less
timestamp among zoned ones, which is still refused for its missing zone.
"""

from __future__ import annotations

import re

import pytest
from one_series_csv import write_one_series

from kizashi.data.readers import read_series
from kizashi.data.validation import DataError

ODD_CELLS = ["garbage", "N/A", "-", "null?", "2024-13-45T00:00:00", "12:00", "yesterday"]
ZONES = ["Z", "+09:00"]


def _stamp(i: int, zone: str) -> str:
    return f"2024-01-01T{i // 12:02d}:{(i % 12) * 5:02d}:00{zone}"


def _write(tmp_path, zone: str, bad_row: int, cell: str, form: str):
    """Zoned timestamps with ``cell`` in place of the one at ``bad_row``."""
    return write_one_series(tmp_path, form,
                            [cell if i == bad_row else _stamp(i, zone) for i in range(40)],
                            [i % 7 for i in range(40)])


@pytest.mark.parametrize("form", ["wide", "long"])
@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("bad_row", [0, 17, 39])
@pytest.mark.parametrize("cell", ODD_CELLS)
def test_a_cell_that_is_no_timestamp_is_unreadable_not_zone_less(tmp_path, cell, bad_row,
                                                                  zone, form):
    path = _write(tmp_path, zone, bad_row, cell, form)
    with pytest.raises(DataError) as caught:
        read_series(path)
    message = str(caught.value)
    line = bad_row + 2  # the header is line 1
    assert re.search(rf", line {line}: cannot read timestamp {re.escape(repr(cell))}", message)
    assert "zone" not in message


@pytest.mark.parametrize("zone", ZONES)
def test_a_real_zone_less_timestamp_among_zoned_ones_is_still_refused_for_its_zone(tmp_path,
                                                                                   zone):
    path = _write(tmp_path, zone, 17, _stamp(17, ""), "wide")
    with pytest.raises(DataError, match=r"line 19: timestamp .* mixes time-zone-less and zoned"):
        read_series(path)
