"""Hosts whose clocks disagree with this machine's, through the watch's ``logs`` source.

A host whose clock runs ahead (by less than the five minutes that get a line skipped)
must not close the steps the hosts on time are still writing in: each step is delivered
once the clock has passed it, so no line of a host on time is lost as "late".
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from kizashi.engine.log_source import LogSource

START = dt.datetime(2026, 3, 9, 10, 0, tzinfo=dt.UTC).timestamp()


def stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def totals(samples) -> dict[tuple[str, float], float]:
    out = {}
    for j, label in enumerate(samples.labels):
        if label["metric"] == "log:lines":
            for i, t in enumerate(samples.timestamps.tolist()):
                out[(label["entity"], t)] = float(samples.values[i, j])
    return out


@pytest.mark.parametrize("ahead", [30.0, 61.0, 150.0, 299.0])
def test_a_host_ahead_of_the_clock_loses_no_line_of_the_hosts_on_time(tmp_path, caplog, ahead):
    path = tmp_path / "a.log"
    path.write_text("")
    clock = [START]
    source = LogSource(str(path), format="iso", clock=lambda: clock[0])
    got: dict = {}
    since = None
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        for second in range(0, 20 * 60, 10):  # every 10 s: n1 and n2 on time, fast ahead
            clock[0] = START + second
            with open(path, "a") as handle:
                handle.write(f"{stamp(clock[0] + ahead)} fast tick\n"
                             f"{stamp(clock[0])} n1 tick\n{stamp(clock[0])} n2 tick\n")
            samples = source.read(since)
            got.update(totals(samples))
            if samples.timestamps.size:
                since = float(samples.timestamps[-1])
    assert "skipped" not in caplog.text
    # every minute the clock has passed (10:00 .. 10:18) holds six lines of each host on time
    for host in ("n1", "n2"):
        assert [got[(host, START + 60 * m)] for m in range(19)] == [6.0] * 19
    assert max(t for _, t in got) == START + 18 * 60  # nothing the clock has not passed


def test_steps_wait_for_the_clock_not_for_the_newest_line(tmp_path):
    path = tmp_path / "a.log"
    path.write_text(f"{stamp(START + 5)} n1 a\n{stamp(START + 200)} fast b\n")
    clock = [START + 30]
    source = LogSource(str(path), format="iso", clock=lambda: clock[0])
    assert source.read(None).timestamps.size == 0  # 10:00 is not over on this clock
    clock[0] = START + 61
    assert source.read(None).timestamps.tolist() == [START]


#: hours east of UTC on 9 March 2026 (Los Angeles is on daylight time since 8 March)
OFFSETS = {"UTC": 0.0, "Asia/Tokyo": 9.0, "America/Los_Angeles": -7.0, "Asia/Kolkata": 5.5}


def local_lines(layout: str, offset_hours: float, n: int = 30) -> list[str]:
    """A line every 20 s from 10:00:05 UTC, written in wall-clock time ``offset_hours``
    east of UTC, without a zone."""
    out = []
    for i in range(n):
        wall = dt.datetime.fromtimestamp(START + 5 + 20 * i + offset_hours * 3600, dt.UTC)
        text = (f"{wall:%b} {wall.day:2d} {wall:%H:%M:%S}" if layout == "syslog"
                else f"{wall:%Y-%m-%d %H:%M:%S}")
        out.append(f"{text} n{i % 3} job {i} done")
    return out


@pytest.mark.parametrize("layout", ["iso", "syslog"])
@pytest.mark.parametrize("zone", sorted(OFFSETS))
def test_local_time_lines_of_any_zone_count_at_their_utc_steps(tmp_path, caplog, layout, zone):
    path = tmp_path / "a.log"
    path.write_text("".join(x + "\n" for x in local_lines(layout, OFFSETS[zone])))
    # this machine's clock: just after the last line (10:09:45 UTC), the true instant
    source = LogSource(str(path), format=layout, timezone=zone, clock=lambda: START + 600)
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        got = totals(source.read(None))
    assert "skipped" not in caplog.text
    # 10:00 .. 10:08 UTC complete (10:09 still open), one line per host each minute
    assert got == {(f"n{h}", START + 60 * m): 3.0 / 3 for h in range(3) for m in range(9)}


def test_a_logs_source_takes_its_timezone_from_the_config(tmp_path):
    from kizashi.watch.config import parse_config

    def config(source: str) -> str:
        return (f"interval: 1m\nlisten: off\nsources: {{l: {{{source}}}}}\nwatches:\n"
                "  - {name: w, source: l, query: logs, detectors: [{name: d, detector: "
                "threshold}]}\n")

    logs = f"type: logs, path: '{tmp_path / 'a.log'}'"
    parsed = parse_config(config(logs + ", timezone: Asia/Tokyo"))
    assert LogSource.from_config(parsed.sources["l"]).timezone == "Asia/Tokyo"
    assert LogSource.from_config(parse_config(config(logs)).sources["l"]).timezone is None
    with pytest.raises(ValueError, match=r"sources\.l\.timezone: unknown time zone 'Asia/Tokio'"):
        parse_config(config(logs + ", timezone: Asia/Tokio"))
    with pytest.raises(ValueError, match="unknown key.*timezone"):
        parse_config(config("type: prometheus, url: 'http://127.0.0.1:9090', timezone: UTC"))


def test_across_a_daylight_saving_change_the_watch_delivers_contiguous_steps(tmp_path):
    # Los Angeles, 8 March 2026: 02:00 PST becomes 03:00 PDT; 01:58 PST is 09:58Z
    walls = ["01:58:00", "01:58:30", "01:59:00", "01:59:30",
             "03:00:00", "03:00:30", "03:01:00", "03:01:30", "03:02:10"]
    path = tmp_path / "a.log"
    path.write_text("".join(f"Mar  8 {w} n1 tick\n" for w in walls))
    utc_0958 = dt.datetime(2026, 3, 8, 9, 58, tzinfo=dt.UTC).timestamp()
    source = LogSource(str(path), format="syslog", timezone="America/Los_Angeles",
                       clock=lambda: utc_0958 + 4 * 60 + 20)
    got = totals(source.read(None))
    assert got == {("n1", utc_0958 + 60 * k): 2.0 for k in range(4)}
