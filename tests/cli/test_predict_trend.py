"""``kizashi predict`` on a disk filling inside the warm-up: warnings by default
(``--warmup-trend``), a note with ``--no-warmup-trend``; the output file otherwise
unchanged.

The disk rises 10 %/h from 20 %: full at 8 h, well inside the ~42 h warm-up. Its line
reaches 100 within the 6 h horizon from 2 h on (the first row with 2 h of history where
``20 + 10·(t + 6) ≥ 100``), so the operator hears of it six hours ahead either way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli


@pytest.fixture
def filling(tmp_path):
    seconds = np.arange(0, 10 * 3600, 300)
    path = tmp_path / "node.csv"
    pd.DataFrame({"timestamp": seconds, "disk_pct": np.minimum(20 + 10 * seconds / 3600, 100),
                  "load": 1 + np.sin(seconds / 3600)}).to_csv(path, index=False)
    return path


def _run(path, *extra):
    out = path.parent / f"pred{len(extra)}.csv"
    result = CliRunner().invoke(cli, ["predict", str(path), "-q", "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result.stdout, pd.read_csv(out, keep_default_na=False)


def test_with_no_warmup_trend_a_rise_while_learning_is_noted_not_warned(filling):
    text, table = _run(filling, "--no-warmup-trend")
    assert "node/disk_pct: first warning 1970-01-01T08:00Z (p=1.00" in text
    assert ("node/disk_pct: still learning, but the line through its last hours reaches 100 "
            "within the horizon from 1970-01-01T02:0") in text
    assert "--no-warmup-trend was given" in text
    warned = table[table.is_warning.astype(str) == "True"]
    assert warned.timestamp.min() == "1970-01-01T08:00:00Z"


@pytest.mark.parametrize("flag", [(), ("--warmup-trend",)])
def test_by_default_the_line_warns_six_hours_ahead(filling, flag):
    _, plain = _run(filling, "--no-warmup-trend")
    text, table = _run(filling, *flag)
    disk = table[table.metric == "disk_pct"]
    first = disk[disk.is_warning.astype(str) == "True"].iloc[0]
    assert first.timestamp in ("1970-01-01T02:00:00Z", "1970-01-01T02:05:00Z")
    assert first.eta == "1970-01-01T08:00:00Z" and first.probability == ""
    assert "its trend line reaches the limit, no probability yet (learning)" in text
    assert "still learning, but" not in text
    # only the learning rows of the rising series changed
    changed = (table != plain).any(axis=1)
    assert set(table[changed].metric) == {"disk_pct"}
    assert (table[changed].probability == "").all()
