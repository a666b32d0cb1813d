"""The ``logs`` source: a log file tailed as it grows, as counts per template, host and step.

Each :meth:`LogSource.read` reads the lines appended since the last one (a file
that shrank was rotated: it is read from the start), mines their templates with
Drain3 (:class:`kizashi.data.logs.LogTemplates`, kept for the life of the
source) and returns the counts of the steps that are complete — a step is
complete once a line of a later step has arrived and this machine's clock has
passed it (a host whose clock runs ahead does not close steps early). Series are labelled
``{"entity": host, "metric": "log:<template>"}`` with the template as first seen,
so a series keeps its name while Drain generalises the template; and each host
has ``log:lines``, all its lines per step. A template's series starts with its
first line, so a detector learns it from there; the host's ``log:lines`` has
been learning since the host's first line, so a burst of a template never seen
before (a daemon starting to restart in a loop) stands out there at once, and
the template's own series says which lines they are.

In a watch config::

    sources:
      - name: lsf-logs
        type: logs
        path: /var/log/lsf/mbatchd.log
        format: iso            # iso, syslog, bgl, hpc or auto
        timezone: Asia/Tokyo   # zone of times written without one; default: local

A time written without a zone (syslog's, an ISO time without one) is read in
``timezone`` (an IANA name; default ``local``, this machine's zone, where a syslog
file it tails was written) and turned into UTC before any check below; a time with a
zone or offset is that instant. Steps are 60 s (``LogSource(step=...)`` from Python).
The template miner lives in memory and no offset is kept: after a restart the file is
read from its start again, and the watch takes the steps after the last one it
processed (its state file's progress), so a restart neither counts a line twice nor
skips one still in the file (lines in a file rotated away while it was down are not
read).

The file is read by :class:`~kizashi.engine.log_tail.LogTail`: rotated, truncated or
replaced, it is read from its start again (after the rest of the old content: through
the file kept open, or from ``copytruncate``'s copy), and a file rotated away is still
read for late writes for a while; a byte that is not UTF-8 is replaced in its line. A
file gone, a folder or a compressed file in its place is the source's error (the watch
says it once and goes on), and the file is read from its start when it is back (a new
file; the same file back within the tail's grace, ``ROTATED_GRACE_SECONDS``, is followed
on from where it was read to).
Lines whose time no count can take are skipped, counted and logged (a warning on
the ``kizashi.watch`` logger), never allowed to stop the watch or grow its memory: a
time more than :data:`FUTURE_SECONDS` ahead of this machine's clock (a host whose clock
runs ahead, a bogus year), which would otherwise declare every step up to it complete;
a time in a step already delivered (a line that arrived late), whose count cannot
be changed any more; and a time more than :data:`HISTORY_SECONDS` (7 days) before the
newest line (a host without a clock writing 1970, or the old part of a long file read
the first time), which would otherwise be years of zero counts. Lines that fit no line
of the format (JSON lines under ``format: syslog``, a stack trace's continuation lines)
are skipped too, and said with the first of them: at the first such read, then at most
once every :data:`UNFIT_EVERY_SECONDS` with the count since (before, a source given the
wrong format counted nothing, and said nothing). With ``format: auto``, a read whose
lines tell no format (a file that starts with a stack trace) fails, and its lines are
kept until a later read tells the format, then counted with it (before, they were lost).

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "lsf.log")
>>> with open(path, "w") as f:
...     _ = f.write("2026-03-09T10:00:01Z n1 sbatchd restarted pid 11\\n"
...                 "2026-03-09T10:00:30Z n1 sbatchd restarted pid 12\\n"
...                 "2026-03-09T10:01:02Z n1 sbatchd restarted pid 13\\n")
>>> source = LogSource(path)
>>> samples = source.read(since=None)          # 10:00 is complete, 10:01 is not yet
>>> samples.labels[1], samples.values.tolist()
({'entity': 'n1', 'metric': 'log:sbatchd restarted pid <NUM>'}, [[2.0, 2.0]])
>>> with open(path, "a") as f:
...     _ = f.write("2026-03-09T10:02:00Z n1 sbatchd restarted pid 14\\n")
>>> source.read(since=float(samples.timestamps[-1])).values.tolist()
[[1.0, 1.0]]
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from kizashi.watch.sources import Samples, SourceError

__all__ = ["FUTURE_SECONDS", "HISTORY_SECONDS", "TOTAL_METRIC", "LogSource"]

log = logging.getLogger("kizashi.watch")
#: Lines fitting no line of the format are said at most once in this many seconds.
UNFIT_EVERY_SECONDS = 3600.0
#: A line more than this ahead of the clock is from a clock that runs ahead: skipped.
FUTURE_SECONDS = 300.0
#: The most history one read delivers, before the newest line: older lines are skipped.
HISTORY_SECONDS = 7 * 86400.0

#: Lines kept while ``format: auto`` cannot tell the format yet (characters, the newest).
UNDETECTED_CHARS = 16 << 20

#: Each host's lines of every template together, a series from the host's first line.
TOTAL_METRIC = "log:lines"
TOTAL = -1


class LogSource:
    """A growing log file read as template counts (see the module docs)."""

    follows_clock = False

    def __init__(self, path: str, format: str = "auto", name: str = "logs",
                 step: float = 60.0, clock: Callable[[], float] = time.time,
                 timezone: str | None = None):
        from kizashi.data.log_zone import log_zone
        from kizashi.engine.log_tail import LogTail

        try:  # zone-less times (syslog's) are read in it, before any check on them
            log_zone(timezone)
        except ValueError as error:
            raise SourceError(f"source {name!r}: {error}") from None
        self.timezone = timezone

        self.path = path
        self.format = format
        self.name = name
        self.step = step
        self.clock = clock
        self._tail = LogTail(path, clock=clock)
        self._delivered = -np.inf  # the last step handed out
        self._miner: Any = None
        self._keys: dict[tuple[str, int], int] = {}
        self._names: list[tuple[str, str]] = []
        self._counts: dict[int, dict[int, float]] = {}
        self._latest = -np.inf
        self._unfit = 0                 # lines fitting no line of the format, not yet said
        self._unfit_first = ""          # the first of them
        self._unfit_said = -np.inf      # when they were last said (this clock)
        self._undetected: list[str] = []  # lines read while format: auto could not tell

    @classmethod
    def from_config(cls, spec: Any) -> LogSource:
        """From a watch config's source entry (``path``, ``format``, ``timezone``)."""
        return cls(spec.path or "", getattr(spec, "format", "auto") or "auto", spec.name,
                   timezone=getattr(spec, "timezone", None))

    def check(self) -> str:
        """Whether the file is there."""
        if not os.path.exists(self.path):
            raise SourceError(f"source {self.name!r}: log file {self.path} does not exist")
        if not os.path.isfile(self.path):
            raise SourceError(f"source {self.name!r}: {self.path} is not a regular file (a "
                              f"folder, FIFO, socket or device): give the log file itself")
        return "logs"

    def _ingest(self, lines: list[str]) -> None:
        from kizashi.data.logs import LogTemplates, _metric, detect_format, parse_lines

        if not lines:
            return
        if self._miner is None:
            self._miner = LogTemplates()
        try:
            if self.format == "auto":  # fixed on the first lines: junk later is skipped
                try:
                    self.format = detect_format(lines)
                except ValueError:
                    try:  # with the lines kept before: their newest may tell it
                        self.format = detect_format(self._undetected + lines)
                    except ValueError:   # kept, to be counted once a later read tells it
                        self._keep_undetected(lines)
                        raise
                lines, self._undetected = self._undetected + lines, []
            parsed = parse_lines(lines, self.format, self.timezone,
                                 after=self._latest if np.isfinite(self._latest) else None)
        except ValueError as error:
            text = str(error).replace("give --log-format",
                                      f"set format: of source {self.name!r} to one of them")
            raise SourceError(f"source {self.name!r}: {text}") from None
        if parsed.skipped:
            if not self._unfit:
                self._unfit_first = parsed.first_skipped
            self._unfit += parsed.skipped
        horizon = self.clock() + FUTURE_SECONDS
        ahead: Counter[str] = Counter()
        late = 0
        for t, host, message in zip(parsed.timestamps.tolist(), parsed.hosts, parsed.messages,
                                    strict=True):
            step = int(np.floor(t / self.step))
            if t > horizon:
                ahead[host] += 1
                continue
            if step <= self._delivered:
                late += 1
                continue
            cluster = self._miner.add(message)
            row = self._counts.setdefault(step, {})
            for key in ((host, TOTAL), (host, cluster)):
                if key not in self._keys:
                    self._keys[key] = len(self._names)
                    self._names.append((host, TOTAL_METRIC if key[1] == TOTAL else
                                        _metric(self._miner.first_seen[cluster])))
                row[self._keys[key]] = row.get(self._keys[key], 0.0) + 1.0
            self._latest = max(self._latest, t)
        self._say_skipped(ahead, late)

    def _keep_undetected(self, lines: list[str]) -> None:
        """Keep lines read while the format is not known yet (at most
        :data:`UNDETECTED_CHARS` characters, the newest; said when older ones go)."""
        kept = self._undetected + lines
        total, start = sum(map(len, kept)), 0
        while total > UNDETECTED_CHARS and start < len(kept):
            total -= len(kept[start])
            start += 1
        if start:
            log.warning("source %r: %d line(s) of %s dropped: read before its format could be "
                        "told (set format: of the source)", self.name, start, self.path)
        self._undetected = kept[start:]

    def _say_skipped(self, ahead: Counter[str], late: int) -> None:
        """One warning per read for the lines no count could take."""
        if ahead:
            hosts = ", ".join(f"{h} ({n})" for h, n in ahead.most_common(5))
            log.warning("source %r: %d line(s) of %s skipped: their time is more than %.0f s "
                        "ahead of this machine's clock (a host's clock running ahead?): %s",
                        self.name, sum(ahead.values()), self.path, FUTURE_SECONDS, hosts)
        if late:
            log.warning("source %r: %d line(s) of %s skipped: they arrived after their "
                        "time step had been counted (written late, or out of order)",
                        self.name, late, self.path)
        tail = self._tail
        for count, what in ((tail.replaced, "with bytes that are not UTF-8 (replaced)"),
                            (tail.cut, "longer than 1 MiB (cut there)")):
            if count:
                log.warning("source %r: %d line(s) of %s %s", self.name, count, self.path,
                            what)
        tail.replaced = tail.cut = 0
        now = self.clock()
        if self._unfit and not now - self._unfit_said < UNFIT_EVERY_SECONDS:
            first = " ".join(self._unfit_first.split())
            log.warning("source %r: %d line(s) of %s fit no %s line or name no time (skipped; "
                        "is format: right?); the first: %r", self.name, self._unfit,
                        self.path, self.format, first[:200] + ("…" if len(first) > 200 else ""))
            self._unfit, self._unfit_said = 0, now

    def read(self, since: float | None) -> Samples:
        """Counts of the complete steps after ``since`` (all complete steps when None)."""
        try:
            lines = self._tail.read()  # rotated, truncated or replaced: from the start
        except OSError as error:
            gone = isinstance(error, FileNotFoundError)   # watched for: read when back
            raise SourceError(f"source {self.name!r}: cannot read {self.path}: "
                              f"{error.strerror or error}"
                              + ("; read when it is back (from its start if it is a new "
                                 "file)" if gone else "")
                              ) from None
        self._ingest(lines)
        if not self._counts or not np.isfinite(self._latest):
            return Samples.empty()
        # a step is complete once a later line came, and never before the clock has passed
        # it: a host whose clock runs ahead must not close steps the others still write in
        last_complete = int(np.floor(min(self._latest, self.clock()) / self.step)) - 1
        first = min(self._counts)
        if since is not None:
            first = max(first, int(np.floor(since / self.step)) + 1)
        oldest = last_complete - int(HISTORY_SECONDS // self.step) + 1
        if first < oldest:  # a line from 1970 (a host without a clock): no years of zeros
            old = [s for s in self._counts if s < oldest]
            if old:
                log.warning("source %r: %d step(s) of lines of %s skipped: more than %.0f days "
                            "before its newest line (from %s; a host's clock set wrong, or an "
                            "old file)", self.name, len(old), self.path, HISTORY_SECONDS / 86400,
                            np.datetime64(int(min(old) * self.step), "s"))
                for step in old:
                    del self._counts[step]
            first = max(first, min(self._counts, default=oldest))
        steps = np.arange(first, last_complete + 1)
        values = np.zeros((steps.size, len(self._names)))
        for i, step in enumerate(steps.tolist()):
            for column, count in self._counts.get(step, {}).items():
                values[i, column] = count
        for step in [s for s in self._counts if s < first]:  # already delivered
            del self._counts[step]
        if steps.size:
            self._delivered = max(self._delivered, int(steps[-1]))
        labels = [{"entity": host, "metric": metric} for host, metric in self._names]
        return Samples(steps * float(self.step), labels, values)
