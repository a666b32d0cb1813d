"""Every duration option of every command, fed odd durations: a usage error naming it.

The family is generated per option from the option's documented range (what a duration
*is*: positive, finite, a number with a unit); a bad value must end the command with
exit status 2 and one ``Error: Invalid value for '--OPTION'`` line, before any input is
read: the input file here would itself be refused, and the Prometheus address is one
nothing listens on.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

UNREAD = b"timestamp,cpu\n0,abc\n"  # refused when read: an option error must come first
NOT_DURATIONS = ["", "abc", "6x", "-1h", "-5", "0", "0s", "nan", "inf", "1e400s", "5 m m"]
#: option → (the command line before it, a value too small, a value too large)
OPTIONS = {
    "--horizon": (["predict", "{file}"], "0.5s", "1e9h"),
    "--since": (["detect", "--prometheus", "http://127.0.0.1:9", "--query", "up"], "0.5s",
                "1e6d"),
    "--step": (["detect", "--prometheus", "http://127.0.0.1:9", "--query", "up"], "1e-9s",
               "2d"),
    "--log-step": (["detect", "--logs", "{file}"], "1ms", "1e12"),
}
CASES = [(option, value) for option, (_, low, high) in OPTIONS.items()
         for value in [*NOT_DURATIONS, low, high]]


def run(tmp_path, option: str, value: str):
    source = tmp_path / "in.csv"
    source.write_bytes(UNREAD)
    before = [a.replace("{file}", str(source)) for a in OPTIONS[option][0]]
    return CliRunner().invoke(cli, [*before, option, value, "-q"])


@pytest.mark.parametrize(("option", "value"), CASES, ids=[f"{o} {v!r}" for o, v in CASES])
def test_an_odd_duration_is_a_usage_error_naming_the_option(tmp_path, option, value):
    result = run(tmp_path, option, value)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"Error: Invalid value for '{option}': "), lines
    assert "Traceback" not in result.output


def test_too_many_points_for_prometheus_is_refused_before_asking():
    result = CliRunner().invoke(cli, ["detect", "--prometheus", "http://127.0.0.1:9",
                                      "--query", "up", "--since", "366d", "--step", "1ms"])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert re.fullmatch(r"Error: --since 366d at --step 1ms is more than 10,000,000 points "
                        r"per series; use a coarser --step \(see '.*detect --help'\)",
                        line), line


@pytest.mark.parametrize(("option", "value"), [("--horizon", "90m"), ("--horizon", "1.5h"),
                                               ("--horizon", "3600"), ("--log-step", "1s"),
                                               ("--log-step", "1h")])
def test_good_durations_pass_the_option_to_the_reader(tmp_path, option, value):
    result = run(tmp_path, option, value)
    assert result.exit_code == 1  # the option passed: now the file is read and refused
    assert "in.csv" in result.stderr, result.stderr


@pytest.mark.parametrize(("option", "value"), [("--horizon", "1h30m"), ("--horizon", "1h 30m"),
                                               ("--log-step", "1m30s"),
                                               ("--log-step", "1d2h3m4s")])
def test_compound_durations_pass_the_option_to_the_reader(tmp_path, option, value):
    result = run(tmp_path, option, value)
    assert result.exit_code == 1, result.output  # the option passed; the file is refused
    assert "in.csv" in result.stderr, result.stderr


@pytest.mark.parametrize(("option", "value"), [("--since", "2d12h"), ("--step", "1m30s"),
                                               ("--step", "1s500ms")])
def test_compound_durations_reach_prometheus(tmp_path, option, value):
    result = run(tmp_path, option, value)
    assert result.exit_code == 1, result.output  # the option passed; nothing listens there
    assert "127.0.0.1:9" in result.stderr and "Invalid value" not in result.stderr


@pytest.mark.parametrize(("option", "value"), [("--horizon", "30m1h"), ("--horizon", "1h1h"),
                                               ("--since", "1D"), ("--step", "1m-30s")])
def test_what_prometheus_refuses_is_a_usage_error(tmp_path, option, value):
    result = run(tmp_path, option, value)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"Error: Invalid value for '{option}': not a duration")


def test_predict_with_a_compound_horizon_end_to_end(tmp_path):
    """``--horizon 1h30m`` is 90 minutes: the same forecasts as ``90m`` and ``5400``."""
    seconds = np.arange(0, 2 * 86400, 300)
    source = tmp_path / "disk.csv"
    pd.DataFrame({"timestamp": 1_704_067_200 + seconds,
                  "disk_pct": 20 + seconds / 3600}).to_csv(source, index=False)
    tables = {}
    for horizon in ("1h30m", "90m", "5400"):
        out = tmp_path / f"{horizon}.csv"
        result = CliRunner().invoke(cli, ["predict", str(source), "-q", "--horizon", horizon,
                                          "--limit", "disk_pct=60", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "horizon 1.5 h:" in result.output, result.output
        tables[horizon] = pd.read_csv(out, keep_default_na=False)
    assert tables["1h30m"].equals(tables["90m"]) and tables["1h30m"].equals(tables["5400"])
    warned = tables["1h30m"][tables["1h30m"].is_warning.astype(str) == "True"]
    # the disk passes 60 % just after 40 h (the step at 40 h 5 min, row 481): the first
    # warning is 90 minutes (18 steps) before, its ETA 90 minutes after it
    first = warned.iloc[0]
    assert warned.index[0] == 481 - 18
    assert (pd.Timestamp(first.eta) - pd.Timestamp(first.timestamp)).total_seconds() == 5400
