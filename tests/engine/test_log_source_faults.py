"""A tailed log through the watch: a restart counts each line once, faults are said once.

The watch keeps no offset of the file: after a restart the source reads the file from
its start and the watch takes only the steps after the last one it processed (its
state file's progress). So a restart (a kill between two ticks, lines written while it
was down) neither counts a line twice nor skips one: each host's ``log:lines`` in the
state file is, step by step, the number of lines the writer wrote in that minute.

A file that goes away (deleted and not recreated, a folder in its place, a compressed
file, a path that cannot be resolved, no permission to open it) is the source's error:
logged once per kind while it lasts, the watch ticking on; when the file is back its
lines are counted.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections import Counter

import numpy as np

import kizashi.engine.log_tail as log_tail
from kizashi.watch.config import parse_config
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

START = 1773014400  # 2026-03-09T00:00:00Z


def refuse(path, *args, **kwargs):
    raise PermissionError(13, "Permission denied", path)


def config(path):
    return parse_config(f"""
interval: 60s
listen: off
sources: {{lsf: {{type: logs, path: "{path}", format: iso}}}}
watches:
  - name: lsf-log
    source: lsf
    detectors:
      - {{name: counts, detector: threshold, params: {{window: 30, min_periods: 5}}}}
""")


def write_minute(path, minute: int, rng, written: Counter) -> None:
    """Lines of each host at random seconds of ``minute``, counted in ``written``."""
    with open(path, "a") as handle:
        for host in ("n1", "n2"):
            for second in sorted(rng.integers(0, 60, rng.integers(0, 5)).tolist()):
                stamp = np.datetime64(START + minute * 60 + second, "s")
                handle.write(f"{stamp}Z {host} job {second} done\n")
                written[host, START + minute * 60] += 1


def stored_lines(store: WatchStore) -> dict[tuple[str, int], float]:
    out = {}
    for series in store.all_series():
        if series["labels"]["metric"] == "log:lines":
            points = store.points(series["id"])["counts"]
            times = points["t"].astype(int).tolist()
            assert len(times) == len(set(times))      # one value per step
            for t, value in zip(times, points["value"].tolist(), strict=True):
                out[series["labels"]["entity"], t] = value
    return out


def test_a_restart_neither_double_counts_nor_skips(tmp_path):
    path, state = tmp_path / "lsf.log", str(tmp_path / "state.db")
    path.write_text("")
    rng = np.random.default_rng(7)
    written: Counter = Counter()
    clock = [float(START)]
    watcher = Watcher(config(path), WatchStore(state), clock=lambda: clock[0])
    for minute in range(12):
        write_minute(path, minute, rng, written)
        clock[0] = START + (minute + 1) * 60.0 + 1
        watcher.tick()
    watcher.store.close()             # killed between ticks (the state commits per tick)
    for minute in range(12, 15):      # written while the daemon was down
        write_minute(path, minute, rng, written)
    watcher = Watcher(config(path), WatchStore(state), clock=lambda: clock[0])
    for minute in range(15, 20):
        write_minute(path, minute, rng, written)
        clock[0] = START + (minute + 1) * 60.0 + 1
        watcher.tick()
    got = stored_lines(watcher.store)
    # the last minute stays open until a later line; every earlier one once, as written
    steps = [START + 60 * m for m in range(19)]
    for host in ("n1", "n2"):
        first = min(t for h, t in written if h == host)
        assert [got.get((host, t)) for t in steps if t >= first] == \
            [float(written[host, t]) for t in steps if t >= first]


def test_a_file_gone_a_folder_or_compressed_is_said_once_and_the_watch_goes_on(tmp_path,
                                                                              caplog,
                                                                              monkeypatch):
    caplog.set_level(logging.INFO, logger="kizashi.watch")
    path = tmp_path / "lsf.log"
    path.write_text("")
    rng = np.random.default_rng(3)
    written: Counter = Counter()
    clock = [float(START)]
    watcher = Watcher(config(path), WatchStore(":memory:"), clock=lambda: clock[0])
    minute = 0

    def ticks(n: int, write: bool = False) -> None:
        nonlocal minute
        for _ in range(n):
            if write:
                write_minute(path, minute, rng, written)
            minute += 1
            clock[0] = START + minute * 60.0 + 1
            watcher.tick()

    ticks(4, write=True)
    faults = {
        "deleted": lambda: None,            # removed just before, not recreated
        "a folder": lambda: os.mkdir(path),
        "gzip": lambda: path.write_bytes(gzip.compress(b"2026-03-09T00:00:00Z n1 x\n")),
        "a symlink loop": lambda: os.symlink(path.name, path),
        "no permission": lambda: path.write_text(""),   # opening it refused, below
    }
    for name, make in faults.items():
        if path.is_dir():
            os.rmdir(path)
        elif path.exists() or path.is_symlink():
            os.remove(path)
        make()
        if name == "no permission":   # chmod 000 does not stop root: refuse the open itself
            monkeypatch.setattr(log_tail, "open", refuse, raising=False)
        before = len(caplog.records)
        ticks(3)
        errors = [r.getMessage() for r in caplog.records[before:] if r.levelno >= logging.ERROR]
        assert len(errors) == 1, (name, errors)           # once, not every tick
        assert str(path) in errors[0] and "\n" not in errors[0]
    assert "Permission denied" in errors[0]
    monkeypatch.undo()
    os.remove(path)
    write_minute(path, minute, rng, written)
    ticks(1)
    assert any("is up again" in r.getMessage() for r in caplog.records)
    ticks(3, write=True)
    got = stored_lines(watcher.store)
    late = START + (minute - 4) * 60
    assert all(got.get(key) == count for key, count in written.items()
               if late <= key[1] < START + (minute - 1) * 60)
