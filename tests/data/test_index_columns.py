"""A pandas row index in a file: dropped with a warning, never read as a metric.

The family: wide and long form; CSV (``to_csv()`` with its index: an empty header cell;
read back and written again: ``Unnamed: 0``; R's ``write.csv``: an empty cell over
1, 2, …), gzip CSV and Parquet (``Unnamed: 0`` and ``__index_level_0__`` stored as
columns); the index first, in the middle or last; with a time column and without. The
expected frame is the one read from the same table written without the index (the
clean file), so the expectation does not come from the code under test. A column named
like an index whose values are no plain row counter (a real metric, a counter from 2,
a shuffled index, gaps) is kept as a metric; an empty header cell over such values
stays an error naming the column.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kizashi.data.readers import read_series
from kizashi.data.validation import DataError, DataWarning

N = 12
STAMPS = pd.date_range("2026-03-09", periods=N, freq="5min").strftime("%Y-%m-%dT%H:%M:%SZ")


def _wide() -> pd.DataFrame:
    i = np.arange(N)
    return pd.DataFrame({"timestamp": STAMPS, "cpu": 50.0 + i % 3, "mem": 20.0 - i / 4})


def _long() -> pd.DataFrame:
    wide = _wide()
    rows = [pd.DataFrame({"timestamp": wide.timestamp, "entity": entity, "metric": metric,
                          "value": wide[metric] + k})
            for k, entity in enumerate(("n1", "n2")) for metric in ("cpu", "mem")]
    return pd.concat(rows, ignore_index=True)


FORMS = {"wide": _wide, "long": _long}
#: how the index reaches the file: (name of the index column, first value, storage)
WRITERS = ["to_csv", "to_csv gzip", "R write.csv", "Unnamed csv", "Unnamed parquet",
           "__index_level_0__ parquet"]
POSITIONS = ["first", "middle", "last"]


def _with_index(table: pd.DataFrame, name: str, start: int, position: str) -> pd.DataFrame:
    column = pd.Series(np.arange(start, start + len(table)), name=name)
    at = {"first": 0, "middle": 1, "last": len(table.columns)}[position]
    out = table.copy()
    out.insert(at, name, column)
    return out


def _write(table: pd.DataFrame, path, writer: str, position: str):
    """``table`` with its index written as ``writer`` does; the path written."""
    if writer in ("to_csv", "to_csv gzip", "R write.csv"):
        start = 1 if writer == "R write.csv" else 0
        indexed = _with_index(table, "", start, position)
        target = path.with_suffix(".csv.gz" if writer == "to_csv gzip" else ".csv")
        indexed.to_csv(target, index=False, compression="infer")
        return target
    name = "__index_level_0__" if writer.startswith("__index") else "Unnamed: 0"
    indexed = _with_index(table, name, 0, position)
    if writer.endswith("parquet"):
        target = path.with_suffix(".parquet")
        pq.write_table(pa.Table.from_pandas(indexed, preserve_index=False), target)
        return target
    target = path.with_suffix(".csv")
    indexed.to_csv(target, index=False)
    return target


def _read(path, **kwargs):
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        frame = read_series(path, **kwargs)
    return frame, [str(w.message) for w in shown if issubclass(w.category, DataWarning)]


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_row_index_is_dropped_with_a_warning(tmp_path, form, writer, position):
    table = FORMS[form]()
    clean = tmp_path / "node.csv"
    table.to_csv(clean, index=False)
    expected, clean_warnings = _read(clean)
    indexed = _write(table, tmp_path / "node", writer, position)
    frame, shown = _read(indexed)
    assert frame.metrics == expected.metrics and frame.entities == expected.entities
    np.testing.assert_array_equal(frame.timestamps, expected.timestamps)
    np.testing.assert_array_equal(frame.values, expected.values)
    new = [m for m in shown if m.split(": ", 1)[1] not in
           {c.split(": ", 1)[1] for c in clean_warnings}]
    assert len(new) == 1 and "row index" in new[0] and "index=False" in new[0], shown
    assert ("1, 2, …" if writer == "R write.csv" else "0, 1, …") in new[0]


@pytest.mark.parametrize("writer", WRITERS)
def test_without_a_time_column_the_error_names_the_real_columns(tmp_path, writer):
    table = _wide().drop(columns="timestamp")
    path = _write(table, tmp_path / "node", writer, "first")
    with pytest.raises(DataError, match=r"no 'timestamp' column \(columns: cpu, mem\)"):
        _read(path)


#: an index-like name over values that are no plain row counter: (values, why)
NOT_COUNTERS = {
    "a metric": (50.0 + np.sin(np.arange(N)), "real values"),
    "from 2": (np.arange(2, N + 2), "a counter from 2"),
    "shuffled": (np.random.default_rng(0).permutation(N), "a shuffled index"),
    "gaps": (np.arange(0, 2 * N, 2), "a filtered frame's index"),
    "falling": (np.arange(N)[::-1], "a reversed counter"),
    "halves": (np.arange(N) + 0.5, "fractions"),
}


@pytest.mark.parametrize("storage", ["csv", "parquet"])
@pytest.mark.parametrize("case", sorted(NOT_COUNTERS))
@pytest.mark.parametrize("name", ["Unnamed: 0", "Unnamed: 3", "__index_level_0__"])
def test_a_column_named_like_an_index_that_is_no_counter_stays_a_metric(tmp_path, name, case,
                                                                        storage):
    table = _wide()
    table.insert(1, name, NOT_COUNTERS[case][0])
    path = tmp_path / f"node.{storage}"
    table.to_csv(path, index=False) if storage == "csv" else table.to_parquet(path,
                                                                               index=False)
    frame, shown = _read(path)
    assert name in frame.metrics
    np.testing.assert_allclose(frame.values[:, frame.metrics.index(name)],
                               NOT_COUNTERS[case][0].astype(float))
    assert not any("row index" in m for m in shown)


@pytest.mark.parametrize("case", sorted(NOT_COUNTERS))
def test_an_empty_header_cell_over_no_counter_stays_an_error(tmp_path, case):
    table = _with_index(_wide(), "", 0, "first")
    table[""] = NOT_COUNTERS[case][0]
    path = tmp_path / "node.csv"
    table.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"line 1: column 1 of the header has no name"):
        _read(path)


def test_a_file_of_a_row_index_alone_is_no_metric(tmp_path):
    path = tmp_path / "node.csv"
    _with_index(_wide()[["timestamp"]], "", 0, "first").to_csv(path, index=False)
    with pytest.raises(DataError, match="only a 'timestamp' column"):
        _read(path)


def test_the_other_tables_drop_a_row_index_too(tmp_path):
    """Every CSV read through read_table: the entity labels of --group-by and a NAB file."""
    from kizashi.cli.detect_diagnosis import read_entity_labels
    from kizashi.data.nab import read_nab_file

    labels = tmp_path / "racks.csv"
    pd.DataFrame({"entity": ["n1", "n2"], "rack": ["a", "b"]}).to_csv(labels)
    with pytest.warns(DataWarning, match="row index"):
        assert read_entity_labels(labels) == {"n1": {"rack": "a"}, "n2": {"rack": "b"}}
    nab = tmp_path / "nab.csv"
    pd.DataFrame({"timestamp": STAMPS, "value": np.arange(N) * 1.5}).to_csv(nab)
    with pytest.warns(DataWarning, match="row index"):
        series = read_nab_file(nab, {})
    np.testing.assert_array_equal(np.asarray(series.values).ravel(), np.arange(N) * 1.5)
