"""Reading files: one test per kind of bad input, and the formats that must read cleanly."""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pytest

from kizashi.data.readers import read_series
from kizashi.data.validation import DataError, DataWarning

HEADER_LONG = "timestamp,entity,metric,value\n"


def write(tmp_path, text, name="data.csv", compress=False):
    path = tmp_path / (name + (".gz" if compress else ""))
    if compress:
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


def test_long_form_many_series(tmp_path):
    path = write(tmp_path, HEADER_LONG
                 + "2024-04-01T00:00:00,n1,cpu,1\n2024-04-01T00:00:00,n1,mem,2\n"
                 + "2024-04-01T00:00:00,n2,cpu,3\n2024-04-01T00:01:00,n1,cpu,4\n")
    frame = read_series(path)
    assert frame.keys == [("n1", "cpu"), ("n1", "mem"), ("n2", "cpu")]
    np.testing.assert_array_equal(frame.values, [[1, 2, 3], [4, np.nan, np.nan]])
    assert frame.report.findings == []


def test_wide_form_gzip(tmp_path):
    path = write(tmp_path, "timestamp,cpu,mem\n2024-04-01 00:00:00,1,2\n"
                 "2024-04-01 00:01:00,3,4\n", name="node7.csv", compress=True)
    frame = read_series(path)
    assert frame.keys == [("node7", "cpu"), ("node7", "mem")]
    assert frame.values.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_gzip_detected_by_content_not_name(tmp_path):
    path = tmp_path / "plain-name.csv"
    path.write_bytes(gzip.compress(b"timestamp,value\n0,1\n60,2\n"))
    assert read_series(path).values[:, 0].tolist() == [1.0, 2.0]


def test_parquet_round_trip(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"timestamp": pd.date_range("2024-04-01", periods=3, freq="min",
                                                     tz="Asia/Tokyo"),
                          "entity": ["a", "a", "a"], "metric": ["cpu"] * 3,
                          "value": [1.0, np.nan, 3.0]})
    frame.to_parquet(tmp_path / "x.parquet")
    with pytest.warns(DataWarning, match="missing"):
        read = read_series(tmp_path / "x.parquet")
    assert str(read.timestamps[0]) == "2024-03-31T15:00:00.000000000"
    assert np.isnan(read.values[1, 0]) and read.values[2, 0] == 3.0


def test_nab_file_reads_cleanly(nab_dir):
    path = nab_dir / "data/realKnownCause/nyc_taxi.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = read_series(path)
    assert frame.n_times == 10320 and frame.keys == [("nyc_taxi", "value")]


def test_real_file_with_a_repeated_hour_is_sorted_and_deduplicated(nab_dir):
    # NAB's machine_temperature file repeats 02:00-02:55 on 2014-01-07 (lines 10151-10162).
    path = nab_dir / "data/realKnownCause/machine_temperature_system_failure.csv"
    with pytest.warns(DataWarning) as caught:
        frame = read_series(path)
    messages = " ".join(str(w.message) for w in caught)
    assert "first at line 10151" in messages and "12 duplicate timestamp(s)" in messages
    assert frame.n_times == 22695 - 12
    assert len(frame.report.superseded) == 12  # the replaced values are kept, not lost
    assert frame.report.superseded[0][:2] == (10139, "2014-01-07T02:00:00.000000000")


# ---------------------------------------------------------------- bad input
def test_empty_file_is_an_error(tmp_path):
    with pytest.raises(DataError, match=r"empty\.csv: empty file"):
        read_series(write(tmp_path, "", name="empty.csv"))


def test_header_only_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no data rows"):
        read_series(write(tmp_path, "timestamp,value\n"))


def test_single_row_warns(tmp_path):
    with pytest.warns(DataWarning, match="only one row"):
        frame = read_series(write(tmp_path, "timestamp,value\n2024-04-01 00:00:00,5\n"))
    assert frame.values.tolist() == [[5.0]]


def test_unsorted_rows_are_sorted_with_warning(tmp_path):
    text = "timestamp,value\n0,1\n120,3\n60,2\n"
    with pytest.warns(DataWarning, match=r"not in time order \(first at line 4\); sorted"):
        frame = read_series(write(tmp_path, text))
    assert frame.values[:, 0].tolist() == [1.0, 2.0, 3.0]
    assert frame.epoch_seconds.tolist() == [0.0, 60.0, 120.0]


def test_duplicate_timestamps_keep_later_line_and_report_the_rest(tmp_path):
    text = "timestamp,value\n0,1\n60,2\n60,9\n120,3\n"
    with pytest.warns(DataWarning, match=r"1 duplicate.*lines 3, 4.*later line"):
        frame = read_series(write(tmp_path, text))
    assert frame.values[:, 0].tolist() == [1.0, 9.0, 3.0]
    assert frame.report.superseded == [(3, "1970-01-01T00:01:00.000000000", "data", "value",
                                        2.0)]


