"""Times written without a zone (syslog's, ISO without ``Z`` or an offset) are the writing
machine's local time: read in the zone given (``timezone=``, ``--log-timezone``) and
turned into UTC, they give the same counts at the UTC steps worked out by hand from each
zone's offset that day, whatever the zone; a time with its own offset ignores the zone.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.data.log_zone import log_zone
from kizashi.data.logs import logs_to_frame, parse_lines

#: hours east of UTC on 9 March 2026 (Los Angeles is on daylight time since 8 March)
OFFSETS = {"UTC": 0.0, "Asia/Tokyo": 9.0, "America/Los_Angeles": -7.0,
           "Asia/Kolkata": 5.5, "America/St_Johns": -2.5, "Australia/Sydney": 11.0}
WALL_START = np.datetime64("2026-03-09T10:00:00", "s")  # wall clock of the first line


def wall_lines(layout: str, n: int = 30) -> list[str]:
    """A line every 20 s from 10:00:05 wall clock, hosts n0..n2, zone-less."""
    out = []
    for i in range(n):
        wall = (WALL_START + np.timedelta64(5 + 20 * i, "s")).item()
        time_text = (f"{wall:%b} {wall.day:2d} {wall:%H:%M:%S}" if layout == "syslog"
                     else f"{wall:%Y-%m-%d %H:%M:%S}")
        out.append(f"{time_text} n{i % 3} job {i} done")
    return out


def utc_steps(zone: str, n_steps: int) -> list[str]:
    shift = np.timedelta64(int(OFFSETS[zone] * 3600), "s")
    return [str(WALL_START - shift + np.timedelta64(60 * k, "s")) for k in range(n_steps)]


def seconds_text(stamps: np.ndarray) -> list[str]:
    return stamps.astype("datetime64[s]").astype(str).tolist()


@pytest.mark.parametrize("layout", ["iso", "syslog"])
@pytest.mark.parametrize("zone", sorted(OFFSETS))
def test_the_same_wall_clock_lines_count_alike_at_each_zones_utc_steps(layout, zone):
    frame = logs_to_frame(wall_lines(layout), step=60, format=layout, timezone=zone)
    # 30 lines 20 s apart: three a minute for ten minutes, one per host each minute
    assert seconds_text(frame.timestamps) == utc_steps(zone, 10)
    assert frame.values.sum(axis=1).tolist() == [3.0] * 10
    assert sorted(set(frame.entities)) == ["n0", "n1", "n2"]


def test_a_time_with_its_own_offset_or_z_ignores_the_zone_given():
    lines = ["2026-03-09T10:00:05+09:00 n1 a", "2026-03-09T10:00:05Z n1 a",
             "2026-03-09 10:00:05 UTC n1 a"]
    for zone in OFFSETS:
        got = parse_lines(lines, "iso", timezone=zone).timestamps
        assert (got - got[1]).tolist() == [-9 * 3600.0, 0.0, 0.0]


def test_across_a_daylight_saving_change_the_counts_stay_contiguous():
    # Los Angeles, 8 March 2026: 02:00 PST becomes 03:00 PDT; 01:58 PST is 09:58Z
    walls = ["01:58:00", "01:58:30", "01:59:00", "01:59:30",
             "03:00:00", "03:00:30", "03:01:00", "03:01:30"]
    lines = [f"2026-03-08 {w} n1 tick" for w in walls]
    frame = logs_to_frame(lines, step=60, format="iso", timezone="America/Los_Angeles")
    assert seconds_text(frame.timestamps) == [f"2026-03-08T{t}:00" for t in
                                              ("09:58", "09:59", "10:00", "10:01")]
    assert frame.values[:, 0].tolist() == [2.0, 2.0, 2.0, 2.0]


def test_local_is_this_machines_zone():
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    try:
        default = parse_lines(wall_lines("syslog"), "syslog").timestamps
        local = parse_lines(wall_lines("syslog"), "syslog", timezone="local").timestamps
    finally:
        os.environ.pop("TZ") if saved is None else os.environ.__setitem__("TZ", saved)
        time.tzset()
    named = parse_lines(wall_lines("syslog"), "syslog", timezone="Asia/Kolkata").timestamps
    assert default.tolist() == local.tolist() == named.tolist()


@pytest.mark.parametrize("name", ["Asia/Tokio", "UTC+9", "../etc/passwd", ""])
def test_a_name_that_is_no_zone_is_a_one_line_error(name):
    with pytest.raises(ValueError, match="unknown time zone"):
        log_zone(name)


def test_detect_log_timezone_reads_the_file_in_that_zone(tmp_path):
    from kizashi.cli.main import cli

    path = tmp_path / "tokyo.log"
    path.write_text("".join(x + "\n" for x in wall_lines("syslog")))
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(cli, ["detect", "--logs", str(path), "--log-timezone",
                                      "Asia/Tokyo", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines()[1].startswith("2026-03-09T01:00:00Z")
    bad = CliRunner().invoke(cli, ["detect", "--logs", str(path), "--log-timezone", "Mars/Base"])
    assert bad.exit_code == 2 and "unknown time zone 'Mars/Base'" in bad.output
