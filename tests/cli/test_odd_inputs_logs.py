"""Odd log files through ``kizashi detect --logs``: counted as generated, or refused in one line.

Each case is generated here with the UTC time and host of every line it writes, so what
the command must report follows from the generator: the lines that carry a time (the
others are skipped with a note), the hosts, and the time steps from the first line to
the last at ``--log-step 1m`` (a minute without a line is a count of 0, not a gap).
A file that is not text (binary, UTF-16 without a byte-order mark, a damaged gzip) or
holds no line is refused: exit status 1, one line naming the file, no traceback. Bytes
that are not UTF-8 or NUL in some lines (Latin-1 from one daemon, a crash's NUL run) are
replaced in those lines, with a note: the lines still count.
"""

from __future__ import annotations

import datetime as dt
import gzip
import random
import re
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

START = dt.datetime(2026, 3, 9, 10, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class LogLine:
    seconds: int  # after START, in UTC
    host: str
    zone: str = "Z"  # how the line writes its time: Z or an offset such as +09:00
    fraction: str = ""

    def text(self) -> str:
        hours = 0 if self.zone == "Z" else int(self.zone[:3])
        local = START + dt.timedelta(seconds=self.seconds, hours=hours)
        return (f"{local:%Y-%m-%dT%H:%M:%S}{self.fraction}{self.zone} {self.host} kernel: "
                f"error {self.seconds % 7} on disk sd{self.seconds % 4}")


def lines(n: int = 60, **kw) -> list[LogLine]:
    return [LogLine(30 * i, f"node{i % 3}", **kw) for i in range(n)]


def encode(items: list[LogLine | str], newline: str = "\n") -> bytes:
    return (newline.join(x if isinstance(x, str) else x.text() for x in items) + newline).encode()


@dataclass(frozen=True)
class OddLog:
    name: str
    data: bytes
    read: list[LogLine] | None  # the lines that must be counted; None: refused
    message: str = ""  # regex of the refusal or of the note about skipped lines
    suffix: str = ".log"
    extra: int = 0  # series beyond one per host (a line whose replaced byte makes a template)


ZONED = [LogLine(30 * i, f"node{i % 3}", zone="+09:00" if i % 2 else "Z") for i in range(60)]
SHUFFLED = [lines()[i] for i in random.Random(1).sample(range(60), 60)]
WITH_SYSLOG = [x if i % 10 else "Mar  9 10:00:00 node1 sshd: accepted" for i, x in
               enumerate(lines())]
WITH_GARBAGE = [x if i % 10 else "garbage without a time" for i, x in enumerate(lines())]
CASES = [
    OddLog("plain", encode(lines()), lines()),
    OddLog("crlf", encode(lines(), "\r\n"), lines()),
    OddLog("bom", b"\xef\xbb\xbf" + encode(lines()), lines()),
    OddLog("utf16-with-bom", "".join(x.text() + "\n" for x in lines()).encode("utf-16"),
           lines()),
    OddLog("gzip", gzip.compress(encode(lines())), lines(), suffix=".log.gz"),
    OddLog("mixed-time-zones", encode(ZONED), ZONED),
    OddLog("fractional-seconds", encode(lines(fraction=".123456")), lines()),
    OddLog("one-line", encode(lines(1)), lines(1)),
    OddLog("some-lines-without-time", encode(WITH_GARBAGE),
           [x for x in WITH_GARBAGE if isinstance(x, LogLine)], r"6 line\(s\) did not fit"),
    OddLog("blank-lines-between", encode([y for x in lines() for y in (x, "")]), lines()),
    OddLog("empty", b"", None, r"empty"),
    OddLog("only-blank-lines", b"\n\n  \n", None, r"empty or blank"),
    OddLog("no-timestamps", encode([x.text().split(" ", 1)[1] for x in lines()]), None,
           r"fit none of the known formats"),
    OddLog("binary", bytes(range(256)) * 40, None, r"NUL byte|binary"),
    # a log's odd bytes are replaced in their lines (data/log_text.py), not a refusal
    OddLog("nul-in-a-line", encode(lines()).replace(b"kernel", b"ker\x00nel", 1), lines(),
           r"1 line\(s\) with bytes that are not UTF-8 \(or NUL\) read", extra=1),
    OddLog("latin1", encode(lines()).replace(b"error", b"err\xe9r"), lines(),
           r"60 line\(s\) with bytes that are not UTF-8"),
    OddLog("mixed-utf8-and-latin1", b"".join(
        (x.text().replace("error", "erreur é") + "\n").encode("latin-1" if i % 3 else "utf-8")
        for i, x in enumerate(lines())), lines(), r"40 line\(s\) with bytes that are not"),
    OddLog("nul-run-after-a-crash", encode(lines(600)[:300]) + b"\x00" * 4000 + b"\n"
           + encode(lines(600)[300:]), lines(600), r"1 line\(s\) did not fit"),
    OddLog("invalid-utf8-sequences", encode(lines()).replace(b"disk", b"d\xc3\x28isk", 5),
           lines(), r"5 line\(s\) with bytes"),
    OddLog("out-of-order", encode(lines()[::-1]), lines()),
    OddLog("shuffled", encode(SHUFFLED), lines()),
    OddLog("a-line-from-1970", encode([*lines()[:30], "1970-01-01T00:00:00Z node9 boot",
                                       *lines()[30:]]), lines(),
           r"1 line\(s\) more than ten years away from the other lines skipped"),
    OddLog("a-line-in-year-1", encode(["0001-01-01T00:00:00Z node9 x", *lines()]), lines(),
           r"1 line\(s\) did not fit"),
    OddLog("some-syslog-lines-among-iso", encode(WITH_SYSLOG),
           [x for x in WITH_SYSLOG if isinstance(x, LogLine)], r"6 line\(s\) did not fit"),
    OddLog("truncated-gzip", gzip.compress(encode(lines()))[:-20], None, r"gzip|truncated|end",
           suffix=".log.gz"),
]


def expected_steps(read: list[LogLine], step: int = 60) -> int:
    stamps = [x.seconds for x in read]
    return (max(stamps) // step) - (min(stamps) // step) + 1


def run(tmp_path, case: OddLog):
    path = tmp_path / f"{case.name}{case.suffix}"
    path.write_bytes(case.data)
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(cli, ["detect", "--logs", str(path), "--log-step", "1m",
                                      "-d", "threshold", "-q", "--out", str(out)])
    return path, out, result


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_odd_log_file(tmp_path, case):
    path, out, result = run(tmp_path, case)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    errors = [x for x in result.stderr.splitlines() if x.startswith("Error")]
    if case.read is None:
        assert result.exit_code == 1, result.output
        assert errors == result.stderr.strip().splitlines() and len(errors) == 1, result.stderr
        assert errors[0].startswith(f"Error: {path}"), errors
        assert re.search(case.message, errors[0]), errors
        assert not out.exists()
        return
    assert result.exit_code == 0, result.output
    hosts = len({x.host for x in case.read})
    assert f"on {hosts} host(s), {len(case.read)} lines" in result.stdout, result.stdout
    steps = expected_steps(case.read)
    assert f"{steps} time steps, {hosts + case.extra} series" in result.stdout, result.stdout
    if case.message:
        assert re.search(case.message, result.stderr), result.stderr
    rows = out.read_text().splitlines()
    assert len(rows) == 1 + steps * (hosts + case.extra)  # every series at every step


@pytest.mark.slow
def test_a_single_ten_megabyte_line_is_one_line(tmp_path):
    line = LogLine(0, "node1").text() + " " + "x" * 10_000_000
    case = OddLog("ten-megabytes", (line + "\n").encode(), [LogLine(0, "node1")])
    _, out, result = run(tmp_path, case)
    assert result.exit_code == 0, result.output
    assert "on 1 host(s), 1 lines" in result.stdout and "1 time steps, 1 series" in result.stdout
    assert len(out.read_text().splitlines()) == 2
