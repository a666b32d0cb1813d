"""Prometheus stopped and started again under a running daemon (the real programs).

The daemon must stay up, show the source as down (``/metrics`` and the
dashboard), process nothing while it is down, then backfill the missed steps
with one range query and raise no alert because of the outage.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from watch_servers import (
    free_port,
    http_get,
    kizashi_watch,
    need,
    start_node_exporter,
    start_prometheus,
    wait_for,
    write_config,
)

from kizashi.watch.store import WatchStore

pytestmark = pytest.mark.integration

CONFIG = """
interval: 1s
storage: {state}
listen: 127.0.0.1:{port}
sources: {{prometheus: {{type: prometheus, url: "{prom}", timeout: 1s, retries: 1,
                          backoff: 200ms}}}}
watches:
  - name: memory
    query: avg by (instance, job) (node_memory_MemAvailable_bytes)
           / avg by (instance, job) (node_memory_MemTotal_bytes)
    detectors:
      - {{name: sigma, detector: threshold, params: {{window: 300, k: 6, min_periods: 5,
          min_std: 0.05}}, min_duration: 3s, resolve_after: 3s}}
"""


def status(port: int) -> dict:
    return json.loads(http_get(f"http://127.0.0.1:{port}/api/status"))


def test_prometheus_outage_marks_source_down_then_backfills(tmp_path):
    need("prometheus", "prometheus-node-exporter")
    procs = []
    try:
        node, node_port = start_node_exporter(tmp_path)
        procs.append(node)
        prom, prom_port = start_prometheus(tmp_path, [f"127.0.0.1:{node_port}"])
        port = free_port()
        config = write_config(tmp_path / "watch.yaml", CONFIG.format(
            state=tmp_path / "state.sqlite", port=port, prom=f"http://127.0.0.1:{prom_port}"))
        daemon = kizashi_watch([str(config)], tmp_path / "daemon.log")
        procs.append(daemon)
        wait_for(lambda: len(status(port)["watches"]["memory"]["series"]) == 1, 30, "a series")
        time.sleep(4)
        prom.stop()                                              # outage begins
        wait_for(lambda: status(port)["health"]["source_up"]["prometheus"] is False, 15,
                 "the source to be marked down")
        metrics = http_get(f"http://127.0.0.1:{port}/metrics").decode()
        assert 'kizashi_watch_source_up{source="prometheus"} 0.0' in metrics
        assert "source prometheus is down" in http_get(f"http://127.0.0.1:{port}/").decode()
        stalled = status(port)["watches"]["memory"]["last_t"]
        time.sleep(5)
        assert daemon.alive() and status(port)["watches"]["memory"]["last_t"] == stalled
        prom, _ = start_prometheus(tmp_path, [f"127.0.0.1:{node_port}"], port=prom_port)
        procs.append(prom)                                       # outage ends
        wait_for(lambda: status(port)["health"]["source_up"]["prometheus"], 20, "source up")
        wait_for(lambda: status(port)["watches"]["memory"]["lag"] < 2.5, 20, "catching up")
        health = status(port)["health"]
        assert health["backfilled_steps"] >= 5 and health["source_errors"]["prometheus"] >= 2
        assert daemon.alive()
    finally:
        for proc in reversed(procs):
            proc.stop()
    output = (tmp_path / "daemon.log").read_text()
    assert "Traceback" not in output and "is up again" in output, output
    store = WatchStore(str(tmp_path / "state.sqlite"))
    t = store.points(1)["sigma"]["t"]
    assert np.allclose(np.diff(t), 1.0), "a step was lost"      # the outage was backfilled
    assert t[-1] - t[0] >= 9
    assert store.alerts() == []                                 # and raised no alert
