"""A file without a 'timestamp' column whose time column has another usual name (Grafana's
CSV export 'Time', InfluxDB's '_time', Elasticsearch's '@timestamp', time, date, datetime,
ts): read as the time, with a warning naming it; two such columns, or none, an error.

The expected series are the generator's own: the same file with the column renamed
'timestamp' reads to the same frame.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from kizashi.data.readers import read_series
from kizashi.data.validation import DataError, DataWarning

ALIASES = ["time", "Time", "TIME", "_time", "@timestamp", "datetime", "date", "ts", "Ts"]
START = 1_704_067_200


def _wide(n: int = 30) -> pd.DataFrame:
    i = np.arange(n)
    return pd.DataFrame({"timestamp": pd.to_datetime(START + 300 * i, unit="s", utc=True)
                         .strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "cpu": 50.0 + i % 7, "mem": 20.0 + i % 3})


def _long(n: int = 30) -> pd.DataFrame:
    wide = _wide(n)
    return wide.melt(id_vars="timestamp", var_name="metric", value_name="value").assign(
        entity="n1")[["timestamp", "entity", "metric", "value"]]


def _write(table: pd.DataFrame, path, kind: str):
    if kind == "parquet":  # the time as Parquet's own timestamp type
        time = table.columns[0]
        table = table.assign(**{time: pd.to_datetime(table[time])})
        table.to_parquet(path.with_suffix(".parquet"), index=False)
        return path.with_suffix(".parquet")
    table.to_csv(path, index=False)
    return path


def _read(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        frame = read_series(path)
    return frame, [str(w.message) for w in caught if issubclass(w.category, DataWarning)]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("alias", ALIASES)
def test_a_usual_time_column_name_is_read_as_the_time(tmp_path, alias, layout, kind):
    table = _wide() if layout == "wide" else _long()
    (tmp_path / "ref").mkdir()
    reference = _write(table, tmp_path / "ref" / "node.csv", kind)
    aliased = _write(table.rename(columns={"timestamp": alias}), tmp_path / "node.csv", kind)
    want, _ = _read(reference)
    got, shown = _read(aliased)
    assert got.keys == want.keys
    np.testing.assert_array_equal(got.timestamps, want.timestamps)
    np.testing.assert_array_equal(got.values, want.values)
    assert shown == [f"{aliased}: no 'timestamp' column: column {alias!r} read as the time"]


@pytest.mark.parametrize("pair", [("time", "date"), ("Time", "ts"), ("time", "TIME")])
def test_two_candidate_time_columns_are_an_error_naming_both(tmp_path, pair):
    table = _wide().rename(columns={"timestamp": pair[0]}).assign(**{pair[1]: 1.0})
    path = _write(table, tmp_path / "node.csv", "csv")
    with pytest.raises(DataError, match="could be the time|differ only in case") as caught:
        read_series(path)
    assert all(name in str(caught.value) for name in pair)


@pytest.mark.parametrize("name", ["time_of_day", "when", "stamp", "times"])
def test_other_names_are_still_refused_with_the_usual_names_listed(tmp_path, name):
    path = _write(_wide().rename(columns={"timestamp": name}), tmp_path / "node.csv", "csv")
    with pytest.raises(DataError, match="no 'timestamp' column.*time, _time, @timestamp"):
        read_series(path)
