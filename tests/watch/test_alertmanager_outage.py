"""Alert sinks down while incidents come and go: what reaches them afterwards, in order.

Two incidents on one series while Alertmanager (and kizashi's webhook
receiver) are down: the first wholly inside the outage, the second starting
inside it and still firing after. Once the sinks are back, the first must
still page (firing, then resolved), the second must stay firing — a late
"resolved" of the first must not end it — and every message must say what
happened at its event. First with fake sinks and a fake clock (fast), then
with a real Alertmanager and the daemon as a process (``integration``).
"""

from __future__ import annotations

import json
import math
import time
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from watch_configs import sigma_config
from watch_servers import (
    FakeHttp,
    FunctionSource,
    http_get,
    kizashi_watch,
    need,
    prometheus_handler,
    start_alertmanager,
    wait_for,
    write_config,
)

from kizashi.watch.alerts import routes_wait
from kizashi.watch.config import parse_config
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

T0 = 1_700_000_000.0


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


#: What a fake Alertmanager says of its routes: notify within 10 s of an alert's arrival.
ROUTES = {"config": {"original": "route:\n  receiver: r\n  group_wait: 2s\n"
                                 "  group_interval: 10s\nreceivers:\n- name: r\n"}}


class Sink(FakeHttp):
    """A receiver that answers 503 while ``down``; ``accepted`` keeps what it took, in order,
    with the time of ``clock``. As an Alertmanager, it has the routes of ``ROUTES``."""

    def __init__(self, clock: Any = time.time) -> None:
        self.down = False
        self.accepted: list[tuple[float, str, Any]] = []

        def handle(method: str, path: str, query: dict[str, str],
                   body: bytes) -> tuple[int, bytes]:
            if self.down:
                return 503, b'{"error":"unavailable"}'
            if method == "POST":
                self.accepted.append((clock(), path, json.loads(body)))
            if path == "/api/v2/status":
                return 200, json.dumps(ROUTES).encode()
            return 200, b"{}"

        super().__init__(handle)

    def bodies(self, path: str) -> list[Any]:
        return [body for _, p, body in list(self.accepted) if p == path]

    def times(self, path: str) -> list[float]:
        return [t for t, p, _ in list(self.accepted) if p == path]


# ------------------------------------------------------------ fake sinks, fake clock
def alert_config(am: str, hook: str) -> str:
    return sigma_config(relearn_after="1h", alerts={
        "alertmanager": f'{{url: "{am}", resend_interval: 10s}}',
        "webhook": f'{{url: "{hook}/hook"}}'})


def two_incidents(first: tuple[float, float], second: float):
    """Noise on 'a' and 'b'; 'b' jumps by 50 during ``first`` and from ``second`` on."""
    def value(name: str, t: float) -> float:
        k = round(t * 2)
        noise = ((k * 7919 + sum(map(ord, name)) * 104729) % 1000) / 1000.0
        shifted = name == "b" and (first[0] <= t < first[1] or t >= second)
        return 10.0 + noise + (50.0 if shifted else 0.0)
    return value


def test_outage_delivers_in_order_pages_the_late_incident_and_keeps_the_newer_firing():
    clock = [T0]
    am, hook = Sink(lambda: clock[0]), Sink(lambda: clock[0])
    try:
        store = WatchStore(":memory:")
        watcher = Watcher(parse_config(alert_config(am.url, hook.url)), store,
                          clock=lambda: clock[0], sources={"prometheus": FunctionSource(
                              two_incidents((T0 + 40, T0 + 44), T0 + 50), ["a", "b"])})
        while clock[0] < T0 + 100:
            clock[0] += 1.0
            am.down = hook.down = T0 + 35 <= clock[0] < T0 + 60
            watcher.tick()
        first, second = sorted(store.alerts(), key=lambda a: a["id"])
        assert (first["status"], second["status"]) == ("resolved", "firing")
        assert first["ends_at"] < T0 + 50 <= second["starts_at"]
        assert store.n_pending() == 0
        # the webhook: every message once, in order, each rendered at its event
        messages = hook.bodies("/hook")
        assert [(m["id"], m["status"]) for m in messages] == [
            (first["id"], "firing"), (first["id"], "resolved"), (second["id"], "firing")]
        fired = store.points(2)["sigma"]
        at_firing = fired["score"][fired["t"] == first["starts_at"] + 1.0][0]
        assert messages[0]["ends_at"] is None and messages[0]["score"] == at_firing
        assert messages[1]["ends_at"] is not None and messages[2]["ends_at"] is None
        # Alertmanager: one alert per incident (incident_id); the first as firing, held
        # firing for the longest wait of its routes (+1 s), then resolved at its true end;
        # the second never ends
        sent = [(a["labels"]["incident_id"], _epoch(a["startsAt"]), _epoch(a["endsAt"]), at)
                for at, post in zip(am.times("/api/v2/alerts"), am.bodies("/api/v2/alerts"),
                                    strict=True) for a in post]
        one = [s for s in sent if s[0] == str(first["id"])]
        two = [s for s in sent if s[0] == str(second["id"])]
        assert {s[1] for s in one} == {first["starts_at"]}
        assert {s[1] for s in two} == {second["starts_at"]}
        assert one[0][2] > T0 + 60 and one[-1][2] == first["ends_at"]
        assert [s[2] for s in one].count(first["ends_at"]) == 1
        assert one[-1][3] >= one[0][3] + 11.0            # held firing: 10 s group_interval
        assert all(s[2] > T0 + 60 for s in two)             # nothing ever ended the second
    finally:
        am.close()
        hook.close()


