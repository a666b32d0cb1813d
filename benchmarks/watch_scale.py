"""How `kizashi watch` scales with the number of series: tick time, memory, bytes written.

A fake Prometheus (an HTTP server in this process, on 127.0.0.1) answers the
watch's instant query with N series — ``node_metric_<m>{instance, job, rack}``
for N/20 nodes × 20 metrics — whose values are deterministic noise with a rare
spike, so a few series alert. The daemon (`Watcher`) ticks against it with a
fake clock one ``interval`` (15 s) apart, the `threshold` detector at its
defaults except ``min_periods`` (so the warm-up is short), and its state file
on disk. After the warm-up ticks (every series scored), the script times
``tick()`` for some steady ticks and prints, per size:

* ``tick s``: median seconds of a steady tick (fetch + JSON + score + decide +
  store + status), on this one process (one core: numpy is held to one thread);
  ``tick CPU s``: the CPU seconds the process used in it (``time.process_time``:
  on a busy machine, closer than the wall time to what an idle core takes);
* ``peak MiB`` and ``B/series``: peak resident memory during the steady ticks
  over the resident memory before the watcher was made (the fake server's
  prepared answers excluded), in total and per series;
* ``written/tick``: bytes this process wrote per steady tick (``/proc/self/io``
  ``wchar``, which counts ``write``/``pwrite`` but not the fake server's socket
  sends): the state file, its WAL and checkpoints;
* ``first s``: the first tick (every series registered).

The dashboard's overview and ``/metrics`` are fetched once per size through
FastAPI's test client (``--web``), printing their size and time; ``--browser``
also loads the overview in headless chromium (Playwright) and prints its load
time and page size.

Run::

    PYTHONPATH=src python benchmarks/watch_scale.py --sizes 1000,10000
    PYTHONPATH=src python benchmarks/watch_scale.py --sizes 100000 --web --browser
    PYTHONPATH=src python benchmarks/watch_scale.py --sizes 1000000 --ticks 3

Each size runs in a fresh subprocess, so one size's memory does not colour the next.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core, as the goal says

import numpy as np  # noqa: E402

INTERVAL = 15.0
T0 = 1_800_000_000.0
METRICS_PER_NODE = 20


# ------------------------------------------------------------------ fake Prometheus
class FakePrometheus:
    """Answers ``/api/v1/query`` with ``n`` series; the answer for a time is prepared ahead."""

    def __init__(self, n: int, seed: int = 0):
        self.n = n
        nodes = np.arange(n) // METRICS_PER_NODE
        metrics = np.arange(n) % METRICS_PER_NODE
        self.prefix = [
            f'{{"metric":{{"__name__":"node_metric_{m}","instance":"node{e:05d}:9100",'
            f'"job":"node","rack":"r{e // 40:03d}"}},"value":['
            for e, m in zip(nodes.tolist(), metrics.tolist(), strict=True)]
        rng = np.random.default_rng(seed)
        self.level = rng.uniform(1.0, 100.0, n)
        self.scale = self.level * rng.uniform(0.01, 0.1, n)
        self.bodies: dict[str, bytes] = {}
        self.sent = 0
        self.lock = threading.Lock()

    def values(self, t: float) -> np.ndarray:
        k = round((t - T0) / INTERVAL)
        rng = np.random.default_rng(k)
        out = self.level + self.scale * rng.standard_normal(self.n)
        spikes = rng.random(self.n) < 1e-3   # about one series in a thousand per step
        out[spikes] += 20 * self.scale[spikes]
        return out

    def prepare(self, t: float) -> None:
        """Build the answer for time ``t`` now, so serving it costs only the socket write."""
        stamp = f"{t:.3f}"
        text = np.char.mod("%.6g", self.values(t))
        parts = [f'{p}{stamp},"{v}"]}}' for p, v in zip(self.prefix, text.tolist(), strict=True)]
        body = ('{"status":"success","data":{"resultType":"vector","result":['
                + ",".join(parts) + "]}}").encode()
        with self.lock:
            self.bodies = {stamp: body}

    def answer(self, query: dict[str, list[str]]) -> bytes:
        stamp = f"{float(query['time'][0]):.3f}"
        with self.lock:
            body = self.bodies.get(stamp)
        if body is None:
            self.prepare(float(stamp))
            body = self.bodies[stamp]
        return body

    def serve(self) -> tuple[ThreadingHTTPServer, int]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                from urllib.parse import parse_qs, urlsplit

                parts = urlsplit(self.path)
                if parts.path != "/api/v1/query":
                    body = b'{"status":"error","error":"only instant queries here"}'
                    self.send_response(400)
                else:
                    body = fake.answer(parse_qs(parts.query))
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                fake.sent += len(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, server.server_address[1]


# ------------------------------------------------------------------ measurements
def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")   # resets VmHWM (Linux >= 4.0)
    except OSError:
        pass


def _wchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def run_size(n: int, ticks: int, warmup: int, min_periods: int, web: bool, browser: bool,
             folder: str, cutoff: str = "default", profile: bool = False,
             trace: bool = False) -> dict[str, Any]:
    """One size, in this process: returns the row of the table."""
    import logging

    from kizashi.watch.config import parse_config
    from kizashi.watch.store import WatchStore
    from kizashi.watch.watcher import Watcher

    logging.disable(logging.WARNING)
    fake = FakePrometheus(n)
    server, port = fake.serve()
    clock = Clock(T0)
    fake.prepare(T0)
    config = parse_config(f"""
