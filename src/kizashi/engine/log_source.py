"""The ``logs`` source: a log file tailed as it grows, as counts per template, host and step.

Each :meth:`LogSource.read` reads the lines appended since the last one (a file
that shrank was rotated: it is read from the start), mines their templates with
Drain3 (:class:`kizashi.data.logs.LogTemplates`, kept for the life of the
source) and returns the counts of the steps that are complete — a step is
complete once a line of a later step has arrived. Series are labelled
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

Steps are 60 s (``LogSource(step=...)`` from Python). The template miner lives in
memory: after a restart the file is read from its start again.

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

import os
from typing import Any

import numpy as np

from kizashi.watch.sources import Samples, SourceError

__all__ = ["TOTAL_METRIC", "LogSource"]

#: Each host's lines of every template together, a series from the host's first line.
TOTAL_METRIC = "log:lines"
TOTAL = -1


class LogSource:
    """A growing log file read as template counts (see the module docs)."""

    follows_clock = False

    def __init__(self, path: str, format: str = "auto", name: str = "logs",
                 step: float = 60.0):
        self.path = path
        self.format = format
        self.name = name
        self.step = step
        self._offset = 0
        self._miner: Any = None
        self._keys: dict[tuple[str, int], int] = {}
        self._names: list[tuple[str, str]] = []
        self._counts: dict[int, dict[int, float]] = {}
        self._latest = -np.inf
        self._partial = ""

    @classmethod
    def from_config(cls, spec: Any) -> LogSource:
        """From a watch config's source entry (``path``, ``format``)."""
        return cls(spec.path or "", getattr(spec, "format", "auto") or "auto", spec.name)

    def check(self) -> str:
        """Whether the file is there."""
        if not os.path.exists(self.path):
            raise SourceError(f"source {self.name!r}: log file {self.path} does not exist")
        return "logs"

    def _ingest(self, lines: list[str]) -> None:
        from kizashi.data.logs import LogTemplates, _metric, parse_lines

        if not lines:
            return
        if self._miner is None:
            self._miner = LogTemplates()
        try:
            parsed = parse_lines(lines, self.format)
        except ValueError as error:
            raise SourceError(f"source {self.name!r}: {error}") from None
        for t, host, message in zip(parsed.timestamps.tolist(), parsed.hosts, parsed.messages,
                                    strict=True):
            cluster = self._miner.add(message)
            step = int(np.floor(t / self.step))
            row = self._counts.setdefault(step, {})
            for key in ((host, TOTAL), (host, cluster)):
                if key not in self._keys:
                    self._keys[key] = len(self._names)
                    self._names.append((host, TOTAL_METRIC if key[1] == TOTAL else
                                        _metric(self._miner.first_seen[cluster])))
                row[self._keys[key]] = row.get(self._keys[key], 0.0) + 1.0
            self._latest = max(self._latest, t)

    def read(self, since: float | None) -> Samples:
        """Counts of the complete steps after ``since`` (all complete steps when None)."""
        try:
            size = os.path.getsize(self.path)
            if size < self._offset:  # rotated or truncated
                self._offset, self._partial = 0, ""
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                handle.seek(self._offset)
                text = handle.read()
                self._offset = handle.tell()
        except OSError as error:
            raise SourceError(f"source {self.name!r}: cannot read {self.path}: "
                              f"{error.strerror or error}") from None
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()  # an unfinished last line waits for its end
        self._ingest([line for line in lines if line.strip()])
        if not self._counts or not np.isfinite(self._latest):
            return Samples.empty()
        last_complete = int(np.floor(self._latest / self.step)) - 1
        first = min(self._counts)
        if since is not None:
            first = max(first, int(np.floor(since / self.step)) + 1)
        steps = np.arange(first, last_complete + 1)
        values = np.zeros((steps.size, len(self._names)))
        for i, step in enumerate(steps.tolist()):
            for column, count in self._counts.get(step, {}).items():
                values[i, column] = count
        for step in [s for s in self._counts if s < first]:  # already delivered
            del self._counts[step]
        labels = [{"entity": host, "metric": metric} for host, metric in self._names]
        return Samples(steps * float(self.step), labels, values)
