"""A real state file to damage or upgrade: one ``kizashi watch --once`` tick over a CSV
(:func:`watch_config` writes the CSV and the config alone).

The watch ``m`` reads ``m.csv`` (one row per second from ``T0``, series ``a``, ``b`` and
optionally ``c``) with a threshold detector (window 30, k 5, after 10 points); the file
is ``good.sqlite`` in ``folder``, its WAL merged, so a byte copy of it is the whole state.
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from kizashi.cli.main import cli

T0 = 1_700_000_000


def watch_config(folder: Path, detector: str, steps: int = 200, third_series: bool = False,
                 storage: str = "good.sqlite") -> Path:
    """Write the CSV (``steps`` rows) and the config in ``folder``; return the config.
    Written again with more steps, the next tick has more to read."""
    header = "timestamp,a,b,c" if third_series else "timestamp,a,b"
    rows = [header] + [
        f"{T0 + i},{10 + math.sin(i / 7):.6f},{5 + (i % 13) / 10}"
        + (f",{1 + (i % 5)}" if third_series else "") for i in range(steps)]
    (folder / "m.csv").write_text("\n".join(rows) + "\n")
    config = folder / "watch.yaml"
    config.write_text(f"""
interval: 1s
listen: off
storage: {folder / storage}
sources: {{lab: {{type: csv, path: {folder / 'm.csv'}}}}}
watches:
  - name: m
    detectors: [{{name: {detector}, detector: threshold, params: {{window: 30, k: 5.0,
                  min_periods: 10}}}}]
""")
    return config


def ticked_state(folder: Path, detector: str, steps: int = 200,
                 third_series: bool = False) -> Path:
    """:func:`watch_config`, one ``--once`` tick, the WAL merged; return the config."""
    config = watch_config(folder, detector, steps, third_series)
    result = CliRunner().invoke(cli, ["watch", "--once", str(config)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(folder / "good.sqlite") as db:  # (copies are of the file alone)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return config
