"""Alert delivery: payload shapes, retries while a sink is down, firing alerts re-sent."""

from __future__ import annotations

import pytest
from watch_servers import FakeHttp

from kizashi.watch.alerts import Notifier, alertmanager_alert, iso, webhook_payload
from kizashi.watch.config import AlertsConfig
from kizashi.watch.store import WatchStore


@pytest.fixture
def sink():
    state = {"status": 500}
    server = FakeHttp(lambda method, path, query, body: (state["status"], b"{}"))
    server.state = state
    yield server
    server.close()


def firing_alert(store: WatchStore) -> int:
    with store.transaction():
        alert_id = store.open_alert(1, "cpu", "sigma", {"instance": "a:9100", "__name__": "x"},
                                    100.0, 7.5, 0.97, 4.0)
        for sink in ("alertmanager", "webhook"):
            store.enqueue(alert_id, sink, "firing", 100.0)
    return alert_id


def test_payloads_carry_labels_annotations_and_dedup_key():
    store = WatchStore(":memory:")
    alert = store.alert(firing_alert(store))
    body = alertmanager_alert(alert, "http://dash", {"severity": "page"}, now=100.0, resend=60)
    assert body["labels"] == {"instance": "a:9100", "severity": "page",
                              "alertname": "KizashiAnomaly", "watch": "cpu", "detector": "sigma"}
    assert body["annotations"]["score"] == "7.5" and body["annotations"]["value"] == "0.97"
    assert body["startsAt"] == iso(100.0) and body["endsAt"] == iso(340.0)
    hook = webhook_payload(alert, "firing", "http://dash", {})
    assert hook["dedup_key"] == f"kizashi-{alert['id']}-firing"
    assert hook["dashboard"] == "http://dash/series/1"


def test_a_sink_that_is_down_is_retried_with_backoff_until_it_answers(sink):
    store = WatchStore(":memory:")
    clock = [1000.0]
    config = AlertsConfig(alertmanager_url=sink.url, webhook_url=f"{sink.url}/hook",
                          timeout=1.0, resend_interval=3600.0)
    notifier = Notifier(config, "http://dash", clock=lambda: clock[0])
    alert_id = firing_alert(store)
    notifier.deliver(store)                     # both sinks answer 500
    assert store.n_pending() == 2 and notifier.failures == {"alertmanager": 1, "webhook": 1}
    n_requests = len(sink.requests)
    notifier.deliver(store)                     # backoff: not yet retried
    assert len(sink.requests) == n_requests
    sink.state["status"] = 200
    clock[0] += 2.0
    notifier.deliver(store)
    assert store.n_pending() == 0
    assert [m["status"] for m in sink.posts("/hook")][-1] == "firing"
    with store.transaction():
        store.resolve_alert(alert_id, 1010.0)
        store.enqueue(alert_id, "alertmanager", "resolved", 1010.0)
    notifier.deliver(store)
    assert sink.posts("/api/v2/alerts")[-1][0]["endsAt"] == iso(1010.0)


def test_firing_alerts_are_re_sent_to_alertmanager(sink):
    sink.state["status"] = 200
    store = WatchStore(":memory:")
    clock = [1000.0]
    config = AlertsConfig(alertmanager_url=sink.url, resend_interval=60.0)
    notifier = Notifier(config, "", clock=lambda: clock[0])
    firing_alert(store)
    notifier.deliver(store)
    first = len(sink.posts("/api/v2/alerts"))
    clock[0] += 61.0
    notifier.deliver(store)
    posts = sink.posts("/api/v2/alerts")
    assert len(posts) == first + 1 and posts[-1][0]["endsAt"] == iso(1061.0 + 240.0)
