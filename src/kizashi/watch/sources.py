"""Where the daemon's series come from: Prometheus' HTTP API, or a CSV file that grows.

Both return :class:`Samples`: timestamps, one label set per series and a
``(time, series)`` array of values (NaN where a series has no value).
Every failure — refused connection, timeout, HTTP error, malformed or
oversized body, a PromQL error — is a :class:`SourceError` with a message
saying what went wrong and where; the daemon marks the source down and
carries on.

Examples
--------
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "m.csv")
>>> _ = open(path, "w").write("timestamp,a,b\\n10,1.0,2.0\\n20,1.5,\\n")
>>> samples = CsvSource(path).read(since=10)
>>> samples.timestamps.tolist(), samples.labels, samples.values.tolist()
([20.0], [{'series': 'a'}, {'series': 'b'}], [[1.5, nan]])
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from kizashi.watch.http_answers import (
    TRANSPORT_ERRORS,
    AnswerTooLarge,
    AnswerTooSlow,
    read_within,
)
from kizashi.watch.http_options import describe_http_error, describe_url_error
from kizashi.watch.prom_answer import VectorResult, decode_answer

log = logging.getLogger("kizashi.watch")
#: Different warnings of one query's answers said, until an answer without any.
MAX_WARNINGS_SAID = 10

try:
    from json.encoder import encode_basestring_ascii as _quote
except ImportError:  # pragma: no cover - CPython always has it
    def _quote(text: str) -> str:
        return json.dumps(text)

__all__ = ["CsvSource", "PrometheusSource", "Samples", "SourceError", "series_key"]

#: Prometheus refuses range queries of more than 11,000 points per series.
MAX_RANGE_POINTS = 10_000


class SourceError(RuntimeError):
    """A source could not be read; the message says which and why."""


@dataclass
class Samples:
    """Values of many series at some time steps."""

    timestamps: np.ndarray
    labels: list[dict[str, str]]
    values: np.ndarray
    #: :func:`series_key` of each label set, when known already
    keys: list[str] | None = None

    @classmethod
    def empty(cls, timestamps: np.ndarray | None = None) -> Samples:
        t = np.zeros(0) if timestamps is None else np.asarray(timestamps, dtype=np.float64)
        return cls(t, [], np.zeros((t.size, 0)))


def column_name(labels: dict[str, str]) -> str | None:
    """The name a watch's ``columns:`` matches a series by: its ``series`` label (a CSV
    column), else its ``metric`` label.

    >>> column_name({"series": "cpu"}), column_name({"metric": "mem"}), column_name({})
    ('cpu', 'mem', None)
    """
    return labels.get("series") or labels.get("metric")


def only_columns(samples: Samples, columns: tuple[str, ...] | None
                 ) -> tuple[Samples, list[str]]:
    """The series of ``samples`` named in a watch's ``columns`` (by their ``series`` or
    ``metric`` label; all of them for None), and the names in ``columns`` that none has.

    >>> samples = Samples(np.zeros(1), [{"series": "cpu"}, {"series": "mem"}], np.ones((1, 2)))
    >>> kept, absent = only_columns(samples, ("mem", "disk"))
    >>> kept.labels, absent
    ([{'series': 'mem'}], ['disk'])
    """
    if columns is None:
        return samples, []
    names = [column_name(labels) for labels in samples.labels]
    keep = [i for i, name in enumerate(names) if name in columns]
    absent = [name for name in columns if name not in set(names)]
    return (Samples(samples.timestamps, [samples.labels[i] for i in keep],
                    samples.values[:, keep]), absent)


def series_key(labels: dict[str, str]) -> str:
    """A stable text key of a label set: its compact JSON with sorted keys.

    >>> series_key({"job": "node", "instance": "a:9100"})
    '{"instance":"a:9100","job":"node"}'
    """
    try:  # the same text as json.dumps(sort_keys=True, separators=(",", ":")), faster
        return "{" + ",".join([_quote(k) + ":" + _quote(v)
                               for k, v in sorted(labels.items())]) + "}"
    except TypeError:   # not all text: let json say how
        return json.dumps(labels, sort_keys=True, separators=(",", ":"))


class PrometheusSource:
    """Instant and range queries over Prometheus' HTTP API (``/api/v1/query``, ``query_range``).

    Parameters
    ----------
    url : str
        Base URL, e.g. ``http://127.0.0.1:9090``.
    timeout : float
        Seconds for one HTTP request.
    retries : int
        Extra attempts after a failure, waiting ``backoff``, ``2·backoff``, … between them.
    max_bytes : int
        Larger responses are refused (a guard against a runaway query).
    http : HttpOptions, optional
        Basic auth or a bearer token, TLS options and extra headers
        (:mod:`kizashi.watch.http_options`).
    """

    def __init__(self, url: str, timeout: float = 5.0, retries: int = 2, backoff: float = 0.5,
                 max_bytes: int = 32 * 1024 * 1024, name: str = "prometheus",
                 sleep: Callable[[float], None] = time.sleep, http: object = None):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.name = name
        self.sleep = sleep
        self.http = http
        self._opener = urllib.request.build_opener(*(http.handlers() if http else []))
        self._warnings: object = None            # of the last answer
        self._warned: dict[str, set[str]] = {}   # per query: the warnings said already

    follows_clock = True

    @classmethod
    def from_config(cls, spec: object) -> PrometheusSource:
        """From a watch config's source entry."""
        return cls(spec.url or "", timeout=spec.timeout, retries=spec.retries,
                   backoff=spec.backoff, max_bytes=spec.max_bytes, name=spec.name,
                   http=getattr(spec, "http", None))

    def instant(self, query: str, t: float) -> Samples:
        """Values of ``query`` at time ``t`` (seconds since the epoch).

        A query that selects a range (``node_load1[5m]``) answers an instant query with
        its raw samples (``resultType: matrix``), none of them at ``t`` as a rule: that
        is an error naming the query, not a step of missing values at every tick (the
        backfill's range query is refused by Prometheus itself).
        """
        data = self._get("/api/v1/query", {"query": query, "time": _fmt(t)})
        self._say_warnings(query)
        if (isinstance(data, dict) and data.get("resultType") == "matrix"
                and isinstance(data.get("result"), list)   # of range items (else: malformed)
                and all(isinstance(item, dict) and "values" in item for item in data["result"])):
            failure = SourceError(
                f"{self._where('query')}: the query {query[:200]!r} gives a range vector (raw "
                "samples over a time range), not a value per series at an instant: drop its "
                "[range] or wrap it in a function such as avg_over_time(…) or rate(…)")
            failure.permanent = True
            raise failure
        return _parse(data, np.array([float(t)]), self._where("query"))

    def range(self, query: str, start: float, end: float, step: float) -> Samples:
        """Values of ``query`` at ``start, start+step, …, end`` (chunked to Prometheus' limit)."""
        n = round((end - start) / step) + 1
        timestamps = start + step * np.arange(max(n, 0))
        parts = []
        for i in range(0, timestamps.size, MAX_RANGE_POINTS):
            chunk = timestamps[i:i + MAX_RANGE_POINTS]
            data = self._get("/api/v1/query_range", {
                "query": query, "start": _fmt(chunk[0]), "end": _fmt(chunk[-1]),
                "step": _fmt(step),
            })
            self._say_warnings(query)
            parts.append(_parse(data, chunk, self._where("query_range")))
        return _concat(parts, timestamps)

    def _say_warnings(self, query: str) -> None:
        """A WARNING for each new warning of the last answer to ``query`` (a partial answer:
        a Thanos store or a Mimir querier down, a query limit hit …), which is still used:
        its series may be missing or incomplete. Said again after an answer without any;
        at most :data:`MAX_WARNINGS_SAID` different ones until then."""
        warnings = self._warnings
        texts = warnings if isinstance(warnings, list) else [warnings] if warnings else []
        said = self._warned.setdefault(query, set())
        if not texts:
            said.clear()
            return
        for text in dict.fromkeys(" ".join(str(t).split())[:500] for t in texts):
            if text in said or len(said) >= MAX_WARNINGS_SAID:
                continue
            said.add(text)
            log.warning("source %r (%s): the answer to %r came with a warning, and is used (a "
                        "partial answer: series may be missing or incomplete): %s", self.name,
                        self.url, query[:200], text)

    def metric_types(self, names: list[str]) -> dict[str, str]:
        """The TYPE (``counter``, ``gauge``, ``histogram``, …) of each metric family that
        ``/api/v1/metadata`` knows among ``names`` and their families (``foo`` for
        ``foo_total``, ``foo_bucket``, …). One request, for every family the server knows
        (one answer, not a request per name: a tick never waits on dozens of them), no
        retries (a server without the endpoint answers 404: :class:`SourceError`, and the
        caller goes on without)."""
        from kizashi.prediction.counters import COUNTER_SUFFIXES

        wanted = dict.fromkeys(names)
        for name in names:
            wanted.update(dict.fromkeys(name[:-len(s)] for s in COUNTER_SUFFIXES
                                        if name.endswith(s) and len(name) > len(s)))
        data = self._get_once(f"{self.url}/api/v1/metadata", "/api/v1/metadata")
        types = {}
        for name in wanted:
            entries = data.get(name) if isinstance(data, dict) else None
            if isinstance(entries, list) and entries and isinstance(entries[0], dict):
                kind = entries[0].get("type")
                if isinstance(kind, str):
                    types[name] = kind
        return types

    def check(self) -> str:
        """Reach the server; return its version, or raise :class:`SourceError`."""
        data = self._get("/api/v1/status/buildinfo", {})
        return str(data.get("version", "?")) if isinstance(data, dict) else "?"

    # ------------------------------------------------------------------ http
    def _where(self, endpoint: str) -> str:
        return f"source {self.name!r} ({self.url}, {endpoint})"

    def _get(self, path: str, params: dict[str, str]) -> object:
        url = f"{self.url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        last: SourceError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                return self._get_once(url, path)
            except SourceError as error:
                last = error
                if getattr(error, "permanent", False):
                    break
        raise last  # type: ignore[misc]

    def _get_once(self, url: str, path: str) -> object:
        where = self._where(path)
        headers = {"Accept": "application/json"}
        if self.http is not None:
            try:
                headers.update(self.http.request_headers())
            except OSError as error:  # a credentials file that went away
                raise SourceError(f"{where}: {error}") from None
        request = urllib.request.Request(url, headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                # the whole body within the timeout of its headers, not each read
                body = read_within(response, self.max_bytes, time.monotonic() + self.timeout)
        except AnswerTooLarge:
            raise SourceError(f"{where}: response larger than max_bytes={self.max_bytes}; "
                              "narrow the query or raise the source's max_bytes") from None
        except urllib.error.HTTPError as error:
            try:
                body = error.read(4096)
            except TRANSPORT_ERRORS:   # its body cut short or late: the code says enough
                body = b""
            message = _error_message(body) or error.reason
            hint = describe_http_error(error.code, self.http, f"sources.{self.name}")
            failure = SourceError(f"{where}: HTTP {error.code}: {message}{hint}")
            # a bad query or refused credentials: retrying now cannot help
            failure.permanent = error.code in (400, 401, 403, 422)
            raise failure from None
        except SourceError:
            raise
        except AnswerTooSlow as error:
            raise SourceError(f"{where}: timeout: {error}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            reason = describe_url_error(getattr(error, "reason", error), f"sources.{self.name}")
            raise SourceError(f"{where}: unreachable: {reason}") from None
        except TRANSPORT_ERRORS as error:   # http.client: a cut-short or non-HTTP answer
            raise SourceError(f"{where}: broken HTTP answer: "
                              f"{type(error).__name__} {error}") from None
        head = body[:60]
        try:
            # decoded as json.loads would, the bytes dropped before the parse tree is built
            # (at 100,000 series the answer is ~12 MB: its bytes need not outlive this)
            text = body.decode(json.detect_encoding(body), "surrogatepass")
            del body
            payload = decode_answer(text)  # a vector: item by item, labels shared
        except (ValueError, UnicodeDecodeError, RecursionError):   # nested past any answer
            raise SourceError(f"{where}: response is not JSON "
                              f"(first bytes: {head!r})") from None
        if not isinstance(payload, dict) or payload.get("status") != "success":
            message = payload.get("error") if isinstance(payload, dict) else None
            kind = payload.get("errorType") if isinstance(payload, dict) else None
            raise SourceError(f"{where}: query failed: {message or 'malformed response'}"
                              + (f" ({kind})" if kind else ""))
        self._warnings = payload.get("warnings")
        return payload.get("data")


class CsvSource:
    """New rows of a CSV file that another program appends to.

    The file has a header: a timestamp column (seconds since the epoch, or ISO
    8601 in UTC) and one column per series; each series is labelled
    ``{"series": column}``. Empty cells are missing values.

    The new rows are put in time order and a timestamp given twice keeps the later
    line's values (a missing value never replaces an observed one), as the file
    readers do (docs/data.md); a WARNING names the first such line. A timestamp that
    is not finite or past year 9999, and a column name given twice, make the file
    unreadable (the source is down) until fixed. A byte-order mark is not part of the
    first column's name.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
    ...     _ = f.write("timestamp,a\\n3,30\\n1,10\\n3,\\n2,20\\n")
    >>> samples = CsvSource(f.name).read(1.0)
    >>> samples.timestamps.tolist(), samples.values[:, 0].tolist()
    ([2.0, 3.0], [20.0, 30.0])
    """

    def __init__(self, path: str, timestamp_column: str = "timestamp", name: str = "csv",
                 columns: tuple[str, ...] | None = None):
        self.path = path
        self.timestamp_column = timestamp_column
        self.name = name
        self.columns = columns
        self._told_behind: set[float] = set()  # progresses whose file was said to be older

    follows_clock = False

    @classmethod
    def from_config(cls, spec: object) -> CsvSource:
        """From a watch config's source entry."""
        return cls(spec.path or "", spec.timestamp_column, name=spec.name)

    def check(self) -> str:
        if not os.path.exists(self.path):
            raise SourceError(f"source {self.name!r}: CSV file {self.path} does not exist")
        return "csv"

    def read(self, since: float | None) -> Samples:
        """All rows with a timestamp after ``since`` (all rows when None)."""
        try:
            with open(self.path, newline="", encoding="utf-8-sig") as handle:
                text = handle.read()
        except OSError as error:
            raise SourceError(f"source {self.name!r}: cannot read {self.path}: "
                              f"{error.strerror or error}") from None
        text = text[: text.rfind("\n") + 1]  # a half-written last line waits for the rest
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if not header:
            return Samples.empty()
        from kizashi.data.validation import TRIM, name_key, same_column_names

        spelled = header  # names as the file readers take them (docs/data.md): white space
        header = [TRIM.sub("", c) for c in header]  # around a name is no part of it
        if self.timestamp_column not in header:
            raise SourceError(f"source {self.name!r}: {self.path} has no column "
                              f"{self.timestamp_column!r} (header: {', '.join(header)})")
        read = {name_key(c) for c in
                (self.timestamp_column, *(header if self.columns is None else self.columns))}
        keys = [name_key(c) for c in header]
        twice = sorted({c for c, k in zip(header, keys, strict=True)
                        if keys.count(k) > 1 and k in read})
        if twice:
            read_at = [i for i, k in enumerate(keys) if k in read]
            clash = same_column_names([spelled[i] for i in read_at],
                                      [i + 1 for i in read_at])
            raise SourceError(f"source {self.name!r}: {self.path}: {clash}")
        t_index = header.index(self.timestamp_column)
        wanted = None if self.columns is None else {name_key(c) for c in self.columns}
        indices = [i for i, k in enumerate(keys) if i != t_index
                   and (wanted is None or k in wanted)]
        names = [header[i] for i in indices]
        times, rows, lines = [], [], []
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise SourceError(f"source {self.name!r}: {self.path} line {line_no} has "
                                  f"{len(row)} fields, the header has {len(header)}")
            try:
                t = _parse_time(row[t_index])
                values = [float(row[i]) if row[i].strip() else math.nan for i in indices]
            except ValueError:
                raise SourceError(f"source {self.name!r}: {self.path} line {line_no}: cannot "
                                  f"read {row!r} as a timestamp and numbers") from None
            times.append(t)
            rows.append(values)
            lines.append(line_no)
        values = np.array(rows, dtype=np.float64).reshape(len(rows), len(names))
        # a pandas row index written into the file (an unnamed or 'Unnamed: 0' column
        # counting 0, 1, 2, … over all rows) is no series (kizashi.data.index_columns)
        from kizashi.data.index_columns import INDEX_NAME, is_row_counter

        keep = [j for j, c in enumerate(names) if not ((not c.strip() or INDEX_NAME.match(c))
                                                       and is_row_counter(values[:, j]))]
        stamps = np.array(times, dtype=np.float64)
        new = stamps > since if since is not None else np.ones(stamps.size, dtype=bool)
        if since is not None and stamps.size and stamps.max() < since \
                and since not in self._told_behind:
            self._told_behind.add(since)  # once per progress: not at every tick
            log.warning("source %s: every row of %s is older than the progress of a watch "
                        "reading it (newest row %s, progress %s): rotated or replaced by an "
                        "older file? Its rows are skipped; rows after the progress are read "
                        "as they come", self.name, self.path, _utc(float(stamps.max())),
                        _utc(since))
        stamps, values = self._in_time_order(stamps[new], values[new][:, keep],
                                             np.array(lines, dtype=np.int64)[new])
        return Samples(stamps, [{"series": names[j]} for j in keep], values)

    def _in_time_order(self, stamps: np.ndarray, values: np.ndarray, lines: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Rows sorted by time, one per timestamp (the later line's observed values win):
        a watch processes each step once, in order (before, rows out of order were
        processed in file order and again at the next read, after the stored progress)."""
        if stamps.size < 2 or bool(np.all(np.diff(stamps) > 0)):
            return stamps, values
        back = np.flatnonzero(np.diff(stamps) <= 0)
        log.warning("source %s: %s line %d is %s; rows are taken in time order, the later "
                    "line's values winning", self.name, self.path, int(lines[back[0] + 1]),
                    "out of time order" if stamps[back[0] + 1] < stamps[back[0]]
                    else "a timestamp given again")
        order = np.argsort(stamps, kind="stable")
        stamps, values = stamps[order], values[order]
        unique, first = np.unique(stamps, return_index=True)
        merged = values[first].copy()
        group = np.searchsorted(unique, stamps)
        for i in range(stamps.size):   # later lines (the stable order keeps them later) win
            seen = ~np.isnan(values[i])
            merged[group[i], seen] = values[i, seen]
        return unique, merged


# ---------------------------------------------------------------------- parsing
def _parse(data: object, timestamps: np.ndarray, where: str) -> Samples:
    if not isinstance(data, dict) or not isinstance(data.get("result"), (list, VectorResult)):
        raise SourceError(f"{where}: malformed response: no data.result list")
    kind = data.get("resultType")
    result = data["result"]
    if kind == "scalar":
        result = [{"metric": {}, "value": result}]
        kind = "vector"
    if kind not in ("vector", "matrix"):
        raise SourceError(f"{where}: result type {kind!r} is not a vector or matrix")
    index = {round(float(t), 3): i for i, t in enumerate(timestamps)}
    labels: list[dict[str, str]] = []
    values = np.full((timestamps.size, len(result)), np.nan)
    try:
        if kind == "vector":   # one value per series: gather them, convert at once
            if isinstance(result, VectorResult):   # decoded item by item already
                labels, stamps, texts = result.labels, result.stamps, result.texts
            else:
                pairs = [item["value"] for item in result]
                labels = [item.get("metric", {}) for item in result]
                stamps, texts = [p[0] for p in pairs], [p[1] for p in pairs]
            stamps = np.round(np.array(stamps, dtype=np.float64), 3)
            values[:, :] = np.nan
            if stamps.size and (stamps == stamps[0]).all():
                row = np.full(stamps.size, index.get(float(stamps[0]), 0))
            else:
                row = np.array([index.get(float(t), 0) for t in stamps], dtype=np.int64)
            values[row, np.arange(len(result))] = np.array(texts, dtype=float)
            if not all(type(m) is dict for m in labels):
                raise TypeError("metric is not a mapping")
            if not isinstance(result, VectorResult):   # as the matrix's: text, so a series
                labels = [{str(k): str(v) for k, v in m.items()} for m in labels]  # keeps its key
        for j, item in enumerate(result if kind == "matrix" else ()):
            metric = item.get("metric", {})
            if not isinstance(metric, dict):
                raise TypeError("metric is not a mapping")
            labels.append({str(k): str(v) for k, v in metric.items()})
            for t, v in item["values"]:
                i = index.get(round(float(t), 3))
                if i is not None:
                    values[i, j] = float(v)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError,
            OverflowError) as error:   # OverflowError: a JSON integer past any float
        raise SourceError(f"{where}: malformed series in response ({error})") from None
    if len({series_key(m) for m in labels} if kind == "matrix" else _unique(labels)) \
            != len(labels):
        raise SourceError(f"{where}: the query returns several series with the same labels; "
                          "aggregate them (e.g. 'sum by (instance)') so each is unique")
    return Samples(timestamps.astype(np.float64), labels, values)


def _unique(labels: list[dict[str, str]]) -> set[Any]:
    """The distinct label sets (as keys), cheaply for the common shape: every series has
    the same label names (one query's answer), told apart by their values."""
    names = tuple(labels[0]) if labels else ()
    if all(tuple(m) == names for m in labels):
        return set(map(tuple, (m.values() for m in labels)))
    return {series_key(m) for m in labels}


def _concat(parts: list[Samples], timestamps: np.ndarray) -> Samples:
    if len(parts) == 1:
        return parts[0]
    keys: dict[str, int] = {}
    labels: list[dict[str, str]] = []
    for part in parts:
        for m in part.labels:
            if series_key(m) not in keys:
                keys[series_key(m)] = len(labels)
                labels.append(m)
    values = np.full((timestamps.size, len(labels)), np.nan)
    row = 0
    for part in parts:
        cols = [keys[series_key(m)] for m in part.labels]
        values[row:row + part.timestamps.size, cols] = part.values
        row += part.timestamps.size
    return Samples(timestamps, labels, values)


def _error_message(body: bytes) -> str | None:
    try:
        return str(json.loads(body).get("error"))
    except (ValueError, AttributeError, UnicodeDecodeError, RecursionError):
        return None


def _utc(t: float) -> str:
    """Epoch seconds as an ISO UTC time to the second.

    >>> _utc(1_767_225_600.4)
    '2026-01-01T00:00:00Z'
    """
    return f"{np.datetime64(math.floor(t), 's')}Z"


def _fmt(t: float) -> str:
    return f"{float(t):.3f}"


#: microseconds from the epoch that int64 nanoseconds still reach (about ±292 years)
_NS_REACH_US = 9_000_000_000_000_000
#: the latest timestamp a CSV row may have (the end of year 9999, UTC)
MAX_CSV_TIME = 253402300799.0


def _parse_time(text: str) -> float:
    """Epoch seconds of a CSV timestamp (a ValueError when not a time of years 1–9999)."""
    text = text.strip()
    try:
        t = float(text)
    except ValueError:
        # (its own unit, not ns: a ns stamp past year 2262 wraps round to another time)
        stamp = np.datetime64(text.replace("Z", "").replace("+00:00", ""))
        if np.isnat(stamp):
            raise ValueError(f"not a time: {text!r}") from None
        micros = int(stamp.astype("datetime64[us]").astype(np.int64))
        # in nanoseconds where they reach (years 1678–2262), as before: the stored progress
        # of a watch is such a float, and one unit in the last place off would read its
        # last row again
        t = (float(stamp.astype("datetime64[ns]").astype(np.int64)) / 1e9
             if abs(micros) < _NS_REACH_US else micros / 1e6)
    if not -62135596800.0 <= t <= MAX_CSV_TIME:  # (not finite, or outside years 1–9999)
        raise ValueError(f"not a time of years 1 to 9999: {text!r}")
    return t