interval: {INTERVAL:g}s
listen: off
storage: {folder}/state.sqlite
series_ttl: 1h
sources: {{prometheus: {{type: prometheus, url: "http://127.0.0.1:{port}", timeout: 600s,
           retries: 0, max_bytes: {1 << 40}}}}}
watches:
  - name: nodes
    query: '{{job="node"}}'
    detectors: [{{name: sigma, detector: threshold, params: {{min_periods: {min_periods}}},
                  min_duration: 30s, resolve_after: 30s, cutoff: "{cutoff}"}}]
""")
    rss_before = _status("VmRSS")
    if trace:   # what the daemon holds per series (slows every tick down)
        import tracemalloc

        tracemalloc.start()
    store = WatchStore(config.storage)
    watcher = Watcher(config, store, clock=clock)
    times, cpus, written = [], [], []
    first = None
    for k in range(warmup + ticks):
        clock.t = T0 + k * INTERVAL
        fake.prepare(clock.t)
        if k == warmup:
            _reset_peak()
        w0 = _wchar()
        started, cpu = time.perf_counter(), time.process_time()
        if profile and k == warmup + ticks - 1:   # the last steady tick, under cProfile
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(watcher.tick)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(15)
        else:
            watcher.tick()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        if k == 0:
            first = elapsed
        if k >= warmup:
            times.append(elapsed)
            cpus.append(cpu)
            written.append(_wchar() - w0)
        print(f"  n={n:,} tick {k + 1}/{warmup + ticks}: {elapsed:.2f} s", file=sys.stderr)
    peak = _status("VmHWM") - rss_before
    if trace:
        import tracemalloc

        print(f"  n={n:,}: memory held after the last tick, bytes per series, by line:",
              file=sys.stderr)
        for stat in tracemalloc.take_snapshot().statistics("lineno")[:10]:
            frame = stat.traceback[0]
            print(f"  {stat.size / n:8.0f}  {frame.filename}:{frame.lineno}", file=sys.stderr)
        tracemalloc.stop()
    snap = watcher.snapshot()
    row: dict[str, Any] = {
        "series": n, "tick_s": statistics.median(times), "first_s": first,
        "tick_cpu_s": statistics.median(cpus),
        "peak_mib": peak / 2**20, "bytes_per_series": peak / n,
        "written_per_tick": statistics.median(written),
        "firing": _firing(snap), "file_mib": _file_size(config.storage) / 2**20,
    }
    if web or browser:
        row.update(_web(config.storage, watcher, browser))
    server.shutdown()
    return row


def _firing(snap: dict[str, Any]) -> int:
    for watch in snap.get("watches", {}).values():
        if "n_firing" in watch:
            return int(watch["n_firing"])
        return sum(any(d["firing"] for d in s["detectors"].values()) for s in watch["series"])
    return 0


def _file_size(path: str) -> int:
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))


def _web(storage: str, watcher: Any, browser: bool) -> dict[str, Any]:
    """Sizes and times of the overview and /metrics (test client), and the overview in chromium."""
    from fastapi.testclient import TestClient

    from kizashi.watch.web import create_app

    app = create_app(storage, watcher.snapshot, interval=INTERVAL)
    client = TestClient(app)
    out: dict[str, Any] = {}
    for name, path in (("overview", "/"), ("metrics", "/metrics")):
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        out[f"{name}_s"] = time.perf_counter() - started
        out[f"{name}_cpu_s"] = time.process_time() - cpu
        out[f"{name}_bytes"] = len(response.content)
    if browser:
        out.update(_browser(app))
    return out


def _browser(app: Any) -> dict[str, Any]:
    """Load the overview in headless chromium; its load time and transferred size."""
    import socket

    import uvicorn
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = chromium.new_page()
            started = time.perf_counter()
            response = page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
            loaded = time.perf_counter() - started
            size = len(response.body()) if response is not None else 0
            rows = page.locator("tr.series-row").count()
            chromium.close()
    finally:
        server.should_exit = True
        thread.join(10)
    return {"browser_s": loaded, "browser_bytes": size, "browser_rows": rows}


# ------------------------------------------------------------------ driver
def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000",
                        help="comma-separated series counts (e.g. 1000,10000,100000,1000000)")
    parser.add_argument("--ticks", type=int, default=5, help="steady ticks timed per size")
    parser.add_argument("--min-periods", type=int, default=10,
                        help="the detector's min_periods (warm-up steps)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="ticks before timing (default: min_periods + 2)")
    parser.add_argument("--web", action="store_true",
                        help="also fetch the overview and /metrics once per size")
    parser.add_argument("--browser", action="store_true",
                        help="also load the overview in headless chromium (Playwright)")
    parser.add_argument("--cutoff", default="default",
                        help="the detector's cutoff, e.g. q0.999: a quantile cutoff refreshed "
                             "from the stored ticks every minute")
    parser.add_argument("--profile", action="store_true",
                        help="print cProfile's top functions of the last steady tick (stderr); "
                             "that tick's time then includes the profiler")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="print what memory the daemon holds per series, by source line "
                             "(stderr; tracemalloc slows every tick)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)   # internal: one size
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else args.min_periods + 2
    if args.one:
        with tempfile.TemporaryDirectory(prefix="kizashi-watch-scale-") as folder:
            row = run_size(args.one, args.ticks, warmup, args.min_periods, args.web,
                           args.browser, folder, args.cutoff, args.profile, args.tracemalloc)
        print(json.dumps(row))
        return
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        command = [sys.executable, __file__, "--one", str(n), "--ticks", str(args.ticks),
                   "--min-periods", str(args.min_periods), "--warmup", str(warmup)]
        command += ["--web"] * args.web + ["--browser"] * args.browser
        command += ["--cutoff", args.cutoff]
        command += ["--profile"] * args.profile + ["--tracemalloc"] * args.tracemalloc
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0:
            print(f"size {n}: failed (exit {done.returncode})", file=sys.stderr)
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    head = ("| series | steady tick | tick CPU | first tick | peak memory | per series "
            "| written/tick | state file | firing |")
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for r in rows:
        print(f"| {r['series']:,} | {r['tick_s']:.2f} s | {r.get('tick_cpu_s', 0):.2f} s | "
              f"{r['first_s']:.2f} s | "
              f"{_fmt_bytes(r['peak_mib'] * 2**20)} | {_fmt_bytes(r['bytes_per_series'])} | "
              f"{_fmt_bytes(r['written_per_tick'])} | {_fmt_bytes(r['file_mib'] * 2**20)} | "
              f"{r['firing']} |")
    if any("overview_s" in r for r in rows):
        print()
        print("| series | overview | overview CPU | overview size | /metrics | /metrics CPU "
              "| /metrics size | browser load | browser page |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            if "overview_s" not in r:
                continue
            browser = (f"{r['browser_s']:.2f} s | {_fmt_bytes(r['browser_bytes'])}"
                       if "browser_s" in r else "– | –")
            print(f"| {r['series']:,} | {r['overview_s']:.2f} s | "
                  f"{r.get('overview_cpu_s', 0):.2f} s | {_fmt_bytes(r['overview_bytes'])} | "
                  f"{r['metrics_s']:.2f} s | {r.get('metrics_cpu_s', 0):.2f} s | "
                  f"{_fmt_bytes(r['metrics_bytes'])} | {browser} |")
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
