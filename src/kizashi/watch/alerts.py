"""Alert delivery: Prometheus Alertmanager's v2 API and a generic JSON webhook.

The watcher writes each alert change into the store's outbox in the same
transaction as the tick, with the alert's row as it was at that moment;
:class:`Notifier` then delivers the outbox:

* **in order per alert and sink** — a message waits until the earlier messages
  of the same alert to the same sink were sent, so "resolved" never overtakes
  "firing";
* **rendered from the event** — from the row stored with the message, not from
  what the alert has become since;
* **a sink that fails backs off as a whole** (1 s, 2 s, 4 s … up to 5 min) and
  is not tried again in the same round; a message a sink rejects (HTTP 4xx)
  backs off on its own and holds up only its own alert;
* **late incidents still page** — an incident that ended before its "firing"
  reached Alertmanager (the sink was down, or it fired and ended within one
  catch-up tick) is sent as firing, and its "resolved" is held back as long
  as Alertmanager may wait before notifying it (the longest ``group_wait`` or
  ``group_interval`` of its routes, read from ``/api/v2/status``; its
  defaults when that cannot be read). Alertmanager never notifies an alert
  it first sees resolved, nor one that fired and resolved between two
  flushes of its group;
* marking a message sent is retried (in memory) when the state file cannot be
  written, rather than sending the message again.

Firing alerts are re-sent to Alertmanager every ``resend_interval`` with
``endsAt`` four intervals ahead, as Prometheus does, so that Alertmanager
resolves them by itself if the daemon dies for good.

Alertmanager alert: labels = series labels + ``alertname``, ``watch``,
``detector``, ``incident_id`` (the alert's id; + configured extra labels);
annotations = ``score``, ``value``, ``threshold``, ``dashboard`` (a link to the
series page), ``summary``. Alertmanager identifies an alert by its label set,
so ``incident_id`` makes each incident its own alert: a late "resolved" of an
old incident cannot end a newer one on the same series.
A warning ahead (a watch's ``predict:``, :mod:`kizashi.watch.predictions`) is
an alert of kind ``warning``: ``alertname="KizashiWarning"``, ``severity="warning"``,
``detector="predict"``, with ``prediction``, ``eta``, ``probability``, ``limit`` (or
``band``, anomaly ahead) and ``horizon`` among its annotations.

Examples
--------
>>> alert = {"id": 7, "series_id": 3, "watch": "cpu", "detector": "threshold",
...          "labels": {"instance": "a:9100"}, "starts_at": 0.0, "ends_at": None,
...          "status": "firing", "score": 5.0, "value": 0.97, "threshold": 4.0}
>>> body = alertmanager_alert(alert, "http://127.0.0.1:9464", {}, now=0.0, resend=60.0)
>>> body["labels"]["alertname"], body["annotations"]["dashboard"], body["endsAt"]
('KizashiAnomaly', 'http://127.0.0.1:9464/series/3', '1970-01-01T00:04:00Z')
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kizashi.durations import parse_duration
from kizashi.watch.config import OWN_ALERT_LABELS, AlertsConfig
from kizashi.watch.http_answers import (
    TRANSPORT_ERRORS,
    AnswerTooLarge,
    RefuseRedirect,
    read_within,
)
from kizashi.watch.store import WatchStore

__all__ = ["Notifier", "SinkRejected", "alertmanager_alert", "routes_wait", "webhook_payload"]

log = logging.getLogger("kizashi.watch")

ALERTNAME = "KizashiAnomaly"
#: The alertname of a warning ahead (a watch's ``predict:``; label ``severity="warning"``).
WARNING_ALERTNAME = "KizashiWarning"
#: The Alertmanager label that tells incidents of the same series apart.
INCIDENT_LABEL = "incident_id"
#: Longest wait before a sink that failed is tried again (seconds).
MAX_BACKOFF = 300.0
#: Alertmanager's routing configuration is read again after this long (seconds).
ROUTES_EVERY = 600.0
#: Alertmanager's defaults for a root route that does not set them (seconds).
ROOT_ROUTE_WAITS = {"group_wait": 30.0, "group_interval": 300.0}


class SinkRejected(OSError):
    """The sink answered but refused this message (HTTP 4xx): retrying it elsewhere won't help."""


