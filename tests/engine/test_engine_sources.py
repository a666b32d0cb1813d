"""Sources of the engine: files read through the validated reader, Prometheus answers as
frames, `kizashi detect --prometheus`; bad input gives one clear line and loses nothing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.engine.sources import FileSource, frame_from_samples
from kizashi.watch.sources import Samples, SourceError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "watch"))
from watch_servers import FakeHttp, prometheus_handler


def long_csv(path: Path, rows: list[tuple[int, str, str, str]]) -> None:
    path.write_text("timestamp,entity,metric,value\n" + "".join(
        f"{t},{e},{m},{v}\n" for t, e, m, v in rows))


def test_file_source_returns_rows_after_since_and_rereads_a_grown_file(tmp_path):
    path = tmp_path / "m.csv"
    long_csv(path, [(10, "n1", "cpu", "0.5"), (20, "n1", "cpu", "0.7"), (20, "n2", "cpu", "0.1")])
    source = FileSource(str(path))
    first = source.read(None)
    assert first.timestamps.tolist() == [10.0, 20.0]
    assert first.labels == [{"entity": "n1", "metric": "cpu"}, {"entity": "n2", "metric": "cpu"}]
    np.testing.assert_array_equal(first.values, [[0.5, np.nan], [0.7, 0.1]])
    assert source.read(10.0).timestamps.tolist() == [20.0]
    with path.open("a") as handle:
        handle.write("30,n1,cpu,0.9\n")
    os.utime(path, (1e9, 1e9))  # another modification time, whatever the clock's resolution
    grown = source.read(20.0)
    assert grown.timestamps.tolist() == [30.0]
    np.testing.assert_array_equal(grown.values, [[0.9, np.nan]])


@pytest.mark.parametrize("content", [
    "timestamp,entity,metric,value\n10,n1,cpu,abc\n",      # text in a number column
    "timestamp,entity,metric,value\n10,n1,cpu,1,2\n",      # a field too many
    "",                                                     # empty
    "\x00\x01\x02binary",                                   # not text
])
def test_file_source_names_the_file_of_a_bad_file(tmp_path, content):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(SourceError, match="bad.csv"):
        FileSource(str(path), name="lab").read(None)


def test_file_source_missing_file_is_a_source_error(tmp_path):
    source = FileSource(str(tmp_path / "gone.csv"), name="lab")
    with pytest.raises(SourceError, match="gone.csv"):
        source.check()
    with pytest.raises(SourceError, match="gone.csv"):
        source.read(None)


@pytest.mark.parametrize("labels", [
    [{"instance": "a", "__name__": "up"}, {"instance": "b", "__name__": "up"}],
    [{"instance": "a", "cpu": "0"}, {"instance": "a", "cpu": "1"}],          # no __name__
    [{"__name__": "x", "job": "j1"}, {"__name__": "x", "job": "j2"}],        # no instance
    [{"instance": "a", "__name__": "x", "metric": "m1"},
     {"instance": "a", "__name__": "x", "metric": "m2"}],                    # collide twice
    [{}],                                                                    # no labels at all
])
def test_every_series_of_an_answer_keeps_its_own_key_and_values(labels):
    values = np.arange(3 * len(labels), dtype=float).reshape(3, len(labels))
    frame = frame_from_samples(Samples(np.array([0.0, 60.0, 120.0]), labels, values))
    assert len(set(frame.keys)) == len(labels)          # nothing merged
    np.testing.assert_array_equal(frame.values, values)  # nothing lost or moved


def test_an_empty_answer_is_a_clear_error():
    with pytest.raises(ValueError, match="no series"):
        frame_from_samples(Samples.empty(np.array([0.0])))


def test_detect_reads_a_range_from_prometheus(tmp_path):
    prom = FakeHttp(prometheus_handler(
        lambda name, t: 1.0 + (20.0 if name == "b" and (t // 60) % 200 == 150 else 0.0)
        + 0.01 * ((t // 60) % 7), ["a", "b"]))
    out = tmp_path / "scores.csv"
    try:
        result = CliRunner().invoke(cli, ["detect", "--prometheus", prom.url, "--query", "up",
                                          "--since", "4h", "--step", "1m", "--out", str(out),
                                          "-q"])
    finally:
        prom.close()
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out)
    assert set(scores.entity) == {"a", "b"} and len(scores) == 2 * 241


@pytest.mark.parametrize("answer", [(500, b"oops"), (200, b"not json"),
                                    (200, b'{"status":"error","error":"bad query"}')])
def test_detect_from_a_failing_prometheus_is_one_line(answer):
    prom = FakeHttp(lambda method, path, query, body: answer)
    try:
        result = CliRunner().invoke(cli, ["detect", "--prometheus", prom.url, "--query", "up",
                                          "-q"])
    finally:
        prom.close()
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_detect_needs_exactly_one_input(tmp_path):
    result = CliRunner().invoke(cli, ["detect", "-q"])
    assert result.exit_code == 1 and "FILE or --prometheus" in result.output
    result = CliRunner().invoke(cli, ["detect", "--prometheus", "http://127.0.0.1:9", "-q"])
    assert result.exit_code == 1 and "--query" in result.output
