"""The ``remote_write`` sink: every processed step's scores written back to a TSDB.

Scores, thresholds, alert state and forecast bands of every step the daemon
processes — live steps and backfilled ones alike — go to a Prometheus
remote-write 1.0 receiver (Prometheus with ``--web.enable-remote-write-receiver``,
Mimir, Thanos Receive, VictoriaMetrics, Cortex …), with the series' own labels,
so Grafana can plot their history next to the data:

=============================  ==========================================================
``__name__``                   what (per series, detector and step)
=============================  ==========================================================
``kizashi_anomaly_score``      the decided level (the score the cutoff applies to)
``kizashi_anomaly_threshold``  the cutoff on that scale
``kizashi_anomaly_firing``     1 while the incident is open (after ``min_duration``), else 0
``kizashi_forecast``           the value the detector expected (detectors that have one)
``kizashi_forecast_lower``     the lower edge of its normal band
``kizashi_forecast_upper``     the upper edge
``kizashi_value``              the value scored (``send: [value]``; off by default)
=============================  ==========================================================

Labels: the series' labels, its metric name moved to ``metric_name`` (the
``__name__`` is kizashi's), plus ``watch`` and ``detector`` (a series label of
one of those names gets an ``exported_`` prefix) and the configured ``labels``
(where the series has no label of that name); names and values the protocol cannot
carry are rewritten as :mod:`kizashi.watch.export_labels` says, with
``kizashi_series_id`` where that would make two series one. A trained multivariate model
writes one series per watch, with the labels all its inputs share.

**Durable.** Each tick's samples are encoded into requests (at most
``max_samples_per_send`` samples each) and written to a queue file — a small
SQLite database beside the state file — *before* the tick's own transaction
commits; they are sent from there, oldest first. A ``kill -9`` therefore loses
nothing; a tick whose commit was cut short is processed again, and the queue's
per-watch mark of the last step queued keeps its steps from being queued twice
(a receiver refuses a whole request that holds a sample it has already, newer
samples included). A receiver that is down or answers 5xx/429 is
retried with exponential backoff (``min_backoff`` … ``max_backoff``); a
request it rejects (4xx) is dropped and counted, as Prometheus' own
remote-write client does. The queue is bounded (``max_queue_bytes``): past it
the oldest requests are dropped and counted. ``/metrics`` shows
``kizashi_watch_remote_write_samples_total{result="sent|rejected|dropped"}``,
``kizashi_watch_remote_write_queue_samples`` and
``kizashi_watch_remote_write_failures_total``.

Examples
--------
>>> import numpy as np
>>> from kizashi.watch.prompb import decode_write_request
>>> writer = RemoteWriter(RemoteWriteConfig(url="http://127.0.0.1:9/api/v1/write"), ":memory:")
>>> decision = type("D", (), {"level": np.array([[0.5], [7.0]]), "threshold": np.full((2, 1), 4.0),
...                           "active": np.array([[False], [True]])})()
>>> writer.add("cpu", "sigma", [{"__name__": "load", "instance": "a"}], np.array([60.0, 90.0]),
...            np.ones((2, 1), bool), decision)
>>> writer.enqueue()
>>> series = decode_write_request(writer.queue.oldest()[2])
>>> sorted(series[0][0].items())      # the labels of the first series written
... # doctest: +NORMALIZE_WHITESPACE
[('__name__', 'kizashi_anomaly_score'), ('detector', 'sigma'), ('instance', 'a'),
 ('metric_name', 'load'), ('watch', 'cpu')]
>>> for labels, samples in series:
...     print(labels["__name__"], samples)
kizashi_anomaly_score [(60000, 0.5), (90000, 7.0)]
kizashi_anomaly_threshold [(60000, 4.0), (90000, 4.0)]
kizashi_anomaly_firing [(60000, 0.0), (90000, 1.0)]
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import math
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kizashi.watch.export_labels import export_labels, valid_label_name
from kizashi.watch.http_answers import AnswerTooLarge, RefuseRedirect, read_within
from kizashi.watch.http_options import (
    HttpOptions,
    describe_http_error,
    describe_url_error,
    parse_http_options,
)
from kizashi.watch.prompb import HEADERS, encode_prepared, labels_message
from kizashi.watch.sqlite_files import check_whole_file, row_crc
from kizashi.yaml_errors import bounded_repr as _r

__all__ = ["METRIC_NAMES", "RemoteWriteConfig", "RemoteWriteQueue", "RemoteWriter",
           "parse_remote_write", "remote_write_families", "series_labels"]

log = logging.getLogger("kizashi.watch")

#: what ``send:`` may name → the ``__name__`` written
METRIC_NAMES = {
    "score": "kizashi_anomaly_score",
    "threshold": "kizashi_anomaly_threshold",
    "alert": "kizashi_anomaly_firing",
    "forecast": "kizashi_forecast",
    "value": "kizashi_value",
}
BAND_NAMES = {"forecast": "kizashi_forecast", "lower": "kizashi_forecast_lower",
              "upper": "kizashi_forecast_upper"}
DEFAULT_SEND = ("score", "threshold", "alert", "forecast")
#: labels kizashi sets; a series label of the same name gets an ``exported_`` prefix
OWN_LABELS = ("watch", "detector", "metric_name")
#: label sets kept serialised between ticks (cleared when it grows past this)
LABEL_CACHE_SIZE = 1_000_000


@dataclass(frozen=True)
class RemoteWriteConfig:
    """The ``remote_write:`` block of a watch config.

    >>> config = RemoteWriteConfig(url="http://prometheus:9090/api/v1/write")
    >>> config.send, config.queue_path("/var/lib/kizashi/state.sqlite")
    (('score', 'threshold', 'alert', 'forecast'), '/var/lib/kizashi/state.remote-write.sqlite')
    """

    url: str
    timeout: float = 10.0
    send: tuple[str, ...] = DEFAULT_SEND
    labels: dict[str, str] = field(default_factory=dict)
    queue: str | None = None                 #: queue file (None: beside the state file)
    max_queue_bytes: int = 256 * 1024 * 1024
    max_samples_per_send: int = 5000
    min_backoff: float = 1.0
    max_backoff: float = 60.0
    http: HttpOptions | None = None

    def queue_path(self, storage: str) -> str:
        """The queue file: ``queue``, else ``<state file stem>.remote-write.sqlite`` beside it."""
        if self.queue:
            return self.queue
        if storage == ":memory:":
            return ":memory:"
        path = Path(storage)
        return str(path.with_name(path.stem + ".remote-write.sqlite"))


def parse_remote_write(reader: Any) -> RemoteWriteConfig | None:
    """The ``remote_write`` block of a config (a ``config._Reader``), or None when absent."""
    raw = reader.get("remote_write", None)
    if raw is None:
        return None
    sub = type(reader)(raw, reader.where, "remote_write.")
    at = f"{reader.where}: remote_write."
    url = sub.get("url", None)
    if not isinstance(url, str) or not url.strip().startswith(("http://", "https://")):
        raise ValueError(f"{at}url must be the receiver's http(s) URL (e.g. "
                         f"http://prometheus:9090/api/v1/write), got {_r(url)}"
                         f"{sub.misspelt('url') if url is None else ''}")
    from kizashi.watch.config import _url

    _url(url, f"{at}url")  # (checked only: the receiver's path is kept as given)
    send = sub.get("send", list(DEFAULT_SEND))
    if isinstance(send, str):
        send = [send]
    if not isinstance(send, list) or not send or any(s not in METRIC_NAMES for s in send):
        raise ValueError(f"{at}send must be a list of {', '.join(METRIC_NAMES)}, got {_r(send)}")
    labels = sub.get("labels", None) or {}
    if not isinstance(labels, dict):
        raise ValueError(f"{at}labels must be a mapping of label → value")
    for name, value in labels.items():
        if not isinstance(name, str) or not valid_label_name(name):
            raise ValueError(f"{at}labels: {_r(name)} is not a valid Prometheus label name")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value == "":
            raise ValueError(f"{at}labels.{name} must be non-empty text")
        if name in OWN_LABELS or name == "__name__":
            raise ValueError(f"{at}labels.{name} is set by kizashi itself")
    queue = sub.get("queue", None)
    if queue is not None and (not isinstance(queue, str) or not queue.strip()):
        raise ValueError(f"{at}queue must be a file path")
    out = RemoteWriteConfig(
        url=url.strip(), timeout=sub.duration("timeout", 10.0),
        send=tuple(dict.fromkeys(send)),
        labels={k: str(v) for k, v in labels.items()}, queue=queue,
        max_queue_bytes=sub.integer("max_queue_bytes", 256 * 1024 * 1024, minimum=1 << 20,
                                    maximum=1 << 40),
        max_samples_per_send=sub.integer("max_samples_per_send", 5000, minimum=1,
                                         maximum=1_000_000),
        min_backoff=sub.duration("min_backoff", 1.0),
        max_backoff=sub.duration("max_backoff", 60.0),
        http=parse_http_options(sub, "remote_write receiver"),
    )
    if out.max_backoff < out.min_backoff:
        raise ValueError(f"{at}max_backoff must be at least min_backoff")
    sub.reject_unknown()
    return out


def series_labels(labels: dict[str, str], watch: str, detector: str, name: str,
                  extra: dict[str, str], series_id: int | None = None) -> dict[str, str]:
    """The labels of one written series (see the module notes): the series' labels as
    :func:`kizashi.watch.export_labels.export_labels` writes them (valid names, UTF-8,
    ``kizashi_series_id`` where they lost anything; empty values left out).

    >>> series_labels({"__name__": "up", "watch": "x", "job": "n"}, "cpu", "sigma",
    ...               "kizashi_anomaly_score", {"cluster": "k"})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'metric_name': 'up', 'job': 'n', 'exported_watch': 'x', 'cluster': 'k',
     '__name__': 'kizashi_anomaly_score', 'watch': 'cpu', 'detector': 'sigma'}
    """
    out = export_labels(labels, OWN_LABELS, series_id, drop_empty=True)
    for key, value in extra.items():
        out.setdefault(key, value)
    out.update({"__name__": name, "watch": watch, "detector": detector})
    return out


class RemoteWriteQueue:
    """Encoded requests waiting to be sent, oldest first, in a SQLite file (or in memory).

    >>> queue = RemoteWriteQueue(":memory:", max_bytes=10)
    >>> queue.put([(3, b"abcdef"), (2, b"ghijkl")])   # over 10 bytes: the oldest is dropped
    3
    >>> queue.oldest()[1:], queue.samples, queue.requests
    ((2, b'ghijkl'), 2, 1)
    """

    def __init__(self, path: str, max_bytes: int):
        self.path, self.max_bytes = path, max_bytes
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        #: damaged requests found (and dropped) by :meth:`oldest` since last read: samples
        self.damaged = 0
        try:
            self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            if path != ":memory:":
                check_whole_file(self.db, path)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY "
                            "AUTOINCREMENT, samples INTEGER NOT NULL, bytes INTEGER NOT NULL, "
                            "body BLOB NOT NULL, crc INTEGER)")
            if "crc" not in {r[1] for r in self.db.execute("PRAGMA table_info(requests)")}:
                self.db.execute("ALTER TABLE requests ADD COLUMN crc INTEGER")  # (older file)
            self.db.execute("CREATE TABLE IF NOT EXISTS marks (watch TEXT PRIMARY KEY, "
                            "last_ms INTEGER NOT NULL)")
            row = self.db.execute("SELECT COUNT(*), COALESCE(SUM(samples), 0), "
                                  "COALESCE(SUM(bytes), 0) FROM requests").fetchone()
            #: per watch, the last step queued (ms): a step processed again is not queued again
            self.marks = {str(w): int(t) for w, t in self.db.execute(
                "SELECT watch, last_ms FROM marks")}
        except (sqlite3.Error, UnicodeDecodeError) as error:
            if hasattr(self, "db"):
                self.db.close()
            detail = " ".join(str(error).split())[:300]
            raise ValueError(f"remote_write queue {path}: cannot open it ({detail}); move it "
                             "away or set remote_write.queue to another file") from None
        self.requests, self.samples, self.bytes = (int(x) for x in row)
        self.lock = threading.Lock()

    def put(self, requests: Sequence[tuple[int, bytes]],
            marks: dict[str, int] | None = None) -> int:
        """Append ``(samples, body)`` requests and set :attr:`marks` in one transaction.

        Returns the samples dropped to stay within ``max_bytes``.
        """
        dropped, marks = 0, marks or {}
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany("INSERT INTO requests (samples, bytes, body, crc) VALUES "
                                    "(?, ?, ?, ?)", [(n, len(body), body, row_crc(body, int(n)))
                                                     for n, body in requests])
                self.db.executemany("INSERT OR REPLACE INTO marks VALUES (?, ?)",
                                    list(marks.items()))
                total = self.bytes + sum(len(body) for _, body in requests)
                gone = []
                if total > self.max_bytes:
                    for rid, n, size in self.db.execute(
                            "SELECT id, samples, bytes FROM requests ORDER BY id"):
                        if total <= self.max_bytes:
                            break
                        gone.append(rid)
                        total -= size
                        dropped += n
                    self.db.executemany("DELETE FROM requests WHERE id = ?",
                                        [(rid,) for rid in gone])
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.marks.update(marks)
            self.requests += len(requests) - len(gone)
            self.samples += sum(n for n, _ in requests) - dropped
            self.bytes = total
        return dropped

    def oldest(self) -> tuple[int, int, bytes] | None:
        """``(id, samples, body)`` of the oldest request, or None.

        A request whose bytes fail their CRC-32 (changed on disk) is never sent: it is
        removed, logged and counted in :attr:`damaged`.
        """
        while True:
            with self.lock:
                try:
                    row = self.db.execute("SELECT id, samples, body, crc FROM requests ORDER BY "
                                          "id LIMIT 1").fetchone()
                except sqlite3.DatabaseError as error:
                    raise sqlite3.DatabaseError(f"remote_write queue {self.path}: "
                                                f"{' '.join(str(error).split())}") from None
            if row is None:
                return None
            rid, samples, body, check = row
            if check is None or (isinstance(body, bytes) and isinstance(samples, int)
                                 and check == row_crc(body, int(samples))):
                return int(rid), int(samples), bytes(body)
            log.error("remote_write queue %s: request %s is damaged (its CRC-32 differs: the "
                      "bytes changed on disk); dropped, %s samples not sent", self.path, rid,
                      samples)
            self.damaged += int(samples) if isinstance(samples, int) else 0
            self.remove(int(rid))

    def remove(self, request_id: int) -> None:
        with self.lock:
            row = self.db.execute("SELECT samples, bytes FROM requests WHERE id = ?",
                                  (request_id,)).fetchone()
            if row is None:
                return
            self.db.execute("DELETE FROM requests WHERE id = ?", (request_id,))
            self.requests -= 1
            self.samples -= int(row[0])
            self.bytes -= int(row[1])

    def close(self) -> None:
        self.db.close()


class RemoteWriter:
    """Collects a tick's samples, queues them durably and sends them (see the module notes).

    Parameters
    ----------
    config : RemoteWriteConfig or None
        None: a writer that does nothing (``enabled`` is False).
    storage : str
        The daemon's state file (the queue lives beside it unless configured).
    monotonic : callable
        Seconds for backoff (tests pass a fake clock).

    Examples
    --------
    >>> writer = RemoteWriter(None)          # not configured: every call does nothing
    >>> writer.enabled, writer.stats(), writer.check()
    (False, None, 'not configured')
    """

    def __init__(self, config: RemoteWriteConfig | None, storage: str = ":memory:",
                 monotonic: Callable[[], float] = time.monotonic):
        self.config = config
        self.enabled = config is not None
        self.monotonic = monotonic
        self.queue = None if config is None else RemoteWriteQueue(
            config.queue_path(storage), config.max_queue_bytes)
        self.counts = {"sent": 0, "rejected": 0, "dropped": 0}
        self.failures = 0
        self.last_error = ""
        #: (the series' labels as a serialised TimeSeries, its samples) collected this tick
        self._pending: list[tuple[bytes, list[tuple[int, float]]]] = []
        self._labels: dict[tuple[Any, str], bytes] = {}   # label bytes by series and metric
        self._marks: dict[str, int] = {}   # per watch, the last step collected this tick
        self._retry_at = -math.inf
        self._failed_in_row = 0
        self._opener = None if config is None else urllib.request.build_opener(
            *(config.http.handlers() if config.http else []),
            RefuseRedirect())   # a redirected POST would go on as a GET without its body

    # ----------------------------------------------------------------- collect
    @property
    def wants_bands(self) -> bool:
        return self.enabled and "forecast" in self.config.send  # type: ignore[union-attr]

    def bands(self, detector: Any, matrix: np.ndarray, times: np.ndarray) -> Any:
        """The detector's forecast band for a block, from its state before the block (or None).

        Called before the block is learned. The band of each step is the one the
        detector expected, learning every earlier step of the block (a step the
        daemon protected from learning is learned here: within a backfill that
        contains an incident the band can differ from what the daemon learned).
        """
        if not self.wants_bands or getattr(detector, "multivariate", False):
            return None
        from kizashi.detectors.base import Detector

        if type(detector)._explain is Detector._explain:
            return None
        try:
            out = detector.explain(matrix, times)
        except Exception as error:  # a band is a nicety: never break a tick for it
            log.debug("remote_write: no forecast band from %s: %s", type(detector).__name__,
                      error)
            return None
        return out if out.forecast is not None and out.forecast.shape == matrix.shape else None

    def add(self, watch: str, detector: str, labels: Sequence[dict[str, str]],
            times: np.ndarray, observed: np.ndarray, decision: Any, bands: Any = None,
            multivariate: bool = False, values: np.ndarray | None = None,
            ids: Sequence[int] | None = None) -> None:
        """Collect the samples of one detector over a block of steps (all series of a watch).

        ``labels`` has one label set per column; ``observed`` marks the steps
        where a series had a value; ``decision`` has ``level``, ``threshold`` and
        ``active`` arrays ``(time, series)``; ``bands`` a detector output with
        ``forecast``/``lower``/``upper`` (or None); ``ids`` the series' ids in the state
        file (written as ``kizashi_series_id`` where their labels alone would not tell
        two series apart, see :func:`series_labels`).
        """
        if not self.enabled or not len(labels):
            return
        config = self.config
        assert config is not None
        stamps = np.round(np.asarray(times, dtype=np.float64) * 1000.0).astype(np.int64)
        level = np.asarray(decision.level, dtype=np.float64)
        columns: dict[str, np.ndarray] = {}
        if "score" in config.send:
            columns["kizashi_anomaly_score"] = level
        if "threshold" in config.send:
            columns["kizashi_anomaly_threshold"] = np.asarray(decision.threshold, np.float64)
        if "alert" in config.send:
            columns["kizashi_anomaly_firing"] = np.asarray(decision.active, np.float64)
        if bands is not None and not multivariate:
            for key, name in BAND_NAMES.items():
                if getattr(bands, key, None) is not None:
                    columns[name] = np.asarray(getattr(bands, key), dtype=np.float64)
        if "value" in config.send and values is not None and not multivariate:
            columns["kizashi_value"] = np.asarray(values, dtype=np.float64)
        if multivariate:  # one score per step for the whole watch
            labels, ids = [_shared(labels)], None
            observed = np.isfinite(level[:, :1])
            columns = {k: v[:, :1] for k, v in columns.items()}
        names = list(columns)
        stacked = np.stack([columns[name] for name in names])            # (metric, time, series)
        # steps queued before (a tick processed again after a crash) are not queued twice: the
        # receiver would refuse the whole request for them, newer steps included
        mark = self.queue.marks.get(watch) if self.queue is not None else None
        fresh = np.ones(stamps.size, bool) if mark is None else stamps > mark
        if stamps.size:
            self._marks[watch] = max(int(stamps.max()), self._marks.get(watch, mark or 0))
        keep = (np.isfinite(stacked) & np.asarray(observed, dtype=bool)[None]
                & fresh[None, :, None])
        one_step = stamps.size == 1
        cache = self._labels
        if len(cache) > LABEL_CACHE_SIZE:
            cache.clear()
        for j in np.flatnonzero(keep.any(axis=(0, 1))).tolist():
            series = labels[j]
            key = (watch, detector, tuple(sorted(series.items())))
            for k, name in enumerate(names):
                rows = keep[k, :, j]
                if one_step:
                    if not rows[0]:
                        continue
                    samples = [(int(stamps[0]), float(stacked[k, 0, j]))]
                elif rows.any():
                    samples = list(zip(stamps[rows].tolist(), stacked[k, rows, j].tolist(),
                                       strict=True))
                else:
                    continue
                encoded = cache.get((key, name))
                if encoded is None:
                    encoded = cache[(key, name)] = labels_message(series_labels(
                        series, watch, detector, name, config.labels,
                        None if ids is None else int(ids[j])))
                self._pending.append((encoded, samples))

    def discard(self) -> None:
        """Forget the samples collected since the last :meth:`enqueue` (the tick failed)."""
        self._pending, self._marks = [], {}

    def enqueue(self) -> None:
        """Encode what was collected into requests and append them to the queue file.

        Raises ``sqlite3.Error`` when the queue cannot be written (the caller's
        tick fails and is processed again).
        """
        if (not self._pending and not self._marks) or self.queue is None:
            self.discard()
            return
        limit = self.config.max_samples_per_send  # type: ignore[union-attr]
        requests, batch, n = [], [], 0
        for labels, samples in self._pending:
            for i in range(0, len(samples), limit):
                part = samples[i:i + limit]
                if n and n + len(part) > limit:
                    requests.append((n, encode_prepared(batch)))
                    batch, n = [], 0
                batch.append((labels, part))
                n += len(part)
        if batch:
            requests.append((n, encode_prepared(batch)))
        dropped = self.queue.put(requests, self._marks)
        self.discard()
        if dropped:
            self.counts["dropped"] += dropped
            log.warning("remote_write: queue over max_queue_bytes; dropped the oldest %d "
                        "samples (is the receiver down?)", dropped)

    # -------------------------------------------------------------------- send
    def deliver(self, budget: float = 5.0) -> None:
        """Send queued requests, oldest first, for at most ``budget`` seconds (never raises)."""
        if self.queue is None or self.monotonic() < self._retry_at:
            return
        started = time.monotonic()
        while time.monotonic() - started < budget:
            item = self.queue.oldest()
            if self.queue.damaged:
                self.counts["dropped"] += self.queue.damaged
                self.queue.damaged = 0
            if item is None:
                return
            request_id, samples, body = item
            try:
                self._post(body)
            except _Rejected as error:
                self.counts["rejected"] += samples
                self.last_error = str(error)
                log.warning("remote_write: the receiver rejected %d samples (%s); dropped",
                            samples, error)
            except OSError as error:
                self._failed(error)
                return
            else:
                self.counts["sent"] += samples
                if self._failed_in_row:
                    log.info("remote_write: the receiver accepts samples again")
                self._failed_in_row = 0
            self.queue.remove(request_id)

    def _failed(self, error: BaseException) -> None:
        config = self.config
        assert config is not None
        self.failures += 1
        self._failed_in_row += 1
        delay = min(config.max_backoff,
                    config.min_backoff * 2.0 ** min(self._failed_in_row - 1, 30))
        self._retry_at = self.monotonic() + delay
        if self._failed_in_row == 1 or str(error) != self.last_error:
            log.warning("remote_write to %s failed (%s); %d samples queued, retrying in %.0f s",
                        config.url, error, self.queue.samples if self.queue else 0, delay)
        self.last_error = str(error)

    def _post(self, body: bytes) -> None:
        config = self.config
        assert config is not None and self._opener is not None
        headers = dict(HEADERS)
        if config.http is not None:
            headers.update(config.http.request_headers())
        request = urllib.request.Request(config.url, data=body, method="POST", headers=headers)
        try:
            with self._opener.open(request, timeout=config.timeout) as response:
                with contextlib.suppress(AnswerTooLarge):   # its body within the timeout
                    read_within(response, 1 << 16, time.monotonic() + config.timeout)
        except urllib.error.HTTPError as error:
            text = error.read(300).decode("utf-8", "replace").strip()
            message = (f"HTTP {error.code}: {text}"
                       f"{describe_http_error(error.code, config.http, 'remote_write')}")
            if 400 <= error.code < 500 and error.code not in (408, 429):
                raise _Rejected(message) from None
            raise OSError(message) from None
        except urllib.error.URLError as error:
            raise OSError(describe_url_error(error.reason, "remote_write")) from None
        except (TimeoutError, ConnectionError) as error:
            raise OSError(str(error) or type(error).__name__) from None
        except http.client.HTTPException as error:   # cut short, or not HTTP: retried
            raise OSError(f"broken HTTP answer: {type(error).__name__} {error}") from None

    def check(self) -> str:
        """Send an empty ``WriteRequest`` (answered like any other): "ok" or why not."""
        if not self.enabled:
            return "not configured"
        try:
            self._post(encode_prepared([]))
        except OSError as error:
            return str(error)
        return "ok"

    # ------------------------------------------------------------------ status
    def stats(self) -> dict[str, Any] | None:
        """Counters for ``/metrics`` and ``/api/status`` (None when not configured)."""
        if self.queue is None:
            return None
        return {"samples": dict(self.counts), "failures": self.failures,
                "queue_samples": self.queue.samples, "queue_requests": self.queue.requests,
                "queue_bytes": self.queue.bytes, "last_error": self.last_error}

    def close(self) -> None:
        if self.queue is not None:
            self.queue.close()


class _Rejected(OSError):
    """The receiver refused a request (HTTP 4xx): sending it again cannot help."""


def _shared(labels: Sequence[dict[str, str]]) -> dict[str, str]:
    """The labels all label sets share (a multivariate model's series)."""
    first = labels[0]
    return {k: v for k, v in first.items() if all(s.get(k) == v for s in labels[1:])}


def remote_write_families(stats: dict[str, Any] | None) -> Iterator[Any]:
    """prometheus-client metric families of :meth:`RemoteWriter.stats` (none when off)."""
    if not stats:
        return
    from prometheus_client.core import Metric

    samples = Metric("kizashi_watch_remote_write_samples",
                     "Samples handed to the remote_write receiver, by outcome", "counter")
    for result, n in stats["samples"].items():
        samples.add_sample("kizashi_watch_remote_write_samples_total", {"result": result}, n)
    failures = Metric("kizashi_watch_remote_write_failures",
                      "Failed attempts to reach the remote_write receiver", "counter")
    failures.add_sample("kizashi_watch_remote_write_failures_total", {}, stats["failures"])
    queued = Metric("kizashi_watch_remote_write_queue_samples",
                    "Samples waiting in the remote_write queue", "gauge")
    queued.add_sample("kizashi_watch_remote_write_queue_samples", {}, stats["queue_samples"])
    size = Metric("kizashi_watch_remote_write_queue_bytes",
                  "Bytes of the remote_write queue", "gauge")
    size.add_sample("kizashi_watch_remote_write_queue_bytes", {}, stats["queue_bytes"])
    yield from (samples, failures, queued, size)
