"""Test helpers for ``kizashi watch``: real Prometheus/Alertmanager/node_exporter processes
on free loopback ports, and small fake HTTP servers (a scripted Prometheus, a receiver)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

APT = "apt-get install -y prometheus prometheus-node-exporter prometheus-alertmanager stress-ng"


class Clock:
    """A settable clock for a :class:`~kizashi.watch.watcher.Watcher`: ``clock.t`` is now."""

    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def need(*binaries: str) -> None:
    """Skip the test, saying what to install, when a binary is missing."""
    missing = [b for b in binaries if shutil.which(b) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: {APT}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 2.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


@contextmanager
def serve_dashboard(app: Any) -> Iterator[str]:
    """Serve the dashboard ``app`` from a thread on a free loopback port; yields its URL
    once ``/healthz`` answers, and stops the server on the way out."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_get(f"{url}/healthz"), 15, "the dashboard")
        yield url
    finally:
        server.should_exit = True
        thread.join(10)


def wait_http(url: str, timeout: float = 20.0) -> None:
    wait_for(lambda: http_get(url) is not None, timeout, f"{url} to answer")


class Proc:
    """A started program; stopped (and its output kept) by :meth:`stop`."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None):
        self.args, self.log_path = args, log
        self.log = open(log, "ab")
        self.popen = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                      env=env, start_new_session=True)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill9(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self.log.close()
        return self.popen.returncode

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")


def start_node_exporter(tmp: Path) -> tuple[Proc, int]:
    port = free_port()
    proc = Proc(["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{port}",
                 "--collector.disable-defaults", "--collector.cpu", "--collector.loadavg",
                 "--collector.meminfo", "--collector.netdev"], tmp / "node_exporter.log")
    wait_http(f"http://127.0.0.1:{port}/metrics")
    return proc, port


def start_prometheus(tmp: Path, targets: list[str], port: int | None = None,
                     scrape_interval: str = "1s", extra: tuple[str, ...] = ()
                     ) -> tuple[Proc, int]:
    port = port or free_port()
    config = tmp / "prometheus.yml"
    config.write_text(json.dumps({
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
        "scrape_configs": [{"job_name": "node", "static_configs": [{"targets": targets}]}],
    }))
    proc = Proc(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{port}", *extra], tmp / "prometheus.log")
    wait_http(f"http://127.0.0.1:{port}/-/ready", timeout=30)
    return proc, port


def start_alertmanager(tmp: Path, receiver_url: str, port: int | None = None) -> tuple[Proc, int]:
    """Alertmanager notifying ``receiver_url`` (a restart passes the first start's ``port``)."""
    port = port or free_port()
    config = tmp / "alertmanager.yml"
    config.write_text(json.dumps({
        "route": {"receiver": "test", "group_by": ["alertname", "instance", "detector"],
                  "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "test", "webhook_configs": [
            {"url": receiver_url, "send_resolved": True}]}],
    }))
    proc = Proc(["prometheus-alertmanager", f"--config.file={config}",
                 f"--storage.path={tmp / 'am'}", f"--web.listen-address=127.0.0.1:{port}",
                 "--cluster.listen-address="], tmp / "alertmanager.log")
    wait_http(f"http://127.0.0.1:{port}/-/ready", timeout=30)
    return proc, port


