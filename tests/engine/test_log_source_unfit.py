"""Lines a log source's format does not fit, against the module's docs
(:mod:`kizashi.engine.log_source`: skipped lines are counted and said, never silent).

Before, a watch given ``format: syslog`` for a file of JSON lines (or of ISO lines)
counted nothing and said nothing, forever; and an unknown format under ``format: auto``
advised ``--log-format``, which is the daemon's *own log* option, not the source's. Now
the skipped lines are said in one WARNING with their count and the first of them, again
at most once an hour (with the count since), and auto-detection names the source's
``format:``. The junk kinds and their counts are built here.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from kizashi.engine.log_source import UNFIT_EVERY_SECONDS, LogSource
from kizashi.watch.sources import SourceError

START = dt.datetime(2026, 3, 9, 10, 0, tzinfo=dt.UTC)


def good(fmt: str, i: int) -> str:
    t = START + dt.timedelta(seconds=20 * i)
    if fmt == "iso":
        return f"{t:%Y-%m-%dT%H:%M:%S}Z node{i % 3} job {i} finished"
    return f"{t:%b} {t.day:2d} {t:%H:%M:%S} node{i % 3} job {i} finished"


JUNK = {
    "json": lambda i: json.dumps({"time": "2026-03-09T10:00:00Z", "msg": f"x {i}"}),
    "plain text": lambda i: f"this line has no time {i}",
    "stack trace": lambda i: f"\tat org.example.Thing.method{i}(Thing.java:{i})",
    "other format": lambda i: f"- {1741514400 + i} 2026.03.09 R02 2026-03-09-10.00.00 R02 RAS "
                              f"KERNEL INFO msg {i}",
}


def unfit_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and "fit no" in r.getMessage()]


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize("fmt", ["iso", "syslog"])
@pytest.mark.parametrize("junk", list(JUNK))
@pytest.mark.parametrize("share", ["all", "some"])
def test_lines_that_fit_no_line_of_the_format_are_said_with_count_and_first(
        tmp_path, caplog, fmt, junk, share):
    lines = [JUNK[junk](i) if share == "all" or i % 4 == 1 else good(fmt, i) for i in range(40)]
    n_junk = sum(line.startswith(JUNK[junk](0)[:6]) for line in lines)
    first = next(line for line in lines if line.startswith(JUNK[junk](0)[:6]))
    path = tmp_path / "a.log"
    path.write_text("\n".join(lines) + "\n")
    clock = Clock(START.timestamp() + 3600)
    source = LogSource(str(path), format=fmt, timezone="UTC", clock=clock)
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        source.read(None)
    said = unfit_warnings(caplog)
    assert len(said) == 1, said
    assert f" {n_junk} line(s)" in said[0] and f"fit no {fmt} line" in said[0], said[0]
    assert repr(" ".join(first.split()))[:60] in said[0], said[0]

    caplog.clear()  # more junk within the hour: counted, not said yet
    with open(path, "a") as handle:
        handle.write("\n".join(JUNK[junk](100 + i) for i in range(5)) + "\n")
    clock.t += UNFIT_EVERY_SECONDS / 2
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        source.read(None)
    assert unfit_warnings(caplog) == []
    with open(path, "a") as handle:
        handle.write("\n".join(JUNK[junk](200 + i) for i in range(3)) + "\n")
    clock.t += UNFIT_EVERY_SECONDS / 2
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        source.read(None)
    said = unfit_warnings(caplog)
    assert len(said) == 1 and " 8 line(s)" in said[0], said


@pytest.mark.parametrize("fmt", ["iso", "syslog"])
def test_lines_that_all_fit_say_nothing(tmp_path, caplog, fmt):
    path = tmp_path / "a.log"
    path.write_text("\n".join(good(fmt, i) for i in range(40)) + "\n\n\n")
    source = LogSource(str(path), format=fmt, timezone="UTC",
                       clock=Clock(START.timestamp() + 3600))
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        source.read(None)
    assert unfit_warnings(caplog) == []


@pytest.mark.parametrize("junk", list(JUNK)[:3])
def test_an_unknown_format_names_the_sources_format_key(tmp_path, junk):
    path = tmp_path / "a.log"
    path.write_text("\n".join(JUNK[junk](i) for i in range(40)) + "\n")
    source = LogSource(str(path), name="lg", timezone="UTC")
    with pytest.raises(SourceError) as caught:
        source.read(None)
    assert "format: of source 'lg'" in str(caught.value), str(caught.value)
    assert "--log-format" not in str(caught.value)
