"""The hour a fall-back night repeats, in a log whose times carry no zone (syslog's, ISO
without an offset), is read as it was written: the second pass after the first.

A log is written in time order. Read in its zone (``timezone:``), a wall-clock time the
fall-back repeats was always its *first* occurrence, so the second pass's lines landed an
hour back: ``detect --logs`` counted two passes in one hour's steps, and the watch's tail,
which had delivered those steps already, skipped the whole second hour as late (an hour
of counts lost every autumn). Now a repeated time is its second occurrence once the log
is past the first by more than half the change.

Expectation, independent of the parser: the lines are made from true UTC instants (a
line every 20 s across the night), written as each zone's wall clock; read back, the
times are those instants (ISO) or follow on 20 s apart (syslog, whose year the parser
infers), in one piece and through the watch's tail in chunks, with no line skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from kizashi.data.logs import logs_to_frame, parse_lines
from kizashi.engine.log_source import LogSource

#: a zone with daylight saving and a fall-back night of 2026 (before 27 November 2026, so
#: that a syslog line's inferred year is 2026): (UTC instant an hour before the change)
NIGHTS = {
    "America/Los_Angeles": datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
    "America/St_Johns": datetime(2026, 11, 1, 2, 30, tzinfo=UTC),
    "Europe/Berlin": datetime(2026, 10, 25, 0, 0, tzinfo=UTC),
    "Australia/Sydney": datetime(2026, 4, 4, 15, 0, tzinfo=UTC),
    "Australia/Lord_Howe": datetime(2026, 4, 4, 14, 0, tzinfo=UTC),   # a 30-minute change
}
STEP = 20           # seconds between lines
N = 3 * 3600 // STEP


def night(zone: str, layout: str) -> tuple[list[str], np.ndarray]:
    """Lines every 20 s for three hours around the change, and their true UTC instants."""
    start, tz = NIGHTS[zone], ZoneInfo(zone)
    lines, truth = [], []
    for k in range(N):
        instant = start + timedelta(seconds=STEP * k)
        wall = instant.astimezone(tz)
        text = (f"{wall:%b} {wall.day:2d} {wall:%H:%M:%S}" if layout == "syslog"
                else f"{wall:%Y-%m-%d %H:%M:%S}")
        lines.append(f"{text} n{k % 2} job {k} done")
        truth.append(instant.timestamp())
    return lines, np.array(truth)


def check(got: np.ndarray, truth: np.ndarray, layout: str) -> None:
    assert got.size == truth.size
    if layout == "iso":
        assert got.tolist() == truth.tolist()
    else:   # the year is the parser's inference: the steps between lines are the truth's
        assert np.diff(got).tolist() == np.diff(truth).tolist()


@pytest.mark.parametrize("layout", ["iso", "syslog"])
@pytest.mark.parametrize("zone", sorted(NIGHTS))
def test_the_repeated_hour_follows_the_first_in_one_piece(zone, layout):
    lines, truth = night(zone, layout)
    parsed = parse_lines(lines, layout, timezone=zone)
    assert parsed.skipped == 0
    check(parsed.timestamps, truth, layout)
    frame = logs_to_frame(lines, step=60, format=layout, timezone=zone)
    # 3 lines a minute (over the two hosts), never two passes' lines in one minute
    assert frame.values.sum(axis=1).tolist() == [3.0] * (N * STEP // 60)
    assert frame.timestamps.size == N * STEP // 60


@pytest.mark.parametrize("chunk", [1, 7, 180])
@pytest.mark.parametrize("zone", sorted(NIGHTS))
def test_the_watchs_tail_counts_the_repeated_hour_none_late(tmp_path, zone, chunk, caplog):
    lines, truth = night(zone, "iso")
    path = tmp_path / "night.log"
    path.write_text("")
    clock_at = [truth[0]]
    source = LogSource(str(path), format="iso", timezone=zone, clock=lambda: clock_at[0])
    counts, stamps = 0.0, []
    for i in range(0, len(lines), chunk):
        with open(path, "a") as handle:
            handle.write("".join(line + "\n" for line in lines[i:i + chunk]))
        clock_at[0] = truth[min(i + chunk, len(lines)) - 1] + 1.0
        samples = source.read(since=None if not stamps else stamps[-1])
        if samples.timestamps.size:
            stamps += samples.timestamps.tolist()
            total = [j for j, lab in enumerate(samples.labels) if lab["metric"] == "log:lines"]
            counts += float(samples.values[:, total].sum())
    assert not [r for r in caplog.records if "skipped" in r.getMessage()], caplog.text
    # every complete step delivered once, in order, with all its lines (the last step
    # waits for a later line)
    assert stamps == sorted(set(stamps))
    assert counts == len(lines) - 3
