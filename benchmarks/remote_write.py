"""What the remote_write sink costs a tick of ``kizashi watch``, by number of series.

Two watchers score the same series (one ``threshold`` detector, in-process
source, one step per tick): one without ``remote_write``, one writing every
step to a local receiver (a Python HTTP server that reads the body and answers
204). The table gives the median tick time of each (the anchor is the tick
without the sink, measured in the same run), their ratio, and per written
sample the bytes sent (protobuf + snappy, over every request of the run).

Run: ``python benchmarks/remote_write.py [--series 1000 10000] [--ticks 5]``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from kizashi.watch.config import parse_config
from kizashi.watch.sources import Samples
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher


class SyntheticSource:
    """``n`` series ``{__name__, instance, job}`` with smooth noisy values."""

    follows_clock = True

    def __init__(self, n: int):
        self.labels = [{"__name__": "node_load1", "instance": f"node{i}:9100", "job": "node"}
                       for i in range(n)]
        self.phase = np.random.default_rng(0).uniform(0, 6.28, n)

    def _at(self, times: np.ndarray) -> Samples:
        values = 1.0 + np.sin(times[:, None] / 60.0 + self.phase[None, :])
        return Samples(times, list(self.labels), values)

    def instant(self, query: str, t: float) -> Samples:
        return self._at(np.array([t]))

    def range(self, query: str, start: float, end: float, step: float) -> Samples:
        return self._at(start + step * np.arange(round((end - start) / step) + 1))

    def check(self) -> str:
        return "synthetic"


class Receiver:
    """A remote-write endpoint that only counts bytes."""

    def __init__(self) -> None:
        self.bytes = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.bytes += len(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/write"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def tick_times(n: int, ticks: int, remote: str | None,
               folder: Path) -> tuple[list[float], int, int]:
    block = f"remote_write: {{url: '{remote}', max_backoff: 1s}}" if remote else ""
    config = parse_config(f"""
interval: 10s
listen: off
storage: "{folder / f"{'rw' if remote else 'plain'}-{n}.sqlite"}"
initial_backfill: 100s
sources: {{p: {{type: prometheus, url: "http://127.0.0.1:9"}}}}
watches:
  - {{name: load, query: node_load1, detectors: [{{name: sigma, detector: threshold,
      params: {{window: 60, k: 1000, min_periods: 5}}}}]}}
{block}
""")
    now = [1_800_000_000.0]
    watcher = Watcher(config, WatchStore(config.storage), clock=lambda: now[0],
                      sources={"p": SyntheticSource(n)})
    durations, sent = [], 0
    for i in range(ticks + 2):
        if i == 2:                       # the first ticks create the series and warm up
            stats = watcher.snapshot()["health"]["remote_write"]
            sent = -stats["samples"]["sent"] if stats else 0
        started = time.perf_counter()
        watcher.tick()
        if i >= 2:
            durations.append(time.perf_counter() - started)
        now[0] += 10.0
    stats = watcher.snapshot()["health"]["remote_write"]
    total = stats["samples"]["sent"] if stats else 0
    return durations, sent + total, total


def main() -> None:
    logging.getLogger("kizashi.watch").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--ticks", type=int, default=5)
    args = parser.parse_args()
    receiver = Receiver()
    print("| series | tick without (s) | tick with remote_write (s) | ratio | samples/tick "
          "| bytes/sample |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.series:
            plain, _, _ = tick_times(n, args.ticks, None, Path(tmp))
            before = receiver.bytes
            writing, sent, total = tick_times(n, args.ticks, receiver.url, Path(tmp))
            a, b = statistics.median(plain), statistics.median(writing)
            print(f"| {n} | {a:.3f} | {b:.3f} | {b / a:.2f} | {sent / args.ticks:.0f} | "
                  f"{(receiver.bytes - before) / max(total, 1):.1f} |")


if __name__ == "__main__":
    main()