def iso(t: float) -> str:
    """RFC 3339 in UTC, as Alertmanager wants it."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{round((t % 1) * 1000):03d}Z" if t % 1 else "Z")


def alert_labels(alert: dict[str, Any], extra: dict[str, str],
                 valid_names: bool = False) -> dict[str, str]:
    """The labels of an alert: the series' (without ``__name__``), ``extra``, kizashi's own.

    A series label named like one kizashi sets (``alertname``, ``watch``, ``detector``,
    ``incident_id``, a configured label; ``severity`` on a warning ahead) keeps its value
    as ``exported_<name>``, as on ``/metrics`` (before, it was replaced in silence).
    ``valid_names``: the series' label names as Alertmanager takes them (letters, digits
    and ``_``: :func:`kizashi.watch.export_labels.export_labels`); it refuses a label set
    with any other name (``http.status``, an empty one) with a 400, at every retry.

    >>> alert_labels({"labels": {"watch": "w1", "job": "node"}, "watch": "cpu",
    ...               "detector": "sigma"}, {"team": "db"})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'job': 'node', 'exported_watch': 'w1', 'team': 'db', 'alertname': 'KizashiAnomaly',
     'watch': 'cpu', 'detector': 'sigma'}
    """
    from kizashi.watch.export_labels import export_labels, free_name

    warning = (alert.get("annotations") or {}).get("kind") == "warning"  # ahead (predict)
    own = {*OWN_ALERT_LABELS, *extra,
           *(("severity",) if warning else ())}
    series = {k: v for k, v in alert["labels"].items() if k != "__name__"}
    if valid_names:
        labels = export_labels(series, own)
    else:   # the names as they are (a webhook takes any), clashing ones prefixed
        labels = {k: v for k, v in series.items() if k not in own}
        for key in sorted(set(series) & own):
            labels[free_name(key, labels, own)] = series[key]
    labels.update(extra)
    labels.update({"alertname": ALERTNAME, "watch": alert["watch"],
                   "detector": alert["detector"]})
    if warning:
        labels.update(alertname=WARNING_ALERTNAME, severity="warning")
    return labels


def alertmanager_alert(alert: dict[str, Any], link_base: str, extra: dict[str, str],
                       now: float, resend: float,
                       incident_label: str | None = None) -> dict[str, Any]:
    """One alert in Alertmanager's v2 ``POST /api/v2/alerts`` form.

    Parameters
    ----------
    alert : dict
        The alert's row (as :meth:`WatchStore.alert` returns it) at the event.
    link_base : str
        Base URL of the dashboard ("" for no links).
    extra : dict
        Labels added to every alert.
    now, resend : float
        The time of sending and the resend interval: a firing alert ends at
        ``now + 4 * resend`` unless it is sent again.
    incident_label : str or None
        A label carrying the alert's id, so that each incident is its own
        Alertmanager alert (:class:`Notifier` passes ``INCIDENT_LABEL``).

    Returns
    -------
    dict
    """
    link = f"{link_base}/series/{alert['series_id']}" if link_base else ""
    ends = alert["ends_at"] if alert["status"] == "resolved" else now + 4 * resend
    labels = alert_labels(alert, extra, valid_names=True)
    if incident_label:
        labels[incident_label] = str(alert["id"])
    return {
        "labels": labels,
        "annotations": {
            "summary": f"{alert['watch']}: anomaly ({alert['detector']}) on "
                       + ", ".join(f"{k}={v}" for k, v in sorted(alert["labels"].items())),
            "score": _fmt(alert["score"]),
            "value": _fmt(alert["value"]),
            "threshold": _fmt(alert["threshold"]),
            "dashboard": link,
            **{str(k): str(v) for k, v in (alert.get("annotations") or {}).items()},
        },
        "startsAt": iso(alert["starts_at"]),
        "endsAt": iso(ends),
        "generatorURL": link,
    }


def webhook_payload(alert: dict[str, Any], event: str, link_base: str,
                    extra: dict[str, str]) -> dict[str, Any]:
    """The generic webhook body; ``id`` + ``status`` identify a message (receivers may dedupe)."""
    return {
        "id": alert["id"],
        "status": event,
        "dedup_key": f"kizashi-{alert['id']}-{event}",
        "labels": alert_labels(alert, extra),
        "score": alert["score"],
        "peak_score": alert.get("peak_score"),
        "value": alert["value"],
        "threshold": alert["threshold"],
        "starts_at": iso(alert["starts_at"]),
        "ends_at": iso(alert["ends_at"]) if alert["ends_at"] is not None else None,
        "dashboard": f"{link_base}/series/{alert['series_id']}" if link_base else None,
        "annotations": dict(alert.get("annotations") or {}),
    }


class Notifier:
    """Delivers the store's outbox to the configured sinks.

    Parameters
    ----------
    config : AlertsConfig
    link_base : str
        Base URL of the dashboard, for links in messages.
    clock : callable
        Seconds since the epoch.
    store_error : callable, optional
        Called with ``(what, error)`` when the state file cannot be written
        (marking a message sent or failed); the watcher counts it.
    """

    def __init__(self, config: AlertsConfig, link_base: str,
                 clock: Callable[[], float] = time.time,
                 store_error: Callable[[str, BaseException], None] | None = None):
        self.config = config
        self.link_base = link_base
        self.clock = clock
        self.store_error = store_error
        self.failures: dict[str, int] = {}
        self.sent: dict[str, int] = {}
        self.last_resend = 0.0
        self._said_waiting = False   # a delivery left messages for the next (said once)
        #: the clock of a delivery's budget (seconds spent, whatever ``clock`` says)
        self.monotonic: Callable[[], float] = time.monotonic
        self._retry_at: dict[str, float] = {}      # sink → when it may be tried again
        self._routes_wait: tuple[float, float] = (-math.inf, 0.0)  # (read at, the hold)
        self._failed_in_row: dict[str, int] = {}   # sink → failed rounds since its last success
        self._unmarked: dict[int, float] = {}      # outbox id → sent at, not yet marked sent

    def _targets(self) -> dict[str, tuple[str | None, Callable[..., Any], Callable[[], float]]]:
        """Sink name → (URL or None when not configured, renderer of one message, hold).

        ``hold()``: how long a late incident stays firing at the sink before its
        "resolved" is sent (see the module notes). Adding an alert sink is one
        entry here and its renderer.
        """
        am = self.config.alertmanager_url
        return {
            "alertmanager": (am and f"{am}/api/v2/alerts",
                             lambda alert, event, now: [self._am(alert, now)],
                             self._alertmanager_hold),
            "webhook": (self.config.webhook_url,
                        lambda alert, event, now: webhook_payload(alert, event, self.link_base,
                                                                  self.config.labels),
                        lambda: 0.0),
        }

    def _alertmanager_hold(self) -> float:
        """How long a late incident stays firing in Alertmanager (seconds)."""
        now = self.clock()
        read_at, wait = self._routes_wait
        if now - read_at >= ROUTES_EVERY:
            wait = routes_wait(f"{self.config.alertmanager_url}/api/v2/status",
                               self.config.timeout)
            self._routes_wait = (now, wait)
        return wait

    @property
    def sinks(self) -> list[str]:
        """The configured sinks' names."""
        return [name for name, (url, _, _) in self._targets().items() if url]

    def deliver(self, store: WatchStore, budget: float | None = None) -> None:
        """Send what is due, in order per alert and sink (never raises for a sink failure).

        ``budget``: seconds (of this machine's monotonic clock) after which no further
        message is started in this call; the rest waits, in order, for the next call. A
        sink that takes each message slowly but in time would otherwise hold the tick
        loop for as long as its backlog lasts (30 alerts at 0.3 s: 9 s).
        """
        now = self.clock()
        deadline = math.inf if budget is None else self.monotonic() + budget
        self._mark_unmarked(store)
        with store.lock:
            entries = store.unsent()
        down: set[str] = set()                      # sinks that failed in this round
        blocked: set[tuple[int, str]] = set()       # (alert, sink) queues stopped this round
        sent_at: dict[tuple[int, str], float] = {}  # sent in this round
        waiting = 0                                 # due, left for the next call (budget)
        for item in entries:
            sink, key = item["sink"], (item["alert_id"], item["sink"])
            if key in blocked:
                continue
            if item["id"] in self._unmarked:        # sent already, only its mark is missing
                sent_at[key] = self._unmarked[item["id"]]
                continue
            if (sink in down or now < self._retry_at.get(sink, -math.inf)
                    or now < item["next_try"] or self._held(item, sent_at.get(key), now)):
                blocked.add(key)
                continue
            if self.monotonic() >= deadline:
                blocked.add(key)
                waiting += 1
                continue
            if item["alert"] is None:               # its alert is gone (retention): nothing to say
                self._mark(store, item["id"], now, sink, count=False)
                continue
            try:
                self._send(sink, item["alert"], item["event"], now)
            except SinkRejected as error:
                blocked.add(key)
                self.failures[sink] = self.failures.get(sink, 0) + 1
                delay = min(MAX_BACKOFF, 2.0 ** min(item["attempts"], 8))
                log.warning("%s rejected alert %s (%s); retrying it in %.0f s", sink,
                            item["alert_id"], error, delay)
                self._mark_failed(store, item["id"], str(error), now + delay)
            except OSError as error:
                blocked.add(key)
                down.add(sink)
                retry = self._sink_failed(sink, f"alert {item['alert_id']}", error, now)
                self._mark_failed(store, item["id"], str(error), retry)
            else:
                self._failed_in_row[sink] = 0
                sent_at[key] = now
                self._mark(store, item["id"], now, sink)
        if waiting and not self._said_waiting:
            log.warning("alert delivery took its %.0f s of this tick; %d message(s) wait for "
                        "the next (the sinks answer slowly; they keep their order)",
                        budget, waiting)
        self._said_waiting = bool(waiting)
        if self.monotonic() < deadline:
            self._resend_firing(store, now, down)

    def _held(self, item: dict[str, Any], sent_now: float | None, now: float) -> bool:
        """Whether a "resolved" must wait: its incident reached the sink late, too recently."""
        previous = sent_now if sent_now is not None else item["prev_sent"]
        if item["event"] != "resolved" or previous is None or item["created"] > previous:
            return False                        # not late: it ended after its firing went out
        hold = self._targets().get(item["sink"], (None, None, lambda: 0.0))[2]
        return now < previous + hold()

    def _resend_firing(self, store: WatchStore, now: float, down: set[str]) -> None:
        """Every ``resend_interval``, the firing alerts again (Alertmanager only)."""
        sink = "alertmanager"
        if (not self.config.alertmanager_url or sink in down
                or now < self._retry_at.get(sink, -math.inf)
                or now - self.last_resend < self.config.resend_interval):
            return
        self.last_resend = now
        with store.lock:
            firing = store.alerts(status="firing")
        if not firing:
            return
        try:
            self._post(f"{self.config.alertmanager_url}/api/v2/alerts",
                       [self._am(a, now) for a in firing])
        except OSError as error:
            self._sink_failed(sink, "re-sending firing alerts", error, now)
        else:
            self._failed_in_row[sink] = 0

    def _sink_failed(self, sink: str, what: str, error: BaseException, now: float) -> float:
        """Back the sink off; returns when it may be tried again."""
        n = self._failed_in_row.get(sink, 0) + 1
        self._failed_in_row[sink] = n
        self.failures[sink] = self.failures.get(sink, 0) + 1
        delay = min(MAX_BACKOFF, 2.0 ** min(n - 1, 8))
        self._retry_at[sink] = now + delay
        log.warning("%s to %s failed (%s); retrying in %.0f s", what, sink, error, delay)
        return now + delay

    def _mark(self, store: WatchStore, outbox_id: int, now: float, sink: str,
              count: bool = True) -> None:
        if count:
            self.sent[sink] = self.sent.get(sink, 0) + 1
        try:
            store.mark_sent(outbox_id, now)
        except sqlite3.Error as error:  # sent, but not recorded: remember it, never re-send
            self._unmarked[outbox_id] = now
            self._report("marking a notification sent", error)

    def _mark_unmarked(self, store: WatchStore) -> None:
        for outbox_id, at in list(self._unmarked.items()):
            try:
                store.mark_sent(outbox_id, at)
            except sqlite3.Error as error:
                self._report("marking a notification sent", error)
                return
            del self._unmarked[outbox_id]

    def _mark_failed(self, store: WatchStore, outbox_id: int, error: str,
                     next_try: float) -> None:
        try:
            store.mark_failed(outbox_id, error, next_try)
        except sqlite3.Error as store_error:  # the backoff still holds in memory
            self._report("recording a failed notification", store_error)

    def _report(self, what: str, error: BaseException) -> None:
        if self.store_error is not None:
            self.store_error(what, error)
        else:
            log.error("%s failed: %s", what, error)

    def check(self) -> dict[str, str]:
        """Reach each sink without sending an alert: name → "ok" or the error."""
        out = {}
        if self.config.alertmanager_url:
            try:
                _request(f"{self.config.alertmanager_url}/api/v2/status", None,
                         self.config.timeout)
                out["alertmanager"] = "ok"
            except OSError as error:
                out["alertmanager"] = str(error)
        if self.config.webhook_url:
            out["webhook"] = "not contacted (a check would send a message)"
        return out

    def _am(self, alert: dict[str, Any], now: float) -> dict[str, Any]:
        return alertmanager_alert(alert, self.link_base, self.config.labels, now,
                                  self.config.resend_interval, INCIDENT_LABEL)

    def _send(self, sink: str, alert: dict[str, Any], event: str, now: float) -> None:
        url, render, _ = self._targets().get(sink, (None, None, None))
        if url and render is not None:
            # the message says what happened at the event, whatever the row says now
            at_event = {**alert, "status": event}
            if event == "firing":
                at_event["ends_at"] = None
            self._post(url, render(at_event, event, now))

    def _post(self, url: str, body: Any) -> None:
        _request(url, json.dumps(body).encode(), self.config.timeout)


