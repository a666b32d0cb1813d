"""A log file whose counts would not fit is refused in one line with a step that fits.

A few lines months apart on many hosts become ``span / step`` steps times hosts x
templates series of counts, almost all zeros (loghub's BGL_2k: 2,000 lines, 4 GiB at 1m);
``detect --logs`` must refuse such a file at once (no hour-long run) and name a
``--log-step`` that fits, and must read the same lines at that step.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli import detect_logs
from kizashi.cli.main import cli

START_S = 1_704_067_200


def _log(path, hosts: int, span_days: int) -> None:
    import datetime as dt

    lines = []
    for k in range(hosts):
        for at in (0, span_days * 86_400 * k // max(hosts - 1, 1)):
            stamp = dt.datetime.fromtimestamp(START_S + at, tz=dt.UTC)
            lines.append(f"{stamp:%Y-%m-%dT%H:%M:%SZ} host{k} kernel: disk error on sda{k}")
    path.write_text("\n".join(sorted(lines)) + "\n")


@pytest.mark.slow
@pytest.mark.parametrize(("hosts", "span_days"), [(40, 365), (400, 30), (4, 3650)])
def test_a_log_too_sparse_for_its_step_is_refused_with_a_step_that_fits(
        tmp_path, monkeypatch, hosts, span_days):
    monkeypatch.setattr(detect_logs, "MAX_LOG_CELLS", 2**20)
    path = tmp_path / "sparse.log"
    _log(path, hosts, span_days)
    refused = CliRunner().invoke(cli, ["detect", "--logs", str(path), "-q"])
    assert refused.exit_code == 1
    line = refused.output.strip().splitlines()[-1]
    assert "--log-step" in line and "Traceback" not in refused.output
    step = line.split("--log-step ")[1].split()[0]
    steps = span_days * 86_400 // {"m": 60, "h": 3600, "d": 86_400}[step[-1]] // int(step[:-1])
    assert steps * hosts <= 2**20  # the step named fits the generated span and hosts
    accepted = CliRunner().invoke(cli, ["detect", "--logs", str(path), "-q",
                                        "--log-step", step])
    assert accepted.exit_code == 0, accepted.output
    assert f"{2 * hosts} lines" in accepted.output


def test_the_refusal_names_the_first_and_last_line(tmp_path, monkeypatch):
    """A line with a wrong time (months off) makes the counts too large: the one-line
    refusal names the times the lines run between, so the odd one can be found."""
    monkeypatch.setattr(detect_logs, "MAX_LOG_CELLS", 2**12)
    path = tmp_path / "odd-time.log"
    lines = [f"2026-03-09T10:{m:02d}:00Z host1 job {m} done" for m in range(30)]
    lines.insert(7, "2026-09-01T00:00:00Z host1 job 99 done")
    path.write_text("\n".join(lines) + "\n")
    refused = CliRunner().invoke(cli, ["detect", "--logs", str(path), "-q"])
    assert refused.exit_code == 1
    (line,) = refused.stderr.strip().splitlines()
    assert "its lines run from 2026-03-09T10:00:00Z to 2026-09-01T00:00:00Z" in line