def test_duplicate_rule_first_and_error(tmp_path):
    text = "timestamp,value\n0,1\n60,2\n60,9\n"
    with pytest.warns(DataWarning):
        assert read_series(write(tmp_path, text), on_duplicate="first").values[1, 0] == 2.0
    with pytest.raises(DataError, match="duplicate timestamp.*lines 3, 4"):
        read_series(write(tmp_path, text), on_duplicate="error")


def test_duplicate_with_missing_value_does_not_erase_the_observed_one(tmp_path):
    text = "timestamp,value\n0,1\n60,2\n60,\n"
    with pytest.warns(DataWarning):
        frame = read_series(write(tmp_path, text))
    assert frame.values[:, 0].tolist() == [1.0, 2.0]


def test_gaps_are_marked_not_filled(tmp_path):
    frame = read_series(write(tmp_path, "timestamp,value\n0,1\n60,2\n120,3\n600,4\n660,5\n"))
    assert frame.n_times == 5  # nothing invented
    assert frame.gap_after().tolist() == [False, False, True, False, False]
    assert "gaps" in frame.report.kinds()


def test_nan_and_empty_cells_are_missing_with_warning(tmp_path):
    text = "timestamp,value\n0,1\n60,NaN\n120,\n180,4\n"
    with pytest.warns(DataWarning, match=r"2 missing value\(s\) kept as NaN \(lines 3, 4\)"):
        frame = read_series(write(tmp_path, text))
    assert np.isnan(frame.values[1:3, 0]).all() and frame.values[3, 0] == 4.0


def test_infinity_is_an_error_naming_the_line(tmp_path):
    with pytest.raises(DataError, match=r"data\.csv, line 3, column 'value': 'inf'"):
        read_series(write(tmp_path, "timestamp,value\n0,1\n60,inf\n"))


def test_text_in_numeric_column_is_an_error_naming_the_line(tmp_path):
    text = "timestamp,value\n0,1\n60,2\n120,oops\n"
    with pytest.raises(DataError, match=r"line 4, column 'value': 'oops' is not a finite"):
        read_series(write(tmp_path, text))


def test_text_can_be_read_as_missing_on_request(tmp_path):
    text = "timestamp,value\n0,1\n60,oops\n120,-inf\n"
    with pytest.warns(DataWarning, match=r"2 non-numeric or infinite cell\(s\).*lines 3, 4"):
        frame = read_series(write(tmp_path, text), on_invalid="missing")
    assert frame.values[0, 0] == 1.0 and np.isnan(frame.values[1:, 0]).all()


def test_unreadable_timestamp_is_an_error(tmp_path):
    with pytest.raises(DataError, match=r"line 3: cannot read timestamp 'yesterday'"):
        read_series(write(tmp_path, "timestamp,value\n2024-04-01 00:00:00,1\nyesterday,2\n"))


def test_mixed_offsets_are_converted_to_utc_with_warning(tmp_path):
    text = ("timestamp,value\n2024-04-01T09:00:00+09:00,1\n2024-04-01T00:01:00Z,2\n")
    with pytest.warns(DataWarning, match="2 different UTC offsets.*converted to UTC"):
        frame = read_series(write(tmp_path, text))
    assert [str(t) for t in frame.timestamps] == ["2024-04-01T00:00:00.000000000",
                                                  "2024-04-01T00:01:00.000000000"]


def test_naive_and_zoned_mixed_is_an_error(tmp_path):
    text = ("timestamp,value\n2024-04-01T09:00:00+09:00,1\n2024-04-01T00:01:00,2\n"
            "2024-04-01T09:02:00+09:00,3\n")
    with pytest.raises(DataError, match=r"line 3: .*mixes time-zone-less and zoned"):
        read_series(write(tmp_path, text))


def test_missing_timestamp_column_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no 'timestamp' column"):
        read_series(write(tmp_path, "time_of_day,value\n0,1\n"))


def test_ragged_rows_are_an_error(tmp_path):
    with pytest.raises(DataError, match=r"data\.csv: .*line 3"):
        read_series(write(tmp_path, "timestamp,value\n0,1\n60,2,3\n"))


def test_blank_lines_keep_line_numbers(tmp_path):
    with pytest.raises(DataError, match="line 5"):
        read_series(write(tmp_path, "timestamp,value\n0,1\n\n60,2\n120,x\n"))


def test_long_form_empty_entity_is_an_error(tmp_path):
    with pytest.raises(DataError, match="line 2: empty entity"):
        read_series(write(tmp_path, HEADER_LONG + "0,,cpu,1\n"))