def test_a_resolved_message_waits_for_its_firing():
    """Even when the firing message is backing off, its resolve is not sent first."""
    from kizashi.watch.alerts import Notifier
    from kizashi.watch.config import AlertsConfig

    hook = Sink()
    try:
        store, clock = WatchStore(":memory:"), [1000.0]
        notifier = Notifier(AlertsConfig(webhook_url=f"{hook.url}/hook"), "",
                            clock=lambda: clock[0])
        with store.transaction():
            alert_id = store.open_alert(1, "m", "sigma", {"instance": "b"}, 990.0, 7.0, 60, 5)
            store.enqueue(alert_id, "webhook", "firing", 1000.0)
        hook.down = True
        notifier.deliver(store)                          # fails: the webhook backs off 1 s
        with store.transaction():
            store.touch_alert(alert_id, 9.0, 70.0)
            store.resolve_alert(alert_id, 1000.5)
            store.enqueue(alert_id, "webhook", "resolved", 1000.5)
        hook.down = False
        notifier.deliver(store)                          # still backing off: nothing
        assert hook.accepted == []
        clock[0] += 1.0
        notifier.deliver(store)
        sent = hook.bodies("/hook")
        assert [(m["status"], m["score"], m["peak_score"]) for m in sent] == [
            ("firing", 7.0, 7.0), ("resolved", 9.0, 9.0)]
    finally:
        hook.close()


# --------------------------------------------------------- a real Alertmanager
STEP = 0.5
DAEMON = """
interval: 500ms
initial_backfill: 6s
storage: {state}
listen: "off"
sources:
  prometheus: {{type: prometheus, url: "{prom}", timeout: 1s, retries: 0}}
watches:
  - name: m
    query: up
    detectors:
      - {{name: sigma, detector: threshold, params: {{window: 40, k: 3.5, min_periods: 10}},
          min_duration: 1s, resolve_after: 1s, relearn_after: 1h}}
alerts:
  alertmanager: {{url: "{am}", resend_interval: 2s}}
  webhook: {{url: "{hook}/hook"}}
  timeout: 1s
"""


