"""Columns of a long-form file beyond ``timestamp, entity, metric, value`` (a ``job``,
``unit`` or ``instance`` label column) are not read, and the reader now says so in a
warning naming them, instead of dropping them silently. The series read are those of the
same file without them.

Family: one or several extra columns, before or after the four, CSV and Parquet; the
control: the four columns alone (or with the time column named ``time``) give no warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kizashi.data.readers import read_series
from kizashi.data.validation import DataWarning

BASE = ["timestamp", "entity", "metric", "value"]


def _rows(n: int = 12) -> list[dict]:
    return [{"timestamp": 1_704_067_200 + 60 * i, "entity": e, "metric": m,
             "value": float(i + 10 * k), "job": "batch", "unit": "%", "instance": f"{e}:9100"}
            for i in range(n) for k, (e, m) in enumerate([("n1", "cpu"), ("n2", "cpu"),
                                                           ("n1", "mem")])]


def _write(tmp_path, columns: list[str], suffix: str):
    import pandas as pd

    table = pd.DataFrame(_rows()).rename(columns={"timestamp": columns[0]} if
                                         columns[0] == "time" else {})
    table = table[columns]
    path = tmp_path / f"long{suffix}"
    if suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False)
    return path


def _read(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_series(path)
    return frame, [str(w.message) for w in caught if issubclass(w.category, DataWarning)]


LAYOUTS = [["job"], ["job", "unit", "instance"], ["instance", "*"]]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("extra", LAYOUTS, ids=["+".join(e) for e in LAYOUTS])
def test_extra_columns_are_named_in_a_warning_and_change_nothing(tmp_path, extra, suffix):
    columns = [c for c in extra if c != "*"] + BASE if "*" in extra else BASE + extra
    frame, said = _read(_write(tmp_path, columns, suffix))
    (tmp_path / "plain").mkdir()
    plain, plain_said = _read(_write(tmp_path / "plain", BASE, suffix))
    names = [c for c in extra if c != "*"]
    assert [m for m in said if "not read" in m] == [
        f"{tmp_path / ('long' + suffix)}: column(s) {', '.join(map(repr, names))} not read: "
        f"a long-form file is read as timestamp, entity, metric, value (a series is one "
        f"entity and metric)"]
    assert plain_said == []
    assert frame.entities == plain.entities and frame.metrics == plain.metrics
    np.testing.assert_array_equal(frame.values, plain.values)


def test_a_time_column_named_time_is_no_extra_column(tmp_path):
    _, said = _read(_write(tmp_path, ["time", "entity", "metric", "value"], ".csv"))
    assert not [m for m in said if "not read" in m]