def kizashi_watch(args: list[str], log: Path) -> Proc:
    """``kizashi watch ARGS`` as a separate process (python -m, so the venv is used)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return Proc([sys.executable, "-m", "kizashi.cli.main", "watch", *args], log, env=env)


class FakeHttp:
    """A threaded HTTP server on 127.0.0.1 answering with ``handler(method, path, query, body)``,
    which returns ``(status, body_bytes)``. Every request is recorded."""

    def __init__(self, handler: Callable[[str, str, dict[str, str], bytes], tuple[int, bytes]]):
        self.handler = handler
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append((self.command, parsed.path, query, body))
                status, payload = outer.handler(self.command, parsed.path, query, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def posts(self, path: str | None = None) -> list[Any]:
        return [json.loads(body) for method, p, _, body in list(self.requests)
                if method == "POST" and (path is None or p == path)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def prometheus_handler(value: Callable[[str, float], float | None], names: list[str],
                       ) -> Callable[[str, str, dict[str, str], bytes], tuple[int, bytes]]:
    """A scripted Prometheus: series ``{instance: name}`` valued ``value(name, t)``.

    ``value`` returns None where a series has no sample."""

    def handle(method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if path == "/api/v1/status/buildinfo":
            return 200, json.dumps({"status": "success", "data": {"version": "fake"}}).encode()
        if path == "/api/v1/query":
            t = float(query["time"])
            result = [{"metric": {"instance": n}, "value": [t, repr(v)]}
                      for n in names if (v := value(n, t)) is not None]
            data = {"resultType": "vector", "result": result}
        elif path == "/api/v1/query_range":
            start, end, step = (float(query[k]) for k in ("start", "end", "step"))
            steps = [start + i * step for i in range(round((end - start) / step) + 1)]
            result = []
            for n in names:
                values = [[t, repr(v)] for t in steps if (v := value(n, t)) is not None]
                if values:
                    result.append({"metric": {"instance": n}, "values": values})
            data = {"resultType": "matrix", "result": result}
        else:
            return 404, b'{"status":"error","error":"not found"}'
        return 200, json.dumps({"status": "success", "data": data}).encode()

    return handle


class FunctionSource:
    """An in-process Prometheus-like source: series ``{instance: name}`` valued ``value(name, t)``.

    Set ``down`` to make every query fail like an unreachable server.
    """

    follows_clock = True

    def __init__(self, value: Callable[[str, float], float], names: list[str]):
        self.value, self.names, self.down = value, list(names), False

    def _samples(self, timestamps: np.ndarray) -> Any:
        from kizashi.watch.sources import Samples, SourceError

        if self.down:
            raise SourceError("source 'prometheus': unreachable: connection refused")
        values = np.array([[self.value(n, t) for n in self.names] for t in timestamps])
        return Samples(timestamps, [{"instance": n} for n in self.names],
                       values.reshape(timestamps.size, len(self.names)))

    def instant(self, query: str, t: float) -> Any:
        return self._samples(np.array([t]))

    def range(self, query: str, start: float, end: float, step: float) -> Any:
        return self._samples(start + step * np.arange(round((end - start) / step) + 1))

    def check(self) -> str:
        return "function"


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def populated(tmp_path: Path, n_steps: int = 300) -> tuple[str, Any]:
    """A store with 3 series of the last ``n_steps`` seconds; 'web-2' has an incident."""
    now = float(int(time.time()))
    rng = np.random.default_rng(1)
    lines = ["timestamp,web-1,web-2,db-1"]
    for i in range(n_steps):
        t = now - n_steps + 1 + i
        values = 40 + 5 * np.sin(i / 20) + rng.normal(0, 1, 3)
        if n_steps - 80 <= i < n_steps - 60:
            values[1] += 100
        lines.append(f"{t:.0f}," + ",".join(f"{v:.3f}" for v in values))
    csv = tmp_path / "metrics.csv"
    csv.write_text("\n".join(lines) + "\n")
    from kizashi.watch.config import parse_config
    from kizashi.watch.store import WatchStore
    from kizashi.watch.watcher import Watcher

    config = parse_config(f"""
interval: 1s
listen: off
sources: {{lab: {{type: csv, path: "{csv}"}}}}
watches:
  - name: cpu
    detectors:
      - {{name: sigma, detector: threshold, params: {{window: 120, k: 5, min_periods: 20}},
          min_duration: 3s, resolve_after: 3s}}
""")
    path = str(tmp_path / "state.sqlite")
    watcher = Watcher(config, WatchStore(path), clock=lambda: now)
    watcher.tick()
    return path, watcher


def disk_predict_config(storage: object, backfill: str = "86h") -> str:
    """A watch config of one disk query with predictions on (6 h ahead, limit 100) and a
    detector that never alerts, its source never asked (the tests step it themselves)."""
    return f"""
interval: 5m
listen: off
storage: "{storage}"
initial_backfill: {backfill}
max_backfill: {backfill}
sources: {{p: {{type: prometheus, url: "http://127.0.0.1:9"}}}}
watches:
  - name: disk
    query: fs_used_pct
    detectors: [{{detector: static_threshold, params: {{high: 1000}}}}]
    predict: {{horizon: 6h, limit: 100}}
"""


def disk_predict_watcher(path: str, clock: Clock, value: Callable[[str, float], float],
                         names: list[str]) -> Any:
    """A :class:`~kizashi.watch.watcher.Watcher` of :func:`disk_predict_config` at ``path``
    on ``clock``, its source answering ``value(name, t)`` for each of ``names``."""
    from kizashi.watch.config import parse_config
    from kizashi.watch.store import WatchStore
    from kizashi.watch.watcher import Watcher

    config = parse_config(disk_predict_config(path))
    return Watcher(config, WatchStore(config.storage), clock=clock,
                   sources={"p": FunctionSource(value, list(names))})


def run_until(watcher: Any, clock: Clock, until: float, step: float = 300.0) -> None:
    """Tick ``watcher`` once per ``step`` of ``clock`` until ``until``."""
    while clock.t < until - 1e-6:
        clock.t += step
        watcher.tick()
