"""A sink that takes every message, each slowly but in time, no longer holds the tick
loop for its whole backlog: a delivery starts messages for at most the tick's budget
(half an interval, 1–10 s, as remote_write's), and the rest wait, in order, for the next
ticks. Before, 30 alerts at 0.3 s each held a 1 s daemon for 9 s, and 500 alerts of a
cluster-wide incident for minutes, while no step was scored.

The sink's slowness is on a counting clock (each message it takes advances the
notifier's budget clock by its latency), so nothing here is timed. Expectations
(docs/watch.md, "Alerts", "After a sink outage"): each message is taken exactly once,
a "resolved" never before its "firing", nothing is lost; per tick at most
``ceil(budget / latency)`` messages are started; every step is scored on time.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from test_odd_answers import T0, RawServer, http, noise
from watch_configs import sigma_config
from watch_servers import Clock, FunctionSource

from kizashi.watch.config import parse_config
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher


class SlowSink:
    """A webhook receiver taking every message; each one advances ``clock`` by ``latency``."""

    def __init__(self, latency: float):
        self.latency, self.spent = latency, 0.0
        self.taken: list[dict[str, Any]] = []
        self.per_delivery: list[int] = []
        self.server = RawServer(self._answer)

    def _answer(self, method: str, path: str, query: dict[str, str], body: bytes) -> bytes:
        if method == "POST" and path == "/hook":
            self.spent += self.latency
            self.taken.append(json.loads(body))
        return http(200, b"")

    def monotonic(self) -> float:
        return self.spent


def incident(name: str, t: float) -> float:
    """Every series jumps during [T0+40, T0+50): each fires, then resolves."""
    return noise(name, t) + (50.0 if T0 + 40 <= t < T0 + 50 else 0.0)


@pytest.mark.parametrize("latency", [0.0625, 0.25, 0.875, 2.5])   # exact in binary
@pytest.mark.parametrize("n_series", [3, 30])
def test_a_slow_sinks_backlog_goes_out_over_ticks_in_order_each_once(latency, n_series):
    sink = SlowSink(latency)
    try:
        names = [f"n{k:02d}" for k in range(n_series)]
        config = sigma_config(relearn_after="1h", alerts={
            "webhook": f'{{url: "{sink.server.url}/hook"}}', "timeout": "5s"})
        clock = Clock(T0)
        store = WatchStore(":memory:")
        watcher = Watcher(parse_config(config), store, clock=clock,
                          sources={"prometheus": FunctionSource(incident, names)})
        watcher.notifier.monotonic = sink.monotonic
        budget = max(1.0, min(10.0, watcher.config.interval / 2))
        cap = math.ceil(budget / latency)
        most, ticks = 0, 0
        while clock.t < T0 + 60 or (store.n_pending() and ticks < 2000):
            before = len(sink.taken)
            clock.t += 1.0
            watcher.tick()
            ticks += 1
            most = max(most, len(sink.taken) - before)
            assert store.progress("m") == clock.t        # every step scored on time
        assert most <= cap, (most, cap)
        assert store.n_pending() == 0
        alerts = store.alerts()
        assert len(alerts) == n_series
        for alert in alerts:
            events = [m["status"] for m in sink.taken if m["id"] == alert["id"]]
            assert events == ["firing", "resolved"], (alert["id"], events)
    finally:
        sink.server.close()
