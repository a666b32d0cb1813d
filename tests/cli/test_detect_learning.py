"""``kizashi detect`` on a file shorter than its detector's learning says so, once.

For a family of detectors and file lengths, the warning appears exactly when the engine
(``score_frame``, called here apart from the command) gives some series with values no
level at any step; a series with no value at all gets the reading warning only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.data.readers import read_series
from kizashi.engine.batch import score_frame

NOTE = "all still learning"


def _file(path, n: int, empty_column: bool = False):
    i = np.arange(n)
    table = {"timestamp": 1_704_067_200 + 300 * i,
             "cpu": np.round(50 + 5 * np.sin(i / 5), 3),
             "mem": np.round(30 + 3 * np.cos(i / 7), 3)}
    if empty_column:
        table["gpu"] = [""] * n
    pd.DataFrame(table).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("detector", "params"), [("threshold", {}), ("ensemble", {}),
                                                  ("sst", {"window": 20}),
                                                  ("changefinder", {})])
@pytest.mark.parametrize("n", [2, 5, 40, 300])
def test_the_note_appears_exactly_when_a_series_has_no_score(tmp_path, detector, params, n):
    data = _file(tmp_path / "node.csv", n)
    options = [a for key, value in params.items() for a in ("-p", f"{key}={value}")]
    result = CliRunner().invoke(cli, ["detect", str(data), "-q", "-d", detector, *options])
    assert result.exit_code == 0, result.output
    engine = score_frame(read_series(data), detector, params)
    empty = ~np.isfinite(engine.levels).any(axis=0)
    notes = [line for line in result.stderr.splitlines() if NOTE in line]
    assert len(notes) == (1 if empty.any() else 0), result.stderr
    if empty.any():
        assert notes[0].startswith(f"warning: {data}: {int(empty.sum())} of {empty.size} "
                                   f"series got no level (no step judged) at any of the "
                                   f"{n} steps")


def test_a_series_without_values_gets_no_learning_note(tmp_path):
    data = _file(tmp_path / "node.csv", 300, empty_column=True)
    result = CliRunner().invoke(cli, ["detect", str(data), "-q", "-d", "threshold"])
    assert result.exit_code == 0, result.output
    assert NOTE not in result.stderr
    assert "column 'gpu'" in result.stderr  # the reading warning names it


def test_a_query_too_short_is_told_to_read_a_longer_range(tmp_path, monkeypatch):
    """Prometheus input: the note says what to lengthen there (--since), not the file."""
    import kizashi.cli.detect as detect_module
    from kizashi.data.frame import SeriesFrame

    stamps = (1_704_067_200 + 60 * np.arange(5)).astype("datetime64[s]")
    short = SeriesFrame.from_arrays(stamps.astype("datetime64[ns]"), np.ones((5, 1)),
                                    entities=["a"], metrics=["up"])
    monkeypatch.setattr(detect_module, "read_prometheus", lambda *args: short)
    result = CliRunner().invoke(cli, ["detect", "--prometheus", "http://127.0.0.1:9",
                                      "--query", "up", "-q", "-d", "threshold"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if NOTE in line]
    assert len(notes) == 1 and notes[0].endswith("read a longer range (--since)"), notes
