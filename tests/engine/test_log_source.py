"""The logs source: a log file tailed as template counts (detect and watch)."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.engine.log_source import LogSource
from kizashi.engine.sources import SOURCES, make_source
from kizashi.watch.sources import SourceError


def line(minute: int, second: int, host: str, text: str) -> str:
    return f"2026-03-09T10:{minute:02d}:{second:02d}Z {host} {text}\n"


def test_tails_complete_steps_only_and_never_twice(tmp_path):
    path = tmp_path / "lsf.log"
    path.write_text(line(0, 1, "n1", "sbatchd restarted pid 1") +
                    line(0, 50, "n1", "sbatchd restarted pid 2"))
    source = LogSource(str(path))
    assert source.read(None).values.shape == (0, 2)          # step 10:00 is still open
    with open(path, "a") as handle:
        handle.write(line(1, 0, "n2", "job 4 done") + line(3, 0, "n1", "sbatchd restarted pid 3"))
        handle.write("2026-03-09T10:03:30Z n1 sbatchd rest")        # half a line
    got = source.read(None)
    assert got.timestamps.tolist() == [1773050400.0, 1773050460.0, 1773050520.0]
    assert got.labels == [{"entity": "n1", "metric": "log:lines"},
                          {"entity": "n1", "metric": "log:sbatchd restarted pid <NUM>"},
                          {"entity": "n2", "metric": "log:lines"},
                          {"entity": "n2", "metric": "log:job <NUM> done"}]
    assert got.values.tolist() == [[2, 2, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0]]
    with open(path, "a") as handle:
        handle.write("arted pid 4\n" + line(4, 0, "n1", "sbatchd restarted pid 5"))
    again = source.read(float(got.timestamps[-1]))
    assert again.timestamps.tolist() == [1773050580.0]
    assert again.values.tolist() == [[2, 2, 0, 0]]


def test_rotated_file_is_read_from_the_start(tmp_path):
    path = tmp_path / "lsf.log"
    path.write_text("".join(line(0, s, "n1", f"mbatchd exited code {s}") for s in range(0, 60, 5))
                    + line(1, 0, "n1", "mbatchd exited code 9"))
    source = LogSource(str(path))
    assert source.read(None).values.tolist() == [[12, 12]]
    path.write_text(line(5, 0, "n1", "mbatchd exited code 1") + line(6, 0, "n1", "x y"))
    got = source.read(1773050400.0)
    assert got.values[-1].tolist()[:2] == [1, 1] and got.timestamps[-1] == 1773050700.0


def test_registered_and_configurable(tmp_path):
    from kizashi.watch.config import parse_config

    assert SOURCES["logs"].endswith(":LogSource")
    path = tmp_path / "a.log"
    path.write_text(line(0, 0, "n1", "hello"))
    text = f"""
interval: 1m
listen: off
sources: {{lsf: {{type: logs, path: "{path}", format: iso}}}}
watches:
  - name: lsf-log
    source: lsf
    query: logs
    detectors:
      - {{name: d, detector: threshold}}
"""
    config = parse_config(text)
    source = make_source(config.sources["lsf"])
    assert isinstance(source, LogSource) and source.check() == "logs"
    with pytest.raises(ValueError, match="format of a logs source"):
        parse_config(text.replace("format: iso", "format: wide"))
    missing = LogSource(str(tmp_path / "nope.log"), name="lsf")
    with pytest.raises(SourceError, match="lsf.*does not exist"):
        missing.check()


def test_restart_loop_counts_stand_out(tmp_path):
    rng = np.random.default_rng(0)
    text = []
    for minute in range(60):
        text.append(line(minute, int(rng.integers(0, 59)), "n1", f"job {minute} done"))
        if 40 <= minute < 45:
            text += [line(minute, s, "n1", f"sbatchd restarted pid {100 + s}")
                     for s in range(0, 60, 6)]
    path = tmp_path / "lsf.log"
    path.write_text("".join(sorted(text)))
    got = LogSource(str(path)).read(None)
    restarts = got.values[:, [m["metric"].startswith("log:sbatchd") for m in got.labels]][:, 0]
    assert restarts[40:45].tolist() == [10] * 5 and restarts[:40].sum() == 0


def test_watch_pages_on_a_restart_loop_in_a_tailed_log(tmp_path):
    from kizashi.watch.config import parse_config
    from kizashi.watch.store import WatchStore
    from kizashi.watch.watcher import Watcher

    path = tmp_path / "lsf.log"
    path.write_text("")
    config = parse_config(f"""
interval: 60s
listen: off
sources: {{lsf: {{type: logs, path: "{path}", format: iso}}}}
watches:
  - name: lsf-log
    source: lsf
    detectors:
      - {{name: counts, detector: threshold, params: {{window: 60, min_periods: 10,
          min_std: 1.0}}, min_duration: 2m}}
""")
    start = 1773014400  # 2026-03-09T00:00:00Z
    clock = [float(start)]
    watcher = Watcher(config, WatchStore(":memory:"), clock=lambda: clock[0])
    rng = np.random.default_rng(1)
    for minute in range(120):
        with open(path, "a") as handle:
            for node in ("n1", "n2", "n3"):
                if rng.random() < 0.3:
                    stamp = np.datetime64(start + minute * 60 + 5, "s")
                    handle.write(f"{stamp}Z {node} res[1]: job {minute} finished\n")
            if minute >= 90:
                for k in range(6):
                    stamp = np.datetime64(start + minute * 60 + 8 * k + 10, "s")
                    handle.write(f"{stamp}Z n2 sbatchd[{k}]: sbatchd restarted by mbatchd\n")
        clock[0] = start + (minute + 1) * 60.0
        watcher.tick()
    alerts = watcher.store.alerts()
    # the new template's own series starts learning with its first line; the host's
    # total has learnt the quiet job lines for 90 minutes and pages within 2 minutes
    assert [a["labels"] for a in alerts] == [{"entity": "n2", "metric": "log:lines"}]
    assert start + 90 * 60 <= alerts[0]["starts_at"] <= start + 92 * 60
