"""``kizashi detect --logs FILE``: a restart loop in a log file, caught and explained."""

from __future__ import annotations

import numpy as np
import pandas as pd
from click.testing import CliRunner

from kizashi.cli.detect import detect


def write_log(path, loop=(300, 320)):
    rng = np.random.default_rng(0)
    start = np.datetime64("2026-03-09T00:00:00", "s")
    lines = []
    for step in range(400):
        for node in ("n1", "n2", "n3"):
            if rng.random() < 0.3:
                t = start + np.timedelta64(step * 60 + int(rng.integers(0, 60)), "s")
                lines.append(f"{t}Z {node} res[{rng.integers(100, 999)}]: job "
                             f"{rng.integers(1000, 9999)} finished")
        if loop[0] <= step < loop[1]:
            for k in range(5):
                t = start + np.timedelta64(step * 60 + 10 * k, "s")
                lines.append(f"{t}Z n2 sbatchd[{rng.integers(100, 999)}]: sbatchd restarted "
                             "by mbatchd")
    path.write_text("\n".join(sorted(lines)) + "\n")


def test_detect_logs_catches_the_restart_loop(tmp_path):
    log, out, incidents = tmp_path / "lsf.log", tmp_path / "s.csv", tmp_path / "i.csv"
    write_log(log)
    result = CliRunner().invoke(detect, ["--logs", str(log), "--log-step", "1m", "-d", "threshold",
                                         "-p", "min_std=1", "--min-steps", "2",
                                         "--explain", "--incidents", str(incidents),
                                         "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "2 log templates on 3 host(s)" in result.output
    table = pd.read_csv(incidents)
    loop = table[table.entities == "n2"]
    assert len(loop) >= 1
    first = loop.iloc[0]
    # the loop starts at 05:00; with --min-steps 2 the alert fires on its second step
    assert first.start == "2026-03-09T05:01:00Z" and first.causes.startswith(
        "log:sbatchd[<NUM>]: sbatchd restarted by mbatchd")
    assert len(table) <= 2
    scores = pd.read_csv(out)
    assert set(scores.metric) == {"log:res[<NUM>]: job <NUM> finished",
                                  "log:sbatchd[<NUM>]: sbatchd restarted by mbatchd"}


def test_logs_and_a_file_together_is_an_error(tmp_path):
    log = tmp_path / "lsf.log"
    write_log(log)
    result = CliRunner().invoke(detect, [str(log), "--logs", str(log)])
    assert result.exit_code == 1 and "one of them" in result.output
