"""A watch's ``columns`` that the source does not have are said, not silently dropped:
``--check`` fails naming them and counts the series the watch will really have (it counted
every column of the source: "3 series now" for a watch of none), and the daemon logs them
once per watch.

Family: lists of columns all absent, partly absent, present (with a repeat), against a
CSV source of three columns; the expected series are those of the list found in the
file's header, worked out here from the lists.
"""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner

from kizashi.cli.watch import run_daemon, watch
from kizashi.watch.config import load_config

HEADER = ["cpu", "mem", "disk_pct"]
LISTS = [["nosuch"], ["nosuch", "other"], ["nosuch", "cpu"], ["cpu"], ["cpu", "mem", "cpu"],
         HEADER]


def _config(tmp_path, columns: list[str]) -> str:
    source = tmp_path / "m.csv"
    rows = [f"{1_767_225_600 + 60 * i},{50 + i % 3},{20 + i % 5},{10 + i * 0.01:.2f}"
            for i in range(60)]
    source.write_text("timestamp," + ",".join(HEADER) + "\n" + "\n".join(rows) + "\n")
    config = tmp_path / "watch.yaml"
    config.write_text(f"""
interval: 1m
listen: off
storage: {tmp_path / "state.sqlite"}
initial_backfill: 1h
sources: {{f: {{type: csv, path: "{source}"}}}}
watches:
  - name: w
    columns: [{", ".join(columns)}]
    detectors: [{{detector: threshold}}]
""")
    return str(config)


@pytest.mark.parametrize("columns", LISTS, ids=["+".join(c) for c in LISTS])
def test_check_names_absent_columns_and_counts_the_real_series(tmp_path, columns):
    absent = [c for c in dict.fromkeys(columns) if c not in HEADER]
    present = {c for c in columns if c in HEADER}
    result = CliRunner().invoke(watch, [_config(tmp_path, columns), "--check"])
    lines = result.output.splitlines()
    assert f"{'ok  ' if present else 'FAIL'} watch w: {len(present)} series now" in lines
    said = [line for line in lines if "not in source f" in line]
    if absent:
        assert said == [f"FAIL watch w: column(s) {', '.join(absent)} not in source f"]
        assert result.exit_code == 1
    else:
        assert said == [] and result.exit_code == 0, result.output


@pytest.mark.parametrize("columns", LISTS, ids=["+".join(c) for c in LISTS])
def test_the_daemon_logs_absent_columns_once(tmp_path, columns, caplog):
    absent = [c for c in dict.fromkeys(columns) if c not in HEADER]
    config = load_config(_config(tmp_path, columns))
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        for _ in range(2):  # a restart warns again, once
            run_daemon(config, once=True)
    said = [r.getMessage() for r in caplog.records if "not in source f" in r.getMessage()]
    if absent:
        assert said == [f"watch w: column(s) {', '.join(absent)} not in source f (it has: "
                        f"{', '.join(sorted(HEADER))})"] * 2
    else:
        assert said == []


@pytest.mark.parametrize("columns", LISTS, ids=["+".join(c) for c in LISTS])
def test_check_of_a_source_with_no_series_yet_is_no_failure(tmp_path, columns):
    """A file not written yet (as a query nothing answers yet) has no series to compare
    the columns with: ``--check`` says 0 series, as before, and fails nothing; the daemon
    names absent columns once there are series."""
    config = _config(tmp_path, columns)
    (tmp_path / "m.csv").write_text("")
    result = CliRunner().invoke(watch, [config, "--check"])
    assert "ok   watch w: 0 series now" in result.output.splitlines(), result.output
    assert "not in source" not in result.output and result.exit_code == 0, result.output
