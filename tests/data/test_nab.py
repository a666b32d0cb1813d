"""The NAB loader against the team's copy of the corpus."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.nab import load_nab_corpus, load_nab_series
from kizashi.data.validation import DataError


def test_corpus_has_58_files_and_116_windows(nab_dir):
    corpus = load_nab_corpus(nab_dir)
    assert len(corpus) == 58
    assert sum(len(s.windows) for s in corpus) == 116
    assert sum(len(s.values) for s in corpus) == 365558


def test_rows_stay_in_file_order(nab_dir):
    series = load_nab_series("realKnownCause/machine_temperature_system_failure.csv", nab_dir)
    assert len(series.values) == 22695  # the repeated hour is kept, as NAB scores it
    assert "unsorted" in series.report.kinds()
    assert series.labels().sum() > 0
    with pytest.warns(UserWarning, match="12 duplicate"):
        frame = series.to_frame()
    assert frame.n_times == 22695 - 12 and frame.labels.sum() > 0


def test_files_with_rows_out_of_order_are_reported(nab_dir):
    flagged = [s.name for s in load_nab_corpus(nab_dir) if "unsorted" in s.report.kinds()]
    assert flagged == [
        "realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv",
        "realAWSCloudwatch/ec2_network_in_5abac7.csv",
        "realAdExchange/exchange-2_cpc_results.csv",
        "realAdExchange/exchange-2_cpm_results.csv",
        "realKnownCause/ec2_request_latency_system_failure.csv",
        "realKnownCause/machine_temperature_system_failure.csv",
        "realTraffic/occupancy_t4013.csv",
        "realTraffic/speed_t4013.csv",
    ]


def test_window_bounds_are_file_timestamps(nab_dir):
    series = load_nab_series("realKnownCause/nyc_taxi.csv", nab_dir)
    starts = {w[0] for w in series.windows}
    assert starts <= set(series.timestamps.tolist()) | {np.datetime64(s) for s in starts}
    assert series.labels()[np.searchsorted(series.timestamps, series.windows[0][0])]


def test_unknown_name_and_bad_windows(nab_dir, tmp_path):
    with pytest.raises(ValueError, match="not a NAB file name"):
        load_nab_series("realKnownCause/nope.csv", nab_dir)
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels/combined_windows.json").write_text(
        '{"x/y.csv": [["2020-01-01 00:00:00", "2020-01-01 00:10:00"]]}')
    (tmp_path / "data/x").mkdir(parents=True)
    (tmp_path / "data/x/y.csv").write_text("timestamp,value\n2020-01-01 00:00:00,1\n")
    with pytest.raises(DataError, match="window bound .* is not a timestamp"):
        load_nab_series("x/y.csv", tmp_path)
