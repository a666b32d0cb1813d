"""Odd log files through the watch's ``logs`` source: the same counts as ``detect --logs``,
or skipped lines said in a warning; never an exception, never unbounded memory.

* For every odd file the batch reader accepts (line ends, blank and time-less lines,
  lines out of order, time zones, another format mixed in, bytes written in pieces) a
  tail that reads it in chunks counts, per host and step, the lines the batch reader
  counts (the host's ``log:lines`` series against the sum of its template series).
* Lines no count can take are skipped, counted in one warning, and bound what is
  delivered: a time far ahead of the clock, a time in a step already delivered, a time
  years before the rest.
* Junk appended to a file whose format is known is skipped, not a failed tick.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

import numpy as np
import pytest

from kizashi.data.logs import read_logs
from kizashi.engine.log_source import LogSource

START = dt.datetime(2026, 3, 9, 10, 0, tzinfo=dt.UTC)


def iso(seconds: float, zone: str = "Z") -> str:
    hours = 0 if zone == "Z" else int(zone[:3])
    local = START + dt.timedelta(seconds=seconds, hours=hours)
    return f"{local:%Y-%m-%dT%H:%M:%S}{zone}"


def job_lines(n: int = 90, zone=lambda i: "Z") -> list[str]:
    return [f"{iso(20 * i, zone(i))} node{i % 3} job {i} finished in {i % 7} s"
            for i in range(n)]


def shuffled_within_minutes(lines: list[str]) -> list[str]:
    rng = random.Random(0)
    out = []
    for minute in range(0, len(lines), 3):
        chunk = lines[minute:minute + 3]
        rng.shuffle(chunk)
        out += chunk
    return out


ODD_FILES = {
    "plain": "\n".join(job_lines()) + "\n",
    "crlf": "\r\n".join(job_lines()) + "\r\n",
    "blank lines": "\n\n".join(job_lines()) + "\n",
    "lines without a time": "\n".join(x if i % 9 else "kernel: no time here"
                                      for i, x in enumerate(job_lines())) + "\n",
    "out of order within a step": "\n".join(shuffled_within_minutes(job_lines())) + "\n",
    "mixed time zones": "\n".join(job_lines(zone=lambda i: "+09:00" if i % 2 else "Z")) + "\n",
    "some syslog lines among iso": "\n".join(
        x if i % 15 else "Mar  9 10:00:00 node1 sshd: accepted" for i, x in
        enumerate(job_lines())) + "\n",
    "non-utf8 bytes in messages": "\n".join(x.replace("job", "jöb") if i % 4 == 0 else x
                                            for i, x in enumerate(job_lines())) + "\n",
}


def batch_totals(path) -> dict[tuple[str, np.datetime64], float]:
    frame = read_logs(path, step=60.0, format="iso")
    totals: dict = {}
    for j, host in enumerate(frame.entities):
        for t, value in zip(frame.timestamps, frame.values[:, j], strict=True):
            totals[(host, t)] = totals.get((host, t), 0.0) + value
    return totals


def tail_totals(source: LogSource, data: bytes, path, chunk: int) -> dict:
    totals: dict = {}
    since = None
    for start in range(0, len(data), chunk):
        with open(path, "ab") as handle:
            handle.write(data[start:start + chunk])
        got = source.read(since)
        for i, t in enumerate(got.timestamps):
            for j, label in enumerate(got.labels):
                if label["metric"] == "log:lines":
                    key = (label["entity"], np.datetime64(int(t), "s").astype("datetime64[ns]"))
                    totals[key] = got.values[i, j]
        if got.timestamps.size:
            since = float(got.timestamps[-1])
    return totals


@pytest.mark.parametrize("chunk", [1 << 20, 97, 13])
@pytest.mark.parametrize("case", sorted(ODD_FILES))
def test_the_tail_counts_what_detect_counts(tmp_path, case, chunk):
    data = ODD_FILES[case].encode()
    if case == "non-utf8 bytes in messages":
        data = ODD_FILES[case].encode("latin-1")
    batch_file = tmp_path / "batch.log"
    batch_file.write_bytes(data)
    expected = batch_totals(batch_file)
    path = tmp_path / "tail.log"
    path.write_bytes(b"")
    got = tail_totals(LogSource(str(path), format="iso"), data, path, chunk)
    last = max(t for _, t in expected)  # the tail holds the last step back: not complete
    assert got == {k: v for k, v in expected.items() if k[1] < last}
    assert sum(got.values()) > 0


def _source_on(tmp_path, lines: list[str]) -> tuple[LogSource, object]:
    path = tmp_path / "a.log"
    path.write_text("".join(x + "\n" for x in lines))
    return LogSource(str(path), format="iso", clock=lambda: START.timestamp() + 3600), path


def test_a_line_far_ahead_of_the_clock_is_skipped_and_said(tmp_path, caplog):
    lines = job_lines(30)
    lines.insert(10, f"{iso(86400 * 365 * 70)} node9 bogus year")      # 2096
    lines.insert(20, f"{iso(3600 + 301)} node8 five minutes ahead")
    source, _ = _source_on(tmp_path, lines)
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        got = source.read(None)
    assert got.timestamps.size == 9  # 10:00 .. 10:08; the 10:09 step is still open
    assert {label["entity"] for label in got.labels} == {"node0", "node1", "node2"}
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "2 line(s)" in warning and "ahead of this machine's clock" in warning
    assert "node9 (1)" in warning and "node8 (1)" in warning


def test_a_line_in_a_step_already_delivered_is_skipped_and_said(tmp_path, caplog):
    source, path = _source_on(tmp_path, job_lines(30))
    first = source.read(None)
    delivered = first.values.copy()
    with open(path, "a") as handle:
        handle.write(f"{iso(5)} node0 late line\n{iso(61 * 10)} node1 job x\n")
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        again = source.read(float(first.timestamps[-1]))
    assert again.timestamps.tolist() == [first.timestamps[-1] + 60]
    assert "1 line(s)" in caplog.text and "arrived after their time step" in caplog.text
    totals = [j for j, label in enumerate(again.labels) if label["metric"] == "log:lines"]
    assert again.values[0, totals].sum() == 3  # 10:09's three job lines, no late one
    assert delivered[:, totals].sum() == 27  # the 30 lines less the open step's 3


@pytest.mark.parametrize("old", ["1970-01-01T00:00:00Z", "2000-02-29T12:00:00Z",
                                 "2026-02-01T00:00:00Z"])
def test_a_line_years_before_the_rest_does_not_become_years_of_zeros(tmp_path, caplog, old):
    lines = job_lines(30)
    lines.insert(5, f"{old} node0 clock not set")
    source, _ = _source_on(tmp_path, lines)
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        got = source.read(None)
    assert got.timestamps.size == 9
    assert got.timestamps[0] == START.timestamp()
    assert "more than 7 days before its newest line" in caplog.text


def test_junk_appended_after_the_format_is_known_is_skipped_not_an_error(tmp_path):
    path = tmp_path / "a.log"
    path.write_text("".join(x + "\n" for x in job_lines(30)))
    source = LogSource(str(path))  # format: auto
    first = source.read(None)
    with open(path, "ab") as handle:
        handle.write(bytes(range(256)) * 4 + b"\n" + b"\x00" * 100 + b"\n")
        handle.write(b"".join((x + "\n").encode() for x in job_lines(60)[30:]))
    got = source.read(float(first.timestamps[-1]))
    assert got.timestamps.size == 10 and got.values.sum() > 0


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_source_path_that_is_no_file_is_a_source_error_at_check_and_read(tmp_path, kind):
    import os

    from kizashi.watch.sources import SourceError

    path = tmp_path / "a.log"
    path.mkdir() if kind == "folder" else os.mkfifo(path)
    source = LogSource(str(path), name="lsf")
    for call in (source.check, lambda: source.read(None)):
        with pytest.raises(SourceError, match="lsf.*not a regular file"):
            call()


def odd_byte_file() -> tuple[bytes, int]:
    """Job lines with odd bytes in some of them, and how many lines have any."""
    spoilers = [lambda b: b.replace(b"job", "j\u00f6b".encode("latin-1")),  # Latin-1
                lambda b: b.replace(b"job", b"j\x00b"),                      # a NUL
                lambda b: b.replace(b"job", b"j\x00\xe9b"),                  # both in one
                lambda b: b.replace(b"finished", b"fin\xc3\x28shed"),         # invalid UTF-8
                lambda b: b + b"\x00" * 40]                                  # a NUL run
    raw, odd = [], 0
    for i, line in enumerate(job_lines()):
        data = line.encode()
        if i % 4 == 1:
            data, odd = spoilers[(i // 4) % len(spoilers)](data), odd + 1
        raw.append(data)
    return b"\n".join(raw) + b"\n", odd


@pytest.mark.parametrize("chunk", [1 << 20, 13])
def test_the_tail_and_detect_count_the_same_lines_with_odd_bytes(tmp_path, caplog, chunk):
    import re

    data, odd = odd_byte_file()
    batch_file = tmp_path / "batch.log"
    batch_file.write_bytes(data)
    assert read_logs(batch_file, step=60.0, format="iso").meta["replaced"] == odd
    path = tmp_path / "tail.log"
    path.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        tail_totals(LogSource(str(path), format="iso"), data, path, chunk)
    said = [int(m[1]) for m in (re.search(r"(\d+) line\(s\) of .* not UTF-8", r.getMessage())
                                for r in caplog.records) if m]
    assert sum(said) == odd
