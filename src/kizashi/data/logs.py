"""Log lines as series: templates mined with Drain3, counted per template, host and step.

A batch daemon restarting in a loop writes it in its log before any metric moves.
:func:`read_logs` turns a log file into a :class:`~kizashi.data.frame.SeriesFrame`
the engine scores like any other: each line is split into a time, a host and a
message (:data:`LOG_FORMATS`), the message is reduced to its *template* by
Drain3 (He et al., "Drain: An Online Log Parsing Approach with Fixed Depth
Tree", ICWS 2017; numbers, hex ids and addresses masked first), and the lines of
each template on each host are counted per ``step`` seconds. A series is
``entity = host``, ``metric = "log:" + template``; a step with no line is a
count of 0, not a gap.

Formats (``format=``): ``iso`` (``2026-03-09T10:00:00Z host message``, as
``journalctl -o short-iso`` writes), ``syslog`` (``Mar  9 10:00:00 host
message``, this year), ``bgl`` and ``hpc`` (the loghub supercomputer logs;
``bgl`` lines carry an alert label), or ``auto`` (the first that fits the
file's first lines). A time without a zone (syslog's, an ISO time without one) is
local time where it was written: it is read in ``timezone=`` (an IANA name; by
default this machine's zone) and turned into UTC (:mod:`kizashi.data.log_zone`).

>>> lines = ["2026-03-09T10:00:05Z n1 mbatchd started pid 4121",
...          "2026-03-09T10:00:40Z n1 mbatchd started pid 4188",
...          "2026-03-09T10:01:10Z n2 job 77 done in 12 s"]
>>> frame = logs_to_frame(lines, step=60)
>>> frame.keys
[('n1', 'log:mbatchd started pid <NUM>'), ('n2', 'log:job <NUM> done in <NUM> s')]
>>> frame.values.tolist()
[[2.0, 0.0], [0.0, 1.0]]
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import numpy as np

from kizashi.data.frame import SeriesFrame

__all__ = ["LOG_FORMATS", "LogCountsTooLarge", "LogFormat", "LogTemplates", "ParsedLines",
           "detect_format", "logs_to_frame", "parse_lines", "read_logs"]


class LogCountsTooLarge(ValueError):
    """The counts of a log would pass ``max_cells`` (steps × series): refused before
    they are allocated. ``n_times``, ``n_series`` and ``span_seconds`` (first to last
    step) let the caller name a step that fits."""

    def __init__(self, n_times: int, n_series: int, span_seconds: float, max_cells: int,
                 first: float = np.nan, last: float = np.nan):
        super().__init__(f"{n_times} steps x {n_series} series of counts is more than "
                         f"{max_cells} cells")
        self.n_times, self.n_series, self.span_seconds = n_times, n_series, span_seconds
        self.first, self.last = first, last  #: the earliest and latest line (epoch s)


@dataclass(frozen=True)
class LogFormat:
    """A line pattern with named groups ``timestamp``, ``host``, ``message`` (and
    optionally ``label``: a value other than ``normal_label`` marks an alert line)."""

    pattern: str
    time: str  #: "epoch" (seconds), "iso", "syslog" or a strptime format
    normal_label: str = "-"

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


LOG_FORMATS: dict[str, LogFormat] = {
    # seconds optional, a fraction after '.' or ',' (Python's logging), a zone as Z, z,
    # an offset (after a space too) or the words UTC / GMT; a syslog priority <N> (and
    # RFC 5424's version) first. UTC / GMT is the zone unless the word after it ends
    # with ':' (a program's tag, "kernel:", "sshd[42]:"): then it is the host's name
    "iso": LogFormat(r"^(?:<\d{1,3}>(?:1 )?)?"
                     r"(?P<timestamp>\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?"
                     r"(?:[Zz]|\s?[+-]\d\d:?\d\d| (?:UTC|GMT)(?= \S*[^\s:] ))?) "
                     r"(?P<host>\S+) (?P<message>.*)$", "iso"),
    # (a priority <N> first, as syslog sends it over the network; a day of one digit
    # after one space or two)
    "syslog": LogFormat(r"^(?:<\d{1,3}>)?(?P<timestamp>[A-Z][a-z]{2} {1,2}\d{1,2} "
                        r"\d\d:\d\d:\d\d) (?P<host>\S+) "
                        r"(?P<message>.*)$", "syslog"),
    # loghub BGL: label, epoch, date, node, time, node again, type, component, level, text
    "bgl": LogFormat(r"^(?P<label>\S+) (?P<timestamp>\d+) \S+ (?P<host>\S+) \S+ \S+ \S+ "
                     r"\S+ \S+ (?P<message>.*)$", "epoch"),
    # loghub HPC: log id, node, component, state, epoch, flag, text
    "hpc": LogFormat(r"^\S+ (?P<host>\S+) \S+ \S+ (?P<timestamp>\d+) \S+ (?P<message>.*)$",
                     "epoch"),
}

#: What Drain3 masks before mining (so ``pid 4121`` and ``pid 4188`` are one template).
MASKS = (
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-fA-F0-9]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+(\.\d+)?)((?=[^A-Za-z0-9])|$)", "NUM"),
)


@dataclass(frozen=True, eq=False)
class ParsedLines:
    """The lines that fit the format: epoch seconds, host, message, alert flag; how many
    non-empty lines did not (no fit, or no readable time), and the first of them."""

    timestamps: np.ndarray
    hosts: list[str]
    messages: list[str]
    alerts: np.ndarray
    skipped: int
    first_skipped: str = ""


def detect_format(lines: Sequence[str]) -> str:
    """The first format of :data:`LOG_FORMATS` that fits ≥ 90 % of the first 200 non-blank
    ``lines``, or else of the last 200 (a log that starts with a long stack trace or a
    banner: its newest lines tell the format).

    >>> trace = ["    at com.example.Worker.run(Worker.java:1)"] * 250
    >>> detect_format(trace + ["2026-03-09T10:00:00Z n1 job done"] * 200)
    'iso'
    """
    if not any(line.strip() for line in lines):
        raise ValueError("no log lines: the file is empty or blank")
    ends = [lines[:200]] + ([lines[-200:]] if len(lines) > 200 else [])
    for end in ends:
        sample = [line for line in end if line.strip()]
        for name, fmt in LOG_FORMATS.items():
            regex = fmt.regex
            if sample and sum(bool(regex.match(line)) for line in sample) >= 0.9 * len(sample):
                return name
    raise ValueError("log lines fit none of the known formats "
                     f"({', '.join(LOG_FORMATS)}); give --log-format")


#: The times a count can be kept at (those of ``datetime64[ns]``, as the file readers').
_EARLIEST, _LATEST = -9_223_372_036.0, 9_223_372_036.0


def _iso_text(text: str) -> str:
    """An ISO time as :meth:`datetime.fromisoformat` reads it: ``,`` fraction, ``z``, the
    zone words UTC / GMT and an offset after a space spelt its way.

    >>> _iso_text("2026-03-09 10:00:00,123 UTC"), _iso_text("2026-03-09T10:00z")
    ('2026-03-09 10:00:00.123+00:00', '2026-03-09T10:00+00:00')
    >>> _iso_text("2026-03-09 10:00:00,5 +0900")
    '2026-03-09 10:00:00.5+0900'

    """
    for zone in (" UTC", " GMT", "Z", "z"):
        if text.endswith(zone):
            text = text[: -len(zone)] + "+00:00"
            break
    return re.sub(r"\s+(?=[+-]\d\d:?\d\d$)", "", text.replace(",", "."))


def _epoch(text: str, kind: str, year: int, now: float | None = None,
           zone: tzinfo | None = UTC, after: float | None = None) -> float:
    """Epoch seconds of a line's time; a ``ValueError`` for one that names no instant a
    count can be kept at. A time without a zone (syslog's, an ISO time without one) is
    read in ``zone`` (None: this machine's; :mod:`kizashi.data.log_zone`).

    A syslog time has no year: it is the latest year (this one, or up to four back for
    29 February) that puts it no more than a day after ``now`` (December's lines read
    in January are last year's).

    A zone-less time that the fall-back night repeats (01:30 twice) is its first
    occurrence, unless the log is already past that by more than half the change
    (``after``: the latest time of the lines before it): then it is the second. A log
    is written in time order, so the repeated hour's lines follow on from the first
    pass instead of landing an hour back (where the watch's tail skipped them as late,
    an hour of counts a year).

    >>> now = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    >>> [_epoch(t, "syslog", 2026, now) for t in ("Dec 31 23:00:00", "Jan  1 00:30:00")]
    [1767222000.0, 1767227400.0]
    >>> _epoch("Feb 29 12:00:00", "syslog", 2026, now)  # 2024, the last leap year
    1709208000.0
    """
    from kizashi.data.log_zone import utc_seconds

    def reading(stamp: datetime, zone: tzinfo | None) -> float:
        first = utc_seconds(stamp, zone)
        if stamp.tzinfo is not None or after is None or after <= first:
            return first
        second = utc_seconds(stamp.replace(fold=1), zone)   # the repeated hour's 2nd pass
        return second if after > first + (second - first) / 2 else first

    try:
        seconds = _seconds(text, kind, year, now, zone, reading)
    except (OverflowError, OSError):  # a year the C library cannot place in local time
        raise ValueError(f"time {text!r} is outside 1677-2262") from None
    if not _EARLIEST < seconds < _LATEST:
        raise ValueError(f"time {text!r} is outside 1677-2262")
    return seconds


def _seconds(text: str, kind: str, year: int, now: float | None, zone: tzinfo | None,
             utc_seconds: Callable[[datetime, tzinfo | None], float]) -> float:
    if kind == "epoch":
        return float(text)
    if kind == "syslog":
        now = datetime.now(UTC).timestamp() if now is None else now
        for candidate in range(year, year - 5, -1):
            try:
                stamp = datetime.strptime(f"{candidate} {text}", "%Y %b %d %H:%M:%S")
            except ValueError:  # 29 February of a year that has none
                continue
            seconds = utc_seconds(stamp, zone)
            if seconds <= now + 86400:
                return seconds
        raise ValueError(f"no year puts {text!r} before now")
    stamp = (datetime.fromisoformat(_iso_text(text)) if kind == "iso"
             else datetime.strptime(text, kind))
    return utc_seconds(stamp, zone)


def parse_lines(lines: Iterable[str], format: str = "auto",
                timezone: str | None = None, after: float | None = None) -> ParsedLines:
    """Split lines into time, host, message; lines that do not fit are counted and skipped.

    Times without a zone are read in ``timezone`` (an IANA name; None or ``local``: this
    machine's zone, :mod:`kizashi.data.log_zone`); a time the fall-back night repeats is
    read after the lines before it (``after``: the latest time of lines read earlier,
    for a log read in pieces; see :func:`_epoch`)."""
    from kizashi.data.log_zone import log_zone

    zone = log_zone(timezone)
    lines = list(lines)
    name = detect_format(lines) if format == "auto" else format
    if name not in LOG_FORMATS:
        raise ValueError(f"unknown log format {format!r}; known: auto, {', '.join(LOG_FORMATS)}")
    fmt = LOG_FORMATS[name]
    now = datetime.now(UTC)
    regex, year, now_seconds = fmt.regex, now.year, now.timestamp()
    stamps, hosts, messages, alerts = [], [], [], []
    skipped, first_skipped = 0, ""
    for line in lines:
        found = regex.match(line.rstrip("\r\n"))
        stamp = None
        if found is not None:
            try:
                stamp = _epoch(found["timestamp"], fmt.time, year, now_seconds, zone, after)
            except ValueError:
                pass
        if stamp is None:  # no fit (a blank line is not counted), or no readable time
            if found is not None or line.strip():
                skipped += 1
                first_skipped = first_skipped or line
            continue
        stamps.append(stamp)
        after = stamp if after is None or stamp > after else after
        hosts.append(found["host"])
        messages.append(found["message"].strip())
        label = found.groupdict().get("label")
        alerts.append(label is not None and label != fmt.normal_label)
    return ParsedLines(np.asarray(stamps, dtype=np.float64), hosts, messages,
                       np.asarray(alerts, dtype=bool), skipped, first_skipped)


#: Lines further than this from the rest of a log (a host whose clock was never set said
#: 1970 or 2000) are skipped: counting them would fill the decades between with zeros. A
#: log that is merely sparse (a line a year) is kept; too sparse for its step, it is
#: refused by ``max_cells`` with its first and last time named.
MAX_GAP_SECONDS = 10 * 365.25 * 86400


def main_span(timestamps: np.ndarray, max_gap: float = MAX_GAP_SECONDS) -> np.ndarray:
    """Which lines lie in the log's main stretch of time: split where two consecutive
    times (sorted) are more than ``max_gap`` apart, keep the stretch with most lines (of
    stretches as long, the latest: a clock set wrong writes the past, seldom the future).

    >>> main_span(np.array([5.0, 0.0, 1.0, 9e9, 2.0]), max_gap=100).tolist()
    [True, True, True, False, True]
    >>> main_span(np.array([1.8e9, 0.0]), max_gap=100).tolist()  # 2027 and 1970: 2027
    [True, False]
    """
    if timestamps.size < 2:
        return np.ones(timestamps.size, dtype=bool)
    order = np.argsort(timestamps, kind="stable")
    stretch = np.concatenate([[0], np.cumsum(np.diff(timestamps[order]) > max_gap)])
    keep = np.zeros(timestamps.size, dtype=bool)
    sizes = np.bincount(stretch)
    keep[order] = stretch == sizes.size - 1 - np.argmax(sizes[::-1])  # a tie: the latest
    return keep


class LogTemplates:
    """Drain3's template miner with kizashi's masks, in memory.

    >>> miner = LogTemplates()
    >>> [miner.add(m) for m in ["sbatchd restart 1", "sbatchd restart 2", "disk full"]]
    [1, 1, 2]
    >>> miner.template(1)
    'sbatchd restart <NUM>'
    """

    def __init__(self, similarity: float = 0.4, depth: int = 4):
        from drain3 import TemplateMiner
        from drain3.masking import MaskingInstruction
        from drain3.template_miner_config import TemplateMinerConfig

        config = TemplateMinerConfig()
        config.profiling_enabled = False
        config.drain_sim_th = similarity
        config.drain_depth = depth
        config.masking_instructions = [MaskingInstruction(p, name) for p, name in MASKS]
        self.miner = TemplateMiner(config=config)
        self.first_seen: dict[int, str] = {}

    def add(self, message: str) -> int:
        """Mine one message; returns its template's id."""
        result = self.miner.add_log_message(message)
        cluster = int(result["cluster_id"])
        self.first_seen.setdefault(cluster, result["template_mined"])
        return cluster

    def template(self, cluster: int) -> str:
        """The template of ``cluster`` as it stands now (it may generalise as lines come)."""
        return self.miner.drain.id_to_cluster[cluster].get_template()


def _metric(template: str, limit: int = 80) -> str:
    text = " ".join(template.split())
    return "log:" + (text if len(text) <= limit else text[: limit - 1] + "…")


def logs_to_frame(lines: Iterable[str], step: float = 60.0, format: str = "auto",
                  name: str = "logs", miner: LogTemplates | None = None,
                  by_host: bool = True, max_cells: int | None = None,
                  timezone: str | None = None) -> SeriesFrame:
    """Count the lines of each template on each host per ``step`` seconds (module docs).

    Times without a zone are read in ``timezone`` (:func:`parse_lines`).

    ``by_host=False`` counts each template over all hosts (entity ``all``): fewer,
    denser series for a log of many hosts and few lines each.

    ``frame.labels`` marks the steps of a series that hold an alert line (formats
    with a label, e.g. ``bgl``); ``frame.meta`` has ``templates`` (metric →
    template), ``alert_lines`` (alert lines per step) and ``lines`` per step,
    ``skipped`` (lines that fit no format or name no time) and ``far`` (lines more
    than :data:`MAX_GAP_SECONDS` from the rest, skipped: :func:`main_span`).
    """
    if not step > 0:
        raise ValueError(f"log step must be positive seconds, got {step}")
    parsed = parse_lines(lines, format, timezone)
    if not parsed.hosts:
        raise ValueError(f"{name}: no log line fits the format"
                         f"{f' ({parsed.skipped} skipped)' if parsed.skipped else ''}")
    keep = main_span(parsed.timestamps)
    far = int((~keep).sum())
    if far:  # a line from 1970 among this year's: not decades of zero counts
        parsed = ParsedLines(parsed.timestamps[keep],
                             [h for h, k in zip(parsed.hosts, keep, strict=True) if k],
                             [m for m, k in zip(parsed.messages, keep, strict=True) if k],
                             parsed.alerts[keep], parsed.skipped, parsed.first_skipped)
    miner = miner or LogTemplates()
    order = np.argsort(parsed.timestamps, kind="stable")
    clusters = np.empty(order.size, dtype=np.int64)
    for k in order:
        clusters[k] = miner.add(parsed.messages[k])
    hosts = parsed.hosts if by_host else ["all"] * len(parsed.hosts)
    bins = np.floor(parsed.timestamps / step).astype(np.int64)
    first = int(bins.min())
    n_times = int(bins.max()) - first + 1
    keys: dict[tuple[str, int], int] = {}
    for host, cluster in sorted(set(zip(hosts, clusters.tolist(), strict=True))):
        keys[(host, cluster)] = len(keys)
    if max_cells is not None and n_times * len(keys) > max_cells:  # before the zeros
        raise LogCountsTooLarge(n_times, len(keys), (n_times - 1) * step, max_cells,
                                float(parsed.timestamps.min()), float(parsed.timestamps.max()))
    column = np.array([keys[(h, c)] for h, c in zip(hosts, clusters.tolist(), strict=True)])
    values = np.zeros((n_times, len(keys)))
    np.add.at(values, (bins - first, column), 1.0)
    labels = np.zeros(values.shape, dtype=bool)
    labels[bins[parsed.alerts] - first, column[parsed.alerts]] = True
    metrics = [_metric(miner.template(c)) for _, c in keys]
    entities = [h for h, _ in keys]
    # two templates may read the same once cut short: keep them apart by id
    seen = Counter(zip(entities, metrics, strict=True))
    metrics = [m if seen[(e, m)] == 1 else f"{m} #{c}" for (e, m), (_, c) in
               zip(zip(entities, metrics, strict=True), keys, strict=True)]
    stamps = ((first + np.arange(n_times)) * step * 1e9).astype(np.int64).astype(
        "datetime64[ns]")
    alert_lines = np.zeros(n_times)
    np.add.at(alert_lines, bins[parsed.alerts] - first, 1.0)
    per_step = np.zeros(n_times)
    np.add.at(per_step, bins - first, 1.0)
    meta: dict[str, Any] = {
        "templates": {m: miner.template(c) for m, (_, c) in zip(metrics, keys, strict=True)},
        "alert_lines": alert_lines, "lines": per_step, "skipped": parsed.skipped,
        "far": far}
    return SeriesFrame(stamps, values, tuple(entities), tuple(metrics),
                       labels=labels if parsed.alerts.any() else None, name=name, meta=meta)


def read_logs(path: str | Path, step: float = 60.0, format: str = "auto",
              by_host: bool = True, max_cells: int | None = None,
              timezone: str | None = None) -> SeriesFrame:
    """:func:`logs_to_frame` of a log file (plain or gzip); a byte that is not UTF-8 (or
    NUL) is replaced in its line (:mod:`kizashi.data.log_text`), counted in
    ``frame.meta["replaced"]``."""
    import io

    from kizashi.data.log_text import log_text

    text, replaced = log_text(Path(path))
    frame = logs_to_frame(io.StringIO(text, newline=""), step=step, format=format,
                          name=str(path), by_host=by_host, max_cells=max_cells,
                          timezone=timezone)
    frame.meta["replaced"] = replaced
    return frame
