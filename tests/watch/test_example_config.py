"""The shipped example config, as an operator would use it: ``--check`` then one tick,
against a real Prometheus scraping a real node_exporter, and a real Alertmanager."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from watch_servers import (
    FakeHttp,
    need,
    start_alertmanager,
    start_node_exporter,
    start_prometheus,
    wait_for,
)

from kizashi.watch.config import apply_overrides, load_config
from kizashi.watch.store import WatchStore

EXAMPLE = Path(__file__).parents[2] / "examples" / "watch-node-exporter.yaml"


def test_example_config_is_valid_and_overridable():
    config = apply_overrides(load_config(EXAMPLE), prometheus="http://10.1.2.3:9090",
                             alertmanager="http://10.1.2.3:9093", state="/tmp/x.sqlite",
                             listen="127.0.0.1:9999")
    assert config.sources["prometheus"].url == "http://10.1.2.3:9090"
    assert config.alerts.alertmanager_url == "http://10.1.2.3:9093"
    assert config.storage == "/tmp/x.sqlite" and config.listen == "127.0.0.1:9999"
    cpu = config.watches[0]
    assert cpu.name == "cpu_utilisation" and cpu.detectors[0].min_steps(config.interval) == 10


@pytest.mark.integration
def test_example_config_works_as_shipped_against_real_prometheus(tmp_path):
    need("prometheus", "prometheus-node-exporter", "prometheus-alertmanager")
    receiver = FakeHttp(lambda *args: (200, b"{}"))
    procs = []
    try:
        node, node_port = start_node_exporter(tmp_path)
        procs.append(node)
        prom, prom_port = start_prometheus(tmp_path, [f"127.0.0.1:{node_port}"])
        procs.append(prom)
        am, am_port = start_alertmanager(tmp_path, receiver.url)
        procs.append(am)
        flags = ["--prometheus", f"http://127.0.0.1:{prom_port}",
                 "--alertmanager", f"http://127.0.0.1:{am_port}",
                 "--state", str(tmp_path / "state.sqlite")]

        def check() -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "kizashi.cli.main", "watch", "--check",
                                   str(EXAMPLE), *flags], capture_output=True, text=True,
                                  timeout=60)

        # rate()s need two scrapes: wait until every watch has its series
        result = wait_for(lambda: (r := check()).returncode == 0
                          and r.stdout.count(": 1 series now") == 4 and r, 30,
                          "--check to pass with one series per watch")
        assert "FAIL" not in result.stdout and "alert sink alertmanager: ok" in result.stdout
        # one tick of the daemon; the only change: 2 s steps instead of 30 s, because this
        # Prometheus is seconds old and the last 30 s step may predate its first scrape
        time.sleep(3)
        quick = tmp_path / "example.yaml"
        quick.write_text(EXAMPLE.read_text().replace("interval: 30s", "interval: 2s"))
        once = subprocess.run([sys.executable, "-m", "kizashi.cli.main", "watch", str(quick),
                               *flags, "--once"], capture_output=True, text=True, timeout=60)
        assert once.returncode == 0, once.stderr
        store = WatchStore(str(tmp_path / "state.sqlite"))
        watched = {s["watch"] for s in store.all_series()}
        assert watched == {"cpu_utilisation", "load_per_cpu", "memory_available_ratio",
                           "network_receive_bytes"}
        assert store.alerts() == []
        bad = subprocess.run([sys.executable, "-m", "kizashi.cli.main", "watch", "--check",
                              str(EXAMPLE), "--prometheus", "http://127.0.0.1:9"],
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode == 1 and "FAIL source 'prometheus'" in bad.stdout
    finally:
        for proc in reversed(procs):
            proc.stop()
        receiver.close()
