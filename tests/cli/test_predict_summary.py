"""``kizashi predict``'s summary: each warned series' first warning says why it warned.

A warning starts when the probability reaches the cutoff, or when the runaway test
fires (``prediction/runaway.py``) with the probability still under it; the line must
then say so rather than show a bare ``p`` under the cutoff as the reason.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

CUTOFF = 0.15  # kizashi predict's default --cutoff (prediction.predictor.DEFAULT_CUTOFF)


def _fill_with_ripple(path, amplitude: float, period_steps: int) -> None:
    """A disk filling linearly from 40 % to 100 % over nine days, with a ripple."""
    steps = np.arange(3000)
    rng = np.random.default_rng(3)
    value = np.minimum(40 + 60 * steps / 2600
                       + amplitude * np.sin(2 * np.pi * steps / period_steps)
                       + rng.normal(0, 0.05, steps.size), 100)
    pd.DataFrame({"timestamp": 1_704_067_200 + steps * 300, "entity": "n1",
                  "metric": "disk_pct", "value": value.round(3)}).to_csv(path, index=False)


@pytest.mark.parametrize(("amplitude", "period_steps"), [(3.0, 24), (5.0, 72), (3.0, 288)])
def test_each_first_warning_gives_its_reason(tmp_path, amplitude, period_steps) -> None:
    path = tmp_path / "disk.csv"
    _fill_with_ripple(path, amplitude, period_steps)
    out = CliRunner().invoke(cli, ["predict", str(path), "-q"])
    assert out.exit_code == 0, out.output
    lines = [line for line in out.output.splitlines() if "first warning" in line]
    assert lines, out.output  # the disk does fill: it warns
    for line in lines:
        p = float(re.search(r"p=([0-9.]+)", line).group(1))
        runaway = "rising faster and faster" in line
        assert runaway == (p < CUTOFF), line


@pytest.mark.parametrize("slope", [0.08, 0.1, 0.12, 0.15])
def test_a_runaway_while_learning_is_reported_without_a_probability(tmp_path, slope):
    """A disk rising by ``slope`` points a 5-minute step from 60 % with a ripple reaches
    100 % at step 40/slope (500, 400, 333, 267): within the 503-row warm-up, so a
    warning before it has no probability to show, and the line says so, never
    ``p=nan``; whether the first warning has one is read from ``--out``."""
    steps = np.arange(800)
    value = np.minimum(60 + slope * steps + np.sin(steps / 10), 100)
    path = tmp_path / "fast.csv"
    pd.DataFrame({"timestamp": 1_704_067_200 + steps * 300,
                  "disk_pct": value.round(4)}).to_csv(path, index=False)
    out = CliRunner().invoke(cli, ["predict", str(path), "-q", "--out",
                                   str(tmp_path / "p.csv")])
    assert out.exit_code == 0, out.output
    assert "nan" not in out.output.lower(), out.output
    table = pd.read_csv(tmp_path / "p.csv")
    first = table.index[table["is_warning"]][0]  # the disk fills: it warns
    [line] = [line for line in out.output.splitlines() if "first warning" in line]
    learning = bool(np.isnan(table["probability"][first]))
    assert ("no probability yet" in line) == learning, line
    assert ("p=" in line) == (not learning), line


@pytest.mark.parametrize(("horizon", "shown"), [("299s", "299 s"), ("5m", "300 s"),
                                                ("90m", "1.5 h"), ("6h", "6 h"),
                                                ("2d", "2 d")])
def test_the_summary_gives_the_horizon_in_its_own_unit(tmp_path, horizon, shown) -> None:
    """The horizon as written (in seconds, hours or days), not as a fraction of an hour
    ("0.0830556 h" for 299 s)."""
    path = tmp_path / "disk.csv"
    _fill_with_ripple(path, 3.0, 24)
    out = CliRunner().invoke(cli, ["predict", str(path), "-q", "--horizon", horizon])
    assert out.exit_code == 0, out.output
    assert f"horizon {shown}:" in out.output, out.output
