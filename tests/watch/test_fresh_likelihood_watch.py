"""A watch whose decision is calibrated by the anomaly likelihood starts on a fresh state
file: before its first tick it has no series, and the likelihood calibrator must take
"none yet" as a state (it refused it: ``kizashi watch`` ended at once in "internal error
(ValueError: AnomalyLikelihood: need at least one series, got 0)" for ``sst``,
``changefinder`` and every detector calibrated that way).

Family: the detectors whose default calibration is the likelihood, and the threshold with
``calibration: likelihood``, each started on a fresh state (``--once``), then restarted on
the state it wrote, with a CSV source whose series appear in the first tick.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli.watch import watch

DETECTORS = [("sst", "auto"), ("changefinder", "auto"), ("discord", "auto"),
             ("context", "auto"), ("threshold", "likelihood"), ("threshold", "zscore")]


def _source(tmp_path) -> str:
    rng = np.random.default_rng(1)
    path = tmp_path / "m.csv"
    start = 1_767_225_600
    rows = [f"{start + 60 * i},{50 + rng.normal():.4f},{20 + rng.normal():.4f}"
            for i in range(400)]
    path.write_text("timestamp,cpu,mem\n" + "\n".join(rows) + "\n")
    return str(path)


@pytest.mark.parametrize(("detector", "calibration"), DETECTORS)
def test_a_likelihood_calibrated_watch_starts_fresh_and_restarts(tmp_path, detector,
                                                                 calibration):
    config = tmp_path / "watch.yaml"
    config.write_text(f"""
interval: 1m
listen: off
initial_backfill: 1d
sources: {{f: {{type: csv, path: "{_source(tmp_path)}"}}}}
watches:
  - name: w
    detectors: [{{detector: {detector}, calibration: {calibration}}}]
""")
    state = tmp_path / "state.sqlite"
    for run in ("fresh", "restart"):
        result = CliRunner().invoke(watch, [str(config), "--state", str(state), "--once"])
        assert result.exit_code == 0, (run, result.output)
        assert "internal error" not in result.output
    with sqlite3.connect(state) as db:
        names = {row[0] for row in db.execute("SELECT labels FROM series")}
    assert len(names) == 2  # both columns became series
