"""``kizashi predict`` says when a ``_pct`` metric holds shares in 0–1 (its default limit
of 100 would never be near), and a share with its limit given warns as a percentage does."""

from __future__ import annotations

import numpy as np
import pandas as pd
from click.testing import CliRunner

from kizashi.cli.main import cli

ROWS = 900


def _write(path, scale: float) -> None:
    """A GPU memory share filling to full at row 780 (×scale), and a steady one."""
    steps = np.arange(ROWS)
    rows = []
    for entity, values in (("n1", 0.35 + 0.65 * steps / 780), ("n2", 0.6 + 0 * steps)):
        rows.append(pd.DataFrame({"timestamp": 1_704_067_200 + steps * 300, "entity": entity,
                                  "metric": "gpu_mem_pct",
                                  "value": scale * np.minimum(values, 1.0)}))
    pd.concat(rows).to_csv(path, index=False)


def _run(tmp_path, scale: float, *extra: str):
    path = tmp_path / f"gpu_{scale}.csv"
    _write(path, scale)
    out = tmp_path / "pred.csv"
    result = CliRunner().invoke(cli, ["predict", str(path), "--out", str(out), "-q", *extra])
    assert result.exit_code == 0, result.output
    return result.stderr, pd.read_csv(out, keep_default_na=False)


def test_a_share_named_pct_is_pointed_out_and_warns_with_its_limit(tmp_path):
    output, table = _run(tmp_path, 1.0)
    assert "every value of gpu_mem_pct is within 0–1" in output
    assert "--limit gpu_mem_pct=1" in output
    assert not table["is_warning"].any()  # against 100, nothing
    output, table = _run(tmp_path, 1.0, "--limit", "gpu_mem_pct=1")
    assert "within 0–1" not in output
    assert set(table[table["is_warning"]]["entity"]) == {"n1"}


def test_a_percentage_is_not_pointed_out(tmp_path):
    output, table = _run(tmp_path, 100.0)
    assert "within 0–1" not in output
    assert set(table[table["is_warning"]]["entity"]) == {"n1"}