def routes_wait(status_url: str, timeout: float) -> float:
    """The longest ``group_wait``/``group_interval`` of Alertmanager's routes, plus 1 s.

    Read from ``GET /api/v2/status`` (its configuration as loaded); a route
    without them inherits its parent's, the root route Alertmanager's defaults
    (30 s and 5 min), which are also the answer when the configuration cannot
    be read. A late incident is held firing this long: Alertmanager notifies a
    new alert at the latest one ``group_interval`` (``group_wait`` for a new
    group) after it arrives.
    """
    import yaml

    try:
        status = json.loads(_request(status_url, None, timeout))
        root = yaml.safe_load(status["config"]["original"])["route"]
        longest = 0.0
        routes = [(root, ROOT_ROUTE_WAITS)]
        while routes:
            route, inherited = routes.pop()
            waits = {key: parse_duration(route[key], allow_zero=True) if route.get(key)
                     else inherited[key] for key in inherited}
            longest = max(longest, *waits.values())
            routes.extend((child, waits) for child in route.get("routes") or [])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError,
            yaml.YAMLError) as error:
        longest = max(ROOT_ROUTE_WAITS.values())
        log.info("cannot read Alertmanager's routes from %s (%s); holding late incidents "
                 "for its default %.0f s", status_url, error, longest)
    return longest + 1.0


