"""Long-form files read in pieces: per-line counts over chunks, names cleaned once per name.

The quick splitter counts each line's fields and blank characters over runs of
whole lines; whatever the run size, the table must be the one the csv module
splits. Entity and metric names are trimmed and escaped once per distinct name;
findings and errors must still name every line they concern.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kizashi.data import readers
from kizashi.data.readers import read_series, read_table
from kizashi.data.validation import DataError, DataWarning

TEXTS = [
    "timestamp,value\n0,1\n60,2\n",
    "timestamp,value\n0,1\n60,2",                      # no newline at the end
    "timestamp,value\n\n0,1\n ,\n60,2\n\n",             # blank lines, a line of a delimiter
    "timestamp,value\r\n0,1\r\n60,2\r\n",                # CRLF
    "sep=;\ntimestamp;value\n0;1\n60;2\n",              # a spreadsheet's sep= line
    "timestamp,entity,metric,value\n" + "".join(
        f"{t},node{e},cpu_with_a_long_name_{e % 3},{t * 0.5 + e}\n"
        for t in range(0, 600, 60) for e in range(7)),
    "timestamp\tvalue\n" + "\n".join(f"{i}\t{i * i}" for i in range(50)) + "\n",
]


@pytest.mark.parametrize("chunk", [1, 2, 5, 16, 1 << 22])
@pytest.mark.parametrize("text", TEXTS)
def test_split_in_chunks_equals_the_csv_module(tmp_path, monkeypatch, text, chunk):
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode())
    monkeypatch.setattr(readers, "_CHUNK_BYTES", chunk)
    table, lines = read_table(path)
    delimiter, sep_line = readers.sniff_delimiter(text)
    names, _, cells, expected_lines = readers._split_fields(path, text, delimiter, sep_line,
                                                            True)
    assert list(table.columns) == names
    assert lines.tolist() == expected_lines.tolist()
    for name, column in zip(names, cells, strict=True):
        assert table[name].tolist() == [c for c in column.tolist()]


def _long(tmp_path, rows: list[tuple[str, str, str]]):
    path = tmp_path / "long.csv"
    body = "".join(f"2024-01-01 00:0{t}:00,{e},{m},{t}\n" for t, e, m in rows)
    path.write_text("timestamp,entity,metric,value\n" + body)
    return path


def test_names_trimmed_once_collapse_into_one_series(tmp_path):
    rows = [(t, e, "cpu") for t in range(4) for e in (" n1", "n1 ", "n2")]
    rows = [(t, e, m) for t, e, m in rows if not (e == "n1 " and t % 2 == 0)]
    rows = [(t, e, m) for t, e, m in rows if not (e == " n1" and t % 2 == 1)]
    frame = read_series(_long(tmp_path, rows))
    assert frame.keys == [("n1", "cpu"), ("n2", "cpu")]
    assert frame.values[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_control_characters_warn_naming_every_line(tmp_path):
    rows = [(t, e, "cpu\x01" if e == "n1" else "cpu") for t in range(4) for e in ("n1", "n2")]
    path = _long(tmp_path, rows)  # n1's rows are lines 2, 4, 6 and 8
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_series(path)
    messages = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert any("lines 2, 4, 6, 8" in m and "control characters" in m for m in messages)
    assert ("n1", "cpu\\x01") in frame.keys


@pytest.mark.parametrize("blank_at", [0, 3, 7])
def test_an_empty_name_is_refused_at_its_line(tmp_path, blank_at):
    rows = [(t, e, "cpu") for t in range(4) for e in ("n1", "n2")]
    rows[blank_at] = (rows[blank_at][0], "  ", "cpu")
    with pytest.raises(DataError, match=rf"line {blank_at + 2}: empty entity name"):
        read_series(_long(tmp_path, rows))


def test_a_long_file_keeps_one_text_object_per_distinct_cell(tmp_path):
    rows = [(t, e, m) for t in range(5) for e in ("n1", "n2", "n3") for m in ("cpu", "mem")]
    table, _ = read_table(_long(tmp_path, rows))
    entities = table["entity"].to_numpy(dtype=object)
    assert len({id(x) for x in entities}) == 3
    assert entities.tolist() == [e for _ in range(5) for e in ("n1", "n2", "n3")
                                 for _ in ("cpu", "mem")]
    assert np.unique(table["value"].to_numpy(dtype=object)).size == 5
