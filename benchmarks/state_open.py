"""What opening the daemon's state file and reading it back costs, and a tick's write.

A state file of ``--series`` series (two labels each) and one detector state of 40
float64 per series is written once; then, best of ``--repeats`` runs, in CPU seconds:

* ``open + read``: a read-write open (the checks of docs/watch.md "Bytes changed on
  disk": whole pages, ``quick_check``, ``integrity_check`` of the keyed tables, the
  CRC-32 of every state tree and progress row), ``all_series``, ``load_state`` (each
  chunk's CRC-32) and ``series_ids``;
* ``5 ticks``: five incremental state writes of one changed row each.

Compare the same script on two checkouts (``PYTHONPATH=OTHER/src``) on one machine.

Run: ``python benchmarks/state_open.py [--series 50000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from kizashi.watch.store import WatchStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp()) / "state.sqlite"
    labels = [{"instance": f"node{i}", "job": "x"} for i in range(args.series)]
    store = WatchStore(str(path))
    with store.transaction():
        ids = store.series_ids("cpu", labels, now=60.0)
        store.set_progress("cpu", 60.0)
        store.save_state("cpu", "t", ids, {"a": np.random.default_rng(0).normal(
            size=(args.series, 40))})
    store.close()
    best = {"open + read": float("inf"), "5 ticks": float("inf")}
    for _ in range(args.repeats):
        start = time.process_time()
        store = WatchStore(str(path))
        store.all_series()
        _, previous = store.load_state("cpu", "t")
        store.series_ids("cpu", labels, now=61.0)
        best["open + read"] = min(best["open + read"], time.process_time() - start)
        start = time.process_time()
        for k in range(5):
            state = {"a": previous["a"].copy()}
            state["a"][k] += 1.0
            with store.transaction():
                store.save_state("cpu", "t", ids, state,
                                 previous={"series": ids, "state": previous})
            previous = state
        best["5 ticks"] = min(best["5 ticks"], time.process_time() - start)
        store.close()
    size = path.stat().st_size / 1e6
    print("| series | file (MB) | open + read (CPU s) | 5 ticks (CPU s) |")
    print("| ---: | ---: | ---: | ---: |")
    print(f"| {args.series} | {size:.1f} | {best['open + read']:.3f} | {best['5 ticks']:.3f} |")


if __name__ == "__main__":
    main()