#: A redirected POST would go on as a GET without its body, its 200 taken for a delivery.
_OPENER = urllib.request.build_opener(RefuseRedirect())


def _request(url: str, data: bytes | None, timeout: float) -> bytes:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            if (url.endswith("/api/v2/alerts")   # Alertmanager answers JSON or nothing: a page
                    and response.headers.get_content_type() == "text/html"):  # is a proxy's
                raise OSError(f"{url}: answered an HTML page, not Alertmanager's API "
                              "(a proxy or login page in front of it?)")
            try:   # a trickled answer must not hold the tick: its body within the timeout
                return read_within(response, 1 << 20, time.monotonic() + timeout)
            except AnswerTooLarge:
                raise OSError(f"{url}: answer larger than 1 MiB") from None
    except urllib.error.HTTPError as error:
        try:
            text = error.read(300)
        except TRANSPORT_ERRORS:   # its body cut short or late: the code says enough
            text = b""
        where = error.headers.get("Location") if error.headers and 300 <= error.code < 400 \
            else None
        message = f"{url}: HTTP {error.code} {text!r}" + (
            f" (redirected to {where}; configure that URL)" if where else "")
        if 400 <= error.code < 500 and error.code not in (408, 429):
            raise SinkRejected(message) from None
        raise OSError(message) from None
    except urllib.error.URLError as error:
        raise OSError(f"{url}: {error.reason}") from None
    except http.client.HTTPException as error:   # cut short, or not HTTP: retried as a failure
        raise OSError(f"{url}: broken HTTP answer: {type(error).__name__} {error}") from None


def _fmt(value: Any) -> str:
    return "nan" if value is None else f"{float(value):.4g}"
