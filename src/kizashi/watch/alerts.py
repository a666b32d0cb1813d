"""Alert delivery: Prometheus Alertmanager's v2 API and a generic JSON webhook.

The watcher writes each alert change into the store's outbox in the same
transaction as the tick; :class:`Notifier` then delivers pending entries, and
retries failed ones with exponential backoff (a sink that is down never
blocks or crashes the daemon). Firing alerts are re-sent to Alertmanager every
``resend_interval`` with ``endsAt`` four intervals ahead, as Prometheus does,
so that Alertmanager resolves them by itself if the daemon dies for good.

Alertmanager alert: labels = series labels + ``alertname``, ``watch``,
``detector`` (+ configured extra labels); annotations = ``score``, ``value``,
``threshold``, ``dashboard`` (a link to the series page), ``summary``.

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

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kizashi.watch.config import AlertsConfig
from kizashi.watch.store import WatchStore

__all__ = ["Notifier", "alertmanager_alert", "webhook_payload"]

log = logging.getLogger("kizashi.watch")

ALERTNAME = "KizashiAnomaly"


def iso(t: float) -> str:
    """RFC 3339 in UTC, as Alertmanager wants it."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{round((t % 1) * 1000):03d}Z" if t % 1 else "Z")


def alert_labels(alert: dict[str, Any], extra: dict[str, str]) -> dict[str, str]:
    labels = {k: v for k, v in alert["labels"].items() if k != "__name__"}
    labels.update(extra)
    labels.update({"alertname": ALERTNAME, "watch": alert["watch"],
                   "detector": alert["detector"]})
    return labels


def alertmanager_alert(alert: dict[str, Any], link_base: str, extra: dict[str, str],
                       now: float, resend: float) -> dict[str, Any]:
    """One alert in Alertmanager's v2 ``POST /api/v2/alerts`` form."""
    link = f"{link_base}/series/{alert['series_id']}" if link_base else ""
    ends = alert["ends_at"] if alert["status"] == "resolved" else now + 4 * resend
    return {
        "labels": alert_labels(alert, extra),
        "annotations": {
            "summary": f"{alert['watch']}: anomaly ({alert['detector']}) on "
                       + ", ".join(f"{k}={v}" for k, v in sorted(alert["labels"].items())),
            "score": _fmt(alert["score"]),
            "value": _fmt(alert["value"]),
            "threshold": _fmt(alert["threshold"]),
            "dashboard": link,
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
    }


class Notifier:
    """Delivers the store's outbox to the configured sinks."""

    def __init__(self, config: AlertsConfig, link_base: str,
                 clock: Callable[[], float] = time.time):
        self.config = config
        self.link_base = link_base
        self.clock = clock
        self.failures: dict[str, int] = {}
        self.sent: dict[str, int] = {}
        self.last_resend = 0.0

    def _targets(self) -> dict[str, tuple[str | None, Callable[..., Any]]]:
        """Sink name → (URL or None when not configured, renderer of one message).

        Adding an alert sink is one entry here and its renderer.
        """
        am = self.config.alertmanager_url
        return {
            "alertmanager": (am and f"{am}/api/v2/alerts",
                             lambda alert, event, now: [self._am(alert, now)]),
            "webhook": (self.config.webhook_url,
                        lambda alert, event, now: webhook_payload(alert, event, self.link_base,
                                                                  self.config.labels)),
        }

    @property
    def sinks(self) -> list[str]:
        """The configured sinks' names."""
        return [name for name, (url, _) in self._targets().items() if url]

    def deliver(self, store: WatchStore) -> None:
        """Send what is pending (never raises for a sink failure)."""
        now = self.clock()
        with store.lock:
            pending = store.pending(now)
        for item in pending:
            with store.lock:
                alert = store.alert(item["alert_id"])
            try:
                self._send(item["sink"], alert, item["event"], now)
            except OSError as error:
                self.failures[item["sink"]] = self.failures.get(item["sink"], 0) + 1
                delay = min(300.0, 2.0 ** min(item["attempts"], 8))
                log.warning("alert %s to %s failed (%s); retrying in %.0f s", item["alert_id"],
                            item["sink"], error, delay)
                store.mark_failed(item["id"], str(error), now + delay)
            else:
                self.sent[item["sink"]] = self.sent.get(item["sink"], 0) + 1
                store.mark_sent(item["id"], now)
        if self.config.alertmanager_url and now - self.last_resend >= self.config.resend_interval:
            self.last_resend = now
            with store.lock:
                firing = store.alerts(status="firing")
            if firing:
                try:
                    self._post(f"{self.config.alertmanager_url}/api/v2/alerts",
                               [self._am(a, now) for a in firing])
                except OSError as error:
                    self.failures["alertmanager"] = self.failures.get("alertmanager", 0) + 1
                    log.warning("re-sending firing alerts to Alertmanager failed: %s", error)

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
                                  self.config.resend_interval)

    def _send(self, sink: str, alert: dict[str, Any], event: str, now: float) -> None:
        url, render = self._targets().get(sink, (None, None))
        if url and render is not None:
            self._post(url, render(alert, event, now))

    def _post(self, url: str, body: Any) -> None:
        _request(url, json.dumps(body).encode(), self.config.timeout)


def _request(url: str, data: bytes | None, timeout: float) -> bytes:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read(1 << 20)
    except urllib.error.HTTPError as error:
        raise OSError(f"{url}: HTTP {error.code} {error.read(300)!r}") from None
    except urllib.error.URLError as error:
        raise OSError(f"{url}: {error.reason}") from None


def _fmt(value: Any) -> str:
    return "nan" if value is None else f"{float(value):.4g}"
