"""The times of log lines: a syslog time's year, times no count can hold, a line years away.

* A syslog line names no year. Read at any moment of the year (each month's first and
  last day, New Year's Eve and Day, 29 February), a line of any date is put in the latest
  year that leaves it no more than a day ahead of that moment: so it lies within the
  year before it, and 29 February falls in a leap year.
* A time outside 1677–2262 (what a count's time axis holds) is a skipped line, not an
  overflow; epoch lines of the loghub formats too.
* A line more than ten years away from the others (a host whose clock said 1970) is
  left out of the counts, which would otherwise fill the decades between with zeros;
  a sparse log (a line a year) is kept whole.
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pytest

from kizashi.data.logs import _epoch, logs_to_frame, main_span, parse_lines

UTC = dt.UTC
#: the moments of reading: each month's first and last day, and the year's edges
NOWS = [dt.datetime(2026, m, d, 12, tzinfo=UTC) for m in range(1, 13)
        for d in (1, calendar.monthrange(2026, m)[1])]
NOWS += [dt.datetime(2026, 12, 31, 23, 59, tzinfo=UTC), dt.datetime(2027, 1, 1, 0, 1, tzinfo=UTC),
         dt.datetime(2028, 2, 29, 12, tzinfo=UTC), dt.datetime(2028, 3, 1, 0, tzinfo=UTC)]
DATES = [(m, d) for m in range(1, 13) for d in (1, 15, calendar.monthrange(2024, m)[1])]


@pytest.mark.parametrize("now", NOWS, ids=[f"{n:%Y-%m-%d %H:%M}" for n in NOWS])
def test_a_syslog_time_is_put_in_the_latest_year_not_ahead_of_now(now):
    for month, day in DATES:
        text = f"{calendar.month_abbr[month]} {day:2d} 10:00:00"
        seconds = _epoch(text, "syslog", now.year, now.timestamp())
        stamp = dt.datetime.fromtimestamp(seconds, UTC)
        assert (stamp.month, stamp.day, stamp.hour) == (month, day, 10), text
        assert stamp <= now + dt.timedelta(days=1), (text, stamp)
        if (month, day) != (2, 29):
            assert stamp > now - dt.timedelta(days=366), (text, stamp)
        else:
            assert calendar.isleap(stamp.year) and stamp > now - dt.timedelta(days=4 * 366)


OUT_OF_RANGE = {
    "iso": ["0001-01-01T00:00:00Z", "1600-06-01T00:00:00Z", "2300-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z"],
    "hpc": ["99999999999", "-99999999999"],
}


@pytest.mark.parametrize(("fmt", "stamp"), [(f, s) for f, stamps in OUT_OF_RANGE.items()
                                            for s in stamps])
def test_a_time_no_count_can_hold_is_a_skipped_line(fmt, stamp):
    good = {"iso": "2026-03-09T10:00:00Z n1 job done",
            "hpc": "1 node-1 unix.hw state_change.unavailable 1131566461 1 up"}[fmt]
    odd = {"iso": f"{stamp} n1 job done",
           "hpc": f"2 node-1 unix.hw state_change.unavailable {stamp} 1 up"}[fmt]
    parsed = parse_lines([good, odd, good], fmt)
    assert len(parsed.hosts) == 2 and parsed.skipped == 1
    frame = logs_to_frame([good, odd, good], format=fmt)
    assert frame.n_times == 1 and frame.values.sum() == 2


@pytest.mark.parametrize("far", ["1970-01-01T00:00:00Z", "2000-01-01T00:00:00Z",
                                 "2099-01-01T00:00:00Z"])
@pytest.mark.parametrize("where", [0, 5, 10])
def test_a_line_decades_away_is_left_out_of_the_counts(far, where):
    lines = [f"2026-03-09T10:{m:02d}:00Z n{m % 2} job {m} done" for m in range(10)]
    lines.insert(where, f"{far} n7 clock wrong")
    frame = logs_to_frame(lines, step=60, format="iso")
    assert frame.meta["far"] == 1 and frame.n_times == 10
    assert set(frame.entities) == {"n0", "n1"} and frame.values.sum() == 10


def test_a_sparse_log_is_kept_whole():
    days = np.arange(0, 9 * 365, 400)  # a line every 400 days for nine years
    stamps = np.datetime64("2016-01-01T00:00:00") + days.astype("timedelta64[D]")
    lines = [f"{s}Z n1 monthly report" for s in stamps]
    frame = logs_to_frame(lines, step=86400, format="iso")
    assert frame.meta["far"] == 0 and frame.values.sum() == len(lines)


def test_main_span_keeps_the_stretch_with_most_lines():
    year = 11 * 366 * 86400.0  # more than the gap
    times = np.array([0.0, 1.0, 2 * year, 2 * year + 5, 2 * year + 9, 5 * year])
    assert main_span(times).tolist() == [False, False, True, True, True, False]
    assert main_span(np.array([3.0])).tolist() == [True]


@pytest.mark.parametrize("per_stretch", [1, 2, 5])
@pytest.mark.parametrize("n_stretches", [2, 3])
def test_main_span_keeps_the_latest_of_stretches_as_long(per_stretch, n_stretches):
    gap = 20 * 365.25 * 86400  # twenty years between stretches: 1970, 1990, 2010
    times = np.array([k * gap + i for k in range(n_stretches) for i in range(per_stretch)])
    shuffled = np.random.default_rng(n_stretches).permutation(times.size)
    keep = main_span(times[shuffled])
    assert sorted(times[shuffled][keep].tolist()) == [
        (n_stretches - 1) * gap + i for i in range(per_stretch)]
    # one more line in the earliest stretch: it has most lines, and wins
    more = main_span(np.append(times, -1.0))
    assert np.append(times, -1.0)[more].min() == -1.0 and more.sum() == per_stretch + 1


def test_a_1970_line_and_a_2026_line_keep_the_2026_one():
    frame = logs_to_frame(["1970-01-01T00:00:00Z n1 clock not set",
                           "2026-03-09T10:00:00Z n1 booted"], step=60, format="iso")
    assert frame.meta["far"] == 1
    assert frame.timestamps.astype("datetime64[s]").astype(str).tolist() == [
        "2026-03-09T10:00:00"]


#: spellings of 2026-03-09T10:00:00.250Z (or of the whole minute when no seconds)
INSTANT = dt.datetime(2026, 3, 9, 10, 0, 0, 250_000, tzinfo=UTC).timestamp()
ISO_SPELLINGS = {
    "2026-03-09T10:00:00.250Z": INSTANT,
    "2026-03-09 10:00:00.250Z": INSTANT,
    "2026-03-09T10:00:00,250Z": INSTANT,              # a decimal comma
    "2026-03-09 10:00:00,250": INSTANT,               # Python logging's asctime, no zone
    "2026-03-09T10:00:00.250z": INSTANT,
    "2026-03-09T10:00:00.250000000Z": INSTANT,        # nanoseconds written out
    "2026-03-09T19:00:00.250+09:00": INSTANT,
    "2026-03-09T19:00:00.250+0900": INSTANT,
    "2026-03-09T05:30:00.250-04:30": INSTANT,
    "2026-03-09 10:00:00.250 UTC": INSTANT,
    "2026-03-09 10:00:00.250 GMT": INSTANT,
    "2026-03-09T10:00Z": INSTANT - 0.25,              # no seconds
    "2026-03-09 19:00+09:00": INSTANT - 0.25,
    "2026-03-09 19:00:00,250 +0900": INSTANT,          # an offset after a space
    "2026-03-09 19:00:00.250 +09:00": INSTANT,
    "2026-03-09T05:30:00.250 -04:30": INSTANT,
    "2026-03-09 15:30:00,250 +0530": INSTANT,
}


@pytest.mark.parametrize("stamp", sorted(ISO_SPELLINGS))
def test_every_iso_spelling_names_the_same_instant_and_keeps_the_host(stamp):
    parsed = parse_lines([f"{stamp} node-7 sbatchd: job 12 done"] * 3, "iso", timezone="UTC")
    assert parsed.skipped == 0 and parsed.hosts == ["node-7"] * 3
    assert parsed.messages[0] == "sbatchd: job 12 done"
    assert parsed.timestamps[0] == pytest.approx(ISO_SPELLINGS[stamp], abs=1e-6)


#: one syslog line's spellings: padded or unpadded day, a priority as sent on the network
SYSLOG_SPELLINGS = ["Mar  9 10:00:05 node-7 sbatchd: job 12 done",
                    "Mar 9 10:00:05 node-7 sbatchd: job 12 done",
                    "<13>Mar  9 10:00:05 node-7 sbatchd: job 12 done",
                    "<190>Mar 9 10:00:05 node-7 sbatchd: job 12 done"]
PRIORITY_ISO = ["<13>1 2026-03-09T10:00:05Z node-7 sbatchd: job 12 done",
                "<13>2026-03-09T10:00:05Z node-7 sbatchd: job 12 done"]


@pytest.mark.parametrize("line", SYSLOG_SPELLINGS + PRIORITY_ISO)
def test_syslog_spellings_are_one_line_of_the_same_host_and_message(line):
    fmt = "iso" if line in PRIORITY_ISO else "syslog"
    parsed = parse_lines([line] * 3, timezone="UTC")  # auto: the format is recognised
    assert parsed.skipped == 0 and parsed.hosts == ["node-7"] * 3
    assert parsed.messages[0] == "sbatchd: job 12 done"
    stamp = dt.datetime.fromtimestamp(parsed.timestamps[0], UTC)
    assert (stamp.month, stamp.day, stamp.hour, stamp.second) == (3, 9, 10, 5)
    assert parse_lines([line], fmt).hosts == ["node-7"]


#: a host named UTC or GMT: the word after it ends with ':' (a program's tag), so it is
#: the host and the time has no zone; followed by a plain word, it is the zone
ZONE_OR_HOST = {
    "2026-03-09 10:00:05 UTC kernel: x": ("UTC", "kernel: x", None),
    "2026-03-09 10:00:05 GMT sshd[42]: x": ("GMT", "sshd[42]: x", None),
    "2026-03-09 10:00:05 UTC UTC kernel: x": ("UTC", "kernel: x", "UTC"),
    "2026-03-09 10:00:05 UTC n1 kernel: x": ("n1", "kernel: x", "UTC"),
    "2026-03-09 10:00:05 GMT n1 x": ("n1", "x", "UTC"),
    "2026-03-09 10:00:05 UTC: x y": ("UTC:", "x y", None),
}


@pytest.mark.parametrize("line", sorted(ZONE_OR_HOST))
@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo"])
def test_utc_or_gmt_after_the_time_is_the_zone_or_the_host(line, zone):
    host, message, own_zone = ZONE_OR_HOST[line]
    parsed = parse_lines([line], "iso", timezone=zone)
    assert (parsed.hosts, parsed.messages) == ([host], [message])
    hours = 0 if own_zone == "UTC" or zone == "UTC" else 9  # Tokyo's wall clock: 9 h earlier
    utc = dt.datetime(2026, 3, 9, 10, 0, 5, tzinfo=UTC).timestamp() - hours * 3600
    assert parsed.timestamps.tolist() == [utc]