@pytest.mark.integration
@pytest.mark.slow
def test_real_alertmanager_outage_around_two_incidents(tmp_path):
    need("prometheus-alertmanager")
    start = math.ceil(time.time()) + 1.0
    value = two_incidents((start + 8.0, start + 10.0), start + 13.0)
    prom = FakeHttp(prometheus_handler(lambda n, t: value(n, t), ["a", "b"]))
    receiver, hook = Sink(), Sink()
    procs: list[Any] = []
    state = tmp_path / "state.sqlite"
    try:
        am, am_port = start_alertmanager(tmp_path, f"{receiver.url}/am")
        procs.append(am)
        am_url = f"http://127.0.0.1:{am_port}"
        config = write_config(tmp_path / "watch.yaml", DAEMON.format(
            state=state, prom=prom.url, am=am_url, hook=hook.url))
        time.sleep(max(0.0, start - time.time()))
        daemon = kizashi_watch([str(config)], tmp_path / "daemon.log")
        procs.append(daemon)
        time.sleep(max(0.0, start + 6.0 - time.time()))
        am.stop()                                    # the outage: both sinks gone
        hook.down = True
        time.sleep(max(0.0, start + 17.0 - time.time()))
        assert daemon.alive(), daemon.output()
        am, _ = start_alertmanager(tmp_path, f"{receiver.url}/am", port=am_port)
        procs.append(am)
        hook.down = False

        def received() -> list[tuple[str, str, float, float]]:
            return [(a["labels"]["incident_id"], a["status"], _epoch(a["startsAt"]),
                     _epoch(a["endsAt"])) for body in receiver.bodies("/am")
                    for a in body["alerts"]]

        wait_for(lambda: any(r[1] == "resolved" for r in received()), 25,
                 "Alertmanager to notify the first incident's end")
        wait_for(lambda: len(hook.bodies("/hook")) >= 3, 10, "the webhook messages")
        active = json.loads(http_get(f"{am_url}/api/v2/alerts"))
        assert routes_wait(f"{am_url}/api/v2/status", 1.0) == 2.0   # group_wait/interval 1 s
        time.sleep(1.0)                              # anything else in flight arrives
        assert daemon.stop() == 0, daemon.output()
    finally:
        for proc in reversed(procs):
            proc.stop()
        prom.close()
    output = (tmp_path / "daemon.log").read_text()
    assert "Traceback" not in output, output
    store = WatchStore(str(state))
    first, second = sorted(store.alerts(), key=lambda a: a["id"])
    assert first["status"] == "resolved" and second["status"] == "firing", output
    assert first["ends_at"] < start + 17.0 and start + 6.0 < first["starts_at"]
    assert start + 6.0 < second["starts_at"] < start + 17.0
    one, two = str(first["id"]), str(second["id"])
    # Alertmanager's receiver: the first incident paged (firing) and then resolved at its
    # true end; the second fired and was never resolved
    notes = received()
    firing_one = [i for i, r in enumerate(notes) if r[:2] == (one, "firing")]
    resolved_one = [i for i, r in enumerate(notes) if r[:2] == (one, "resolved")]
    assert firing_one and resolved_one and firing_one[0] < resolved_one[0], notes
    assert {r[2] for r in notes if r[0] == one} == {first["starts_at"]}
    assert notes[resolved_one[0]][3] == first["ends_at"]
    assert [r[1] for r in notes if r[0] == two] and all(
        r[1] == "firing" and r[2] == second["starts_at"] for r in notes if r[0] == two), notes
    # Alertmanager's own list: the second incident, active; the first is over
    ours = [a for a in active if a["labels"].get("alertname") == "KizashiAnomaly"]
    assert [(a["labels"]["incident_id"], a["status"]["state"]) for a in ours] == [
        (two, "active")], ours
    assert _epoch(ours[0]["startsAt"]) == second["starts_at"]
    # kizashi's webhook: each message once, in order, rendered at its event
    messages = hook.bodies("/hook")
    assert [(m["id"], m["status"]) for m in messages] == [
        (first["id"], "firing"), (first["id"], "resolved"), (second["id"], "firing")]
    assert messages[0]["ends_at"] is None and messages[2]["ends_at"] is None
    assert np.isclose(_epoch(messages[1]["ends_at"]), first["ends_at"])


def test_the_hold_follows_alertmanager_routes():
    """A late incident stays firing as long as Alertmanager's slowest route waits (+1 s);
    Alertmanager's defaults (30 s, 5 min) where its routes do not say or cannot be read."""
    original = ("route:\n  receiver: r\n  group_wait: 10s\n  routes:\n  - receiver: r\n"
                "    group_interval: 1h30m\n  - receiver: r\n    group_wait: 2m\n"
                "receivers:\n- name: r\n")
    bodies = {"/set": {"config": {"original": original}},
              "/defaults": {"config": {"original": "route:\n  receiver: r\n"}},
              "/garbage": {"config": {}}}
    server = FakeHttp(lambda method, path, query, body: (200, json.dumps(
        bodies[path.removesuffix("/api/v2/status")]).encode()))
    try:
        assert routes_wait(f"{server.url}/set/api/v2/status", 1.0) == 5401.0
        assert routes_wait(f"{server.url}/defaults/api/v2/status", 1.0) == 301.0
        assert routes_wait(f"{server.url}/garbage/api/v2/status", 1.0) == 301.0
    finally:
        server.close()
