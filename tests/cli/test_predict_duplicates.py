"""``kizashi predict`` on a file with duplicated lines (a scraper that sent some samples
twice) writes what it writes for the file without them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from click.testing import CliRunner

from kizashi.cli.main import cli


def _fill(rows: int = 900) -> pd.DataFrame:
    """A disk filling at 2 % an hour (100 % at row 780) and a steady one."""
    steps = np.arange(rows)
    rng = np.random.default_rng(0)
    frames = []
    for entity, values in (("n1", 35 + 65 * steps / 780), ("n2", 60 + 0 * steps)):
        frames.append(pd.DataFrame({"timestamp": 1_704_067_200 + steps * 300, "entity": entity,
                                    "metric": "disk_pct",
                                    "value": (values + rng.normal(0, 0.1, rows)).round(3)}))
    return pd.concat(frames, ignore_index=True)


def test_duplicated_lines_change_nothing(tmp_path):
    clean = _fill()
    rng = np.random.default_rng(1)
    doubled = pd.concat([clean, clean.sample(frac=0.05, random_state=2)])
    doubled = doubled.iloc[rng.permutation(len(doubled))]  # and out of order
    outputs = []
    for name, table in (("clean", clean), ("doubled", doubled)):
        path = tmp_path / f"{name}.csv"
        table.to_csv(path, index=False)
        out = tmp_path / f"{name}_pred.csv"
        result = CliRunner().invoke(cli, ["predict", str(path), "--out", str(out), "-q"])
        assert result.exit_code == 0, result.output
        outputs.append(pd.read_csv(out, keep_default_na=False))
    pd.testing.assert_frame_equal(outputs[0], outputs[1])
    warned = outputs[0][outputs[0]["is_warning"]]
    assert set(warned["entity"]) == {"n1"}  # the filling disk warns, the steady one not
