"""``kizashi predict --horizon`` not a whole number of the data's steps: said, with the
horizon used. Cases counted by hand: the horizon used is the asked one rounded to whole
steps (at least one)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.data.frame import SeriesFrame
from kizashi.prediction.horizon_steps import horizon_note

CASES = [  # step s, horizon, (steps used, seconds used text) or None when it is whole
    (300, "1s", (1, "300 s")),
    (300, "299s", None),  # within 1 % of one step
    (300, "290s", (1, "300 s")),
    (300, "7m", (1, "300 s")),
    (300, "8m", (2, "600 s")),
    (300, "6h", None),
    (300, "21601", None),  # seconds: within 1 % of 72 steps
    (60, "90s", (2, "120 s")),
    (3600, "90m", (2, "2 h")),
    (3600, "1d", None),
    (86400, "6h", (1, "1 d")),
    (0.5, "1s", None),
    (1, "1.5s", (2, "2 s")),
]


def _frame(step: float, n: int = 50) -> SeriesFrame:
    ns = (np.arange(n) * round(step * 1e9)).astype("datetime64[ns]")
    return SeriesFrame.from_arrays(ns, np.ones((n, 1)))


@pytest.mark.parametrize(("step", "horizon", "used"), CASES)
def test_the_note_gives_the_horizon_used(step, horizon, used):
    note = horizon_note(_frame(step), horizon)
    if used is None:
        assert note is None
    else:
        steps, seconds = used
        word = "step" if steps == 1 else "steps"
        assert note.endswith(f": predicting {steps} {word} ({seconds}) ahead"), note


@pytest.mark.parametrize(("horizon", "warned"), [("1s", True), ("7m", True), ("1h", False)])
def test_predict_prints_the_note_once(tmp_path, horizon, warned):
    path = tmp_path / "node.csv"
    pd.DataFrame({"timestamp": 1_704_067_200 + 300 * np.arange(200),
                  "disk_pct": np.linspace(40, 60, 200).round(3)}).to_csv(path, index=False)
    result = CliRunner().invoke(cli, ["predict", str(path), "-q", "--horizon", horizon])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if "predicting" in line]
    assert len(notes) == (1 if warned else 0), result.stderr
    if warned:
        assert notes[0].startswith(f"warning: {path}: the horizon ")
