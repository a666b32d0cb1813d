"""The `kizashi detect` and `kizashi detectors` commands, run as a user would."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_help_lists_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("detect", "detectors", "demo"):
        assert command in result.output


def test_detect_on_nab_file_writes_scores_and_plot(nab_dir, tmp_path):
    path = nab_dir / "data/realKnownCause/machine_temperature_system_failure.csv"
    out, plot = tmp_path / "scores.csv", tmp_path / "plot.png"
    result = CliRunner().invoke(cli, ["detect", str(path), "--format", "nab", "--out", str(out),
                                      "--plot", str(plot), "-q"])
    assert result.exit_code == 0, result.output
    assert "12 duplicate timestamp(s)" in result.output  # the repair is shown
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["timestamp", "entity", "metric", "detector", "score",
                                    "is_anomaly"]
    assert len(scores) == 22695 - 12
    assert scores["is_anomaly"].any() and (scores["detector"] == "ensemble").all()
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_detect_long_file_with_params_and_quantile_cutoff(tmp_path):
    rows = ["timestamp,entity,metric,value"]
    for i in range(200):
        for node in ("n1", "n2"):
            value = 50 + (i % 7) + (40 if (node == "n2" and i == 150) else 0)
            rows.append(f"{i * 60},{node},cpu,{value}")
    path = tmp_path / "long.csv"
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "s.csv"
    result = run("detect", path, "--detector", "sigma_threshold", "--param", "window=50",
                 "--param", "min_periods=10", "--cutoff", "q0.999", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out)
    flagged = scores[scores.is_anomaly]
    assert set(flagged.entity) == {"n1", "n2"}  # a q0.999 cutoff flags the top of each series
    n2 = scores[scores.entity == "n2"].reset_index(drop=True)
    assert n2.score.idxmax() == 150


@pytest.mark.parametrize(("text", "message"), [
    ("timestamp,value\n0,1\n60,abc\n", "line 3, column 'value': 'abc' is not a finite number"),
    ("", "empty file"),
])
def test_detect_bad_input_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    result = CliRunner().invoke(cli, ["detect", str(path)])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_detect_bad_param_and_unknown_detector(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("timestamp,value\n0,1\n60,2\n")
    result = CliRunner().invoke(cli, ["detect", str(path), "--param", "k"])
    assert result.exit_code == 2 and "key=value" in result.output
    result = CliRunner().invoke(cli, ["detect", str(path), "--detector", "nope"])
    assert result.exit_code == 2 and "unknown detector 'nope'" in result.output
    result = CliRunner().invoke(cli, ["detect", str(path), "--param", "speed=3"])
    assert result.exit_code == 2 and "has no parameter 'speed'" in result.output


def test_detectors_lists_parameters():
    result = run("detectors")
    assert result.exit_code == 0
    assert "threshold" in result.output and "window=288" in result.output
    assert "seasonal_threshold" in result.output and "needs timestamps" in result.output
