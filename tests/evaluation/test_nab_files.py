"""Reading and writing NAB-format result files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from kizashi.evaluation.nab_files import (
    read_result_file,
    read_results,
    result_path,
    write_result_file,
)

STAMPS = np.datetime64("2024-01-01", "ns") + np.arange(4) * np.timedelta64(5, "m")


def test_round_trip_plain_and_gzip(tmp_path):
    path = write_result_file(result_path(tmp_path, "det", "cat/a.csv"), STAMPS, [1, 2, 3, 4],
                             [0.0, 0.25, 1.0, 0.5], [0, 1, 1, 0])
    assert path == tmp_path / "det" / "cat" / "det_a.csv"
    gz = result_path(tmp_path, "det", "cat/b.csv", compress=True)
    gz.write_bytes(gzip.compress(path.read_bytes()))
    (tmp_path / "det" / "det_standard_scores.csv").write_text("Detector,File\n")  # skipped
    results = read_results(tmp_path)
    assert sorted(results["det"]) == ["cat/a.csv", "cat/b.csv"]
    for name in ("cat/a.csv", "cat/b.csv"):
        assert results["det"][name].scores.tolist() == [0.0, 0.25, 1.0, 0.5]
        assert (results["det"][name].timestamps == STAMPS).all()


def test_header_only_file_reads_as_empty(tmp_path):
    path = tmp_path / "det_a.csv"
    path.write_text("timestamp,anomaly_score\n")
    assert read_result_file(path).scores.shape == (0,)


def test_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "det_a.csv"
    path.write_text("timestamp,score\n2024-01-01 00:00:00,0.5\n")
    with pytest.raises(ValueError, match="det_a.csv: line 1 has no 'anomaly_score'"):
        read_result_file(path)
    path.write_text("timestamp,anomaly_score\n2024-01-01 00:00:00,0.5\n2024-01-01 00:05:00,x\n")
    with pytest.raises(ValueError, match=r"det_a.csv: line 3: anomaly_score 'x'"):
        read_result_file(path)
    with pytest.raises(ValueError, match="results directory not found"):
        read_results(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="no result files for ghost"):
        read_results(tmp_path, ["ghost"])
