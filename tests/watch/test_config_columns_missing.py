"""A watch's ``columns:`` naming series its source does not have (a misspelt or removed
CSV column), against docs/watch.md (``columns``: "only these series of the source").

Before, ``kizashi watch --check`` said "ok watch m: 2 series now" (it counted the whole
file) and the daemon watched nothing for the missing names, in silence — for ``columns:
[cpuu]`` nothing at all, forever. Now ``--check`` fails naming them, and the daemon says
so once per name in a WARNING (naming what the source has); the columns that exist are
watched as before.
"""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner
from watch_servers import Clock

from kizashi.cli.main import cli
from kizashi.watch.config import parse_config
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

T0 = 1_700_000_000
HEADER = ["a", "b", "cpu load", "\u6f22"]
CASES = {
    "all there": (["a", "b"], []),
    "one missing": (["a", "nosuch"], ["nosuch"]),
    "all missing": (["zz", "nosuch"], ["zz", "nosuch"]),
    "case differs": (["A"], ["A"]),
    "odd names": (["cpu load", "\u6f22", "cpu  load"], ["cpu  load"]),
}


def setup(tmp_path, columns):
    csv = tmp_path / "m.csv"
    csv.write_text("timestamp," + ",".join(HEADER) + "\n" + "".join(
        f"{T0 + i}," + ",".join(str(10 + (i * (j + 3)) % 7) for j in range(len(HEADER))) + "\n"
        for i in range(60)))
    text = (f"interval: 1s\nlisten: off\nstorage: {tmp_path / 's.sqlite'}\n"
            f"sources: {{lab: {{type: csv, path: {csv}}}}}\n"
            "watches:\n  - name: m\n    columns: [" + ", ".join(f'"{c}"' for c in columns)
            + "]\n    detectors: [{name: sigma, detector: threshold, params: {window: 30, "
            "k: 5.0, min_periods: 10}}]\n")
    config = tmp_path / "w.yaml"
    config.write_text(text)
    return config, text


@pytest.mark.parametrize("case", list(CASES))
def test_check_fails_naming_the_columns_the_source_lacks(tmp_path, case):
    columns, missing = CASES[case]
    config, _ = setup(tmp_path, columns)
    result = CliRunner().invoke(cli, ["watch", "--check", str(config)])
    line = next(x for x in result.output.splitlines() if "watch m:" in x)
    assert line.startswith("FAIL" if missing else "ok"), result.output
    assert f"{len(columns) - len(missing)} of its {len(columns)} columns" in line, line
    for name in missing:
        assert repr(name) in line, line
    assert result.exit_code == (1 if missing else 0), result.output


@pytest.mark.parametrize("case", list(CASES))
def test_the_daemon_says_each_missing_column_once_and_watches_the_others(tmp_path, caplog,
                                                                        case):
    columns, missing = CASES[case]
    _, text = setup(tmp_path, columns)
    store = WatchStore(":memory:")
    watcher = Watcher(parse_config(text), store, clock=Clock(T0 + 1000.0))
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        watcher.tick()
        watcher.tick()
    said = [r.getMessage() for r in caplog.records if "columns: are not among" in r.getMessage()]
    assert len(said) == (1 if missing else 0), said
    for name in missing:
        assert repr(name) in said[0], said
    watched = sorted(s["labels"]["series"] for s in store.all_series())
    assert watched == sorted(c for c in columns if c not in missing)
