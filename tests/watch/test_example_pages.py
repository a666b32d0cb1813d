"""The shipped example, unchanged, pages on a node whose CPU is saturated for 10 minutes.

Real node_exporter → Prometheus → ``kizashi watch examples/watch-node-exporter.yaml``
→ Alertmanager → a webhook receiver. The example learns from the last 2 h
(``initial_backfill``); so that the test need not wait 2 h, Prometheus starts
with 2 h 10 min of this node's CPU counters written into its TSDB beforehand
(``promtool tsdb create-blocks-from openmetrics``), continuing exactly into
the live counters and as busy as the node was when the test started, with some
wobble. Then both CPUs are saturated with stress-ng; the page must reach
Alertmanager's receiver while the load lasts.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from watch_servers import (
    FakeHttp,
    free_port,
    http_get,
    kizashi_watch,
    need,
    start_alertmanager,
    start_node_exporter,
    start_prometheus,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "watch-node-exporter.yaml"
HISTORY = 2 * 3600 + 600  # seconds of CPU counters written before Prometheus starts
STEP = 15  # seconds between written samples
LOAD = 600  # the saturation lasts 10 minutes
PAGE_WITHIN = LOAD - 10  # while the load lasts (5 min above the cutoff, and rate[5m] ramps)


def cpu_counters(port: int) -> dict[tuple[str, str], float]:
    text = http_get(f"http://127.0.0.1:{port}/metrics", timeout=5).decode()
    found = re.findall(r'^node_cpu_seconds_total\{cpu="(\d+)",mode="(\w+)"\} (\S+)$', text, re.M)
    return {(cpu, mode): float(value) for cpu, mode, value in found}


def write_history(path: Path, before: dict, after: dict, seconds: float, instance: str,
                  now: float) -> None:
    """OpenMetrics text of CPU counters ending at ``after`` (read at ``now``), as busy as
    the node was between the two reads, with a wobble of the busy fraction."""
    rng = np.random.default_rng(0)
    cpus = sorted({cpu for cpu, _ in after})
    modes = sorted({mode for _, mode in after})
    times = now - STEP * np.arange(HISTORY // STEP + 1)[::-1]
    lines = ["# TYPE node_cpu_seconds_total gauge"]
    for cpu in cpus:
        rates = {m: max(after[(cpu, m)] - before[(cpu, m)], 0.0) / seconds for m in modes}
        busy = 1.0 - min(rates.get("idle", 1.0), 1.0)
        wobble = np.clip(busy + rng.normal(0, max(0.01, 0.3 * busy), times.size), 0.0, 1.0)
        others = {m: r for m, r in rates.items() if m != "idle"}
        total_other = sum(others.values()) or 1.0
        for mode in modes:
            if mode == "idle":
                share = 1.0 - wobble
            else:
                share = wobble * (others[mode] / total_other if sum(others.values()) else
                                  (1.0 if mode == "user" else 0.0))
            steps = np.r_[0.0, STEP * share[1:]]
            # counters that end exactly at the live value
            values = after[(cpu, mode)] - (steps.sum() - np.cumsum(steps))
            for t, v in zip(times, values, strict=True):
                lines.append(f'node_cpu_seconds_total{{cpu="{cpu}",instance="{instance}",'
                             f'job="node",mode="{mode}"}} {v:.6f} {t:.3f}')
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")


def test_the_shipped_example_pages_on_a_saturated_node(tmp_path):
    need("prometheus", "promtool", "prometheus-node-exporter", "prometheus-alertmanager",
         "stress-ng")
    receiver = FakeHttp(lambda method, path, query, body: (200, b"{}"))
    procs = []
    try:
        node, node_port = start_node_exporter(tmp_path)
        procs.append(node)
        before, first = cpu_counters(node_port), time.time()
        time.sleep(20)
        after, now = cpu_counters(node_port), time.time()
        idle = sum(after[k] - before[k] for k in after if k[1] == "idle")
        busy = 1.0 - idle / ((now - first) * len({cpu for cpu, _ in after}))
        if busy > 0.5:
            pytest.skip(f"other work keeps this machine {busy:.0%} busy: saturating it "
                        "would not be an anomaly")
        history = tmp_path / "history.om"
        write_history(history, before, after, now - first, f"127.0.0.1:{node_port}", now)
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q",
                        str(history), str(tmp_path / "tsdb")], check=True, timeout=120)
        prom, prom_port = start_prometheus(tmp_path, [f"127.0.0.1:{node_port}"],
                                           scrape_interval="15s")
        procs.append(prom)
        am, am_port = start_alertmanager(tmp_path, f"{receiver.url}/am")
        procs.append(am)
        web_port = free_port()
        daemon = kizashi_watch([str(EXAMPLE), "--prometheus", f"http://127.0.0.1:{prom_port}",
                                "--alertmanager", f"http://127.0.0.1:{am_port}",
                                "--state", str(tmp_path / "state.sqlite"),
                                "--listen", f"127.0.0.1:{web_port}"], tmp_path / "daemon.log")
        procs.append(daemon)
        metrics = f"http://127.0.0.1:{web_port}/metrics"
        # the first tick learns the 2 h of history: the series is scored, not learning
        wait_for(lambda: re.search(
            rb'kizashi_watch_learning_remaining_steps\{[^}]*watch="cpu_utilisation"[^}]*\} 0\.0',
            http_get(metrics)), 120, "the CPU series, learned from the history")

        def pages() -> list[dict]:
            return [a for post in receiver.posts("/am") for a in post["alerts"]
                    if a["status"] == "firing" and a["labels"].get("detector") == "cpu_sigma"]

        before_load = len(pages())
        started = time.time()
        stress = subprocess.Popen(["stress-ng", "--cpu", "0", "--timeout", f"{LOAD}s",
                                   "--quiet"])
        try:
            wait_for(lambda: len(pages()) > before_load, PAGE_WITHIN, "the page")
            paged = time.time() - started
        finally:
            stress.terminate()
            stress.wait(10)
        print(f"\npaged {paged:.0f} s after the load started")
        page = pages()[-1]
        assert page["labels"]["instance"] == f"127.0.0.1:{node_port}"
        assert page["labels"]["watch"] == "cpu_utilisation"
        assert float(page["annotations"]["value"]) > 0.5  # the node was busy when it paged
        assert daemon.alive()
    finally:
        for proc in reversed(procs):
            proc.stop()
        receiver.close()
