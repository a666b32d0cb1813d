"""What a watch's ``predict:`` costs the daemon: seconds per tick against the number of series.

A watch at ``interval: 5m`` with ``predict: {horizon: 6h, limit: 100}`` over N series (each
filling at its own slow rate, with noise) is backfilled with 3 days, so every series' history
is full; then steady ticks (one new step each) are timed with and without the ``predict:``
block, in the same process, and the script prints the median seconds per tick of each,
their difference per series, and how long the first tick (the 3-day backfill) took with
``predict:``.

Run::

    PYTHONPATH=src python benchmarks/watch_predict.py --sizes 10,100,1000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STEP = 300.0
T0 = 1_800_000_000.0

CONFIG = """
interval: 5m
listen: off
storage: "{storage}"
initial_backfill: 3d
max_backfill: 3d
sources: {{p: {{type: prometheus, url: "http://127.0.0.1:9"}}}}
watches:
  - name: disk
    query: fs_used_pct
    detectors: [{{detector: threshold}}]
{predict}"""


class Source:
    """N series ``{instance: nK}``: 20 % + a per-series slope, with deterministic noise."""

    follows_clock = True

    def __init__(self, n: int):
        self.labels = [{"instance": f"n{k}"} for k in range(n)]
        self.slope = np.linspace(0.0, 0.5, n) / 3600.0     # up to 0.5 %/h

    def _samples(self, times: np.ndarray):
        from kizashi.watch.sources import Samples

        k = np.round(times / STEP)[:, None]
        noise = ((k * 7919 + np.arange(len(self.labels))[None, :] * 104729) % 1000) / 1000
        values = 20.0 + self.slope[None, :] * (times[:, None] - T0) + noise
        return Samples(times, list(self.labels), values)

    def instant(self, query: str, t: float):
        return self._samples(np.array([t]))

    def range(self, query: str, start: float, end: float, step: float):
        return self._samples(start + step * np.arange(round((end - start) / step) + 1))


def steady_tick(n: int, predict: bool, ticks: int, folder: Path) -> tuple[float, float]:
    """The median seconds of a steady tick, and the seconds of the first (backfill) tick."""
    from kizashi.watch.config import parse_config
    from kizashi.watch.store import WatchStore
    from kizashi.watch.watcher import Watcher

    path = folder / f"{n}-{predict}.sqlite"
    block = "    predict: {horizon: 6h, limit: 100}\n" if predict else ""
    config = parse_config(CONFIG.format(storage=path, predict=block))
    clock = [T0 + 3 * 86400.0]
    watcher = Watcher(config, WatchStore(config.storage), clock=lambda: clock[0],
                      sources={"p": Source(n)})
    started = time.perf_counter()
    watcher.tick()                          # the backfill: every history full
    backfill = time.perf_counter() - started
    seconds = []
    for _ in range(ticks):
        clock[0] += STEP
        started = time.perf_counter()
        watcher.tick()
        seconds.append(time.perf_counter() - started)
    watcher.store.close()
    return statistics.median(seconds), backfill


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="numbers of series")
    parser.add_argument("--ticks", type=int, default=5, help="steady ticks timed per size")
    args = parser.parse_args(argv)
    print("| series | tick, no predict | tick, predict | predict per series | backfill 3 d, "
          "predict |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for n in (int(s) for s in args.sizes.split(",")):
            plain, _ = steady_tick(n, False, args.ticks, Path(folder))
            with_predict, backfill = steady_tick(n, True, args.ticks, Path(folder))
            print(f"| {n:,} | {plain:.3f} s | {with_predict:.3f} s | "
                  f"{(with_predict - plain) / n * 1000:.2f} ms | {backfill:.1f} s |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
