"""``kizashi detect``: an option given where nothing reads it is a usage error naming the
option it goes with, before the work; given with it, it is accepted. Each option of
``detect_unused.NEEDS`` is tried without and with its companion."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

# option given alone → (the companion named in the error, extra arguments that supply it)
CASES = {
    "labels": (["--labels", "{labels}"], "--format nab", ["--format", "nab"]),
    "log-format": (["--log-format", "syslog"], "--logs FILE", None),
    "log-step": (["--log-step", "5m"], "--logs FILE", None),
    "log-all-hosts": (["--log-all-hosts"], "--logs FILE", None),
    "log-hosts": (["--log-hosts"], "--logs FILE", None),
    "query": (["--query", "up"], "--prometheus URL", None),
    "since": (["--since", "7d"], "--prometheus URL", None),
    "step": (["--step", "5m"], "--prometheus URL", None),
    "group-window": (["--group-window", "3"], "--explain or --incidents FILE",
                     ["--explain"]),
}


@pytest.fixture
def files(tmp_path):
    data = tmp_path / "series.csv"
    stamps = pd.date_range("2024-01-01", periods=200, freq="5min")
    pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"),
                  "value": np.sin(np.arange(200) / 5)}).to_csv(data, index=False)
    labels = tmp_path / "windows.json"
    labels.write_text(json.dumps({}))
    return data, labels


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_option_nothing_reads_is_refused(files, tmp_path, case):
    data, labels = files
    option, companion, _ = CASES[case]
    option = [a.format(labels=labels) for a in option]
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(cli, ["detect", str(data), "-q", "-d", "threshold",
                                      "--out", str(out), *option])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert f"goes with {companion}" in lines[0]
    assert not out.exists()


@pytest.mark.parametrize("case", sorted(c for c in CASES if CASES[c][2] is not None))
def test_with_its_companion_the_option_is_read(files, case):
    data, labels = files
    option, _, companion = CASES[case]
    option = [a.format(labels=labels) for a in option]
    result = CliRunner().invoke(cli, ["detect", str(data), "-q", "-d", "threshold",
                                      *companion, *option])
    assert result.exit_code == 0, result.output


def test_the_defaults_alone_are_no_error(files):
    data, _ = files
    result = CliRunner().invoke(cli, ["detect", str(data), "-q", "-d", "threshold"])
    assert result.exit_code == 0, result.output
