"""``static_threshold`` through the engine as the share of rows beyond the bounds grows.

Prints a table (it is not a test). Run from the repository root::

    PYTHONPATH=src .venv/bin/python benchmarks/static_dense.py
    PYTHONPATH=/tmp/before/src .venv/bin/python benchmarks/static_dense.py   # other sources

The fused path (:mod:`kizashi.engine.fused_static`) steps the decider only where its
state can move, so its speed depends on how many rows lie beyond the bounds. On the
data of ``benchmarks/detectors.py`` (one series of 1,000,000 points and 1,000 × 1,000),
``score_frame`` with three pairs of bounds: the benchmark's (30/75: a few spikes beyond),
45/55 (about half the rows beyond, tens of thousands of alerts) and 60/61 (nearly every
row beyond: every series alerting throughout). Points per CPU second, median of
``--repeats`` runs after an untimed warm-up, and the minor page faults of a run (fresh
memory the kernel zeroes: on a VM a large share of the CPU time of a call), beside the
same for the numpy anchor of ``benchmarks/detectors.py`` timed in turn.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from kizashi.data.frame import SeriesFrame  # noqa: E402
from kizashi.engine.batch import score_frame  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from detectors import STEP, static_bounds, synthetic  # noqa: E402

BOUNDS = [("30/75 (the detectors benchmark's)", 30.0, 75.0),
          ("45/55 (about half the rows beyond)", 45.0, 55.0),
          ("60/61 (nearly every row beyond)", 60.0, 61.0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per case (median)")
    args = parser.parse_args()
    print("| series | bounds | rows beyond | incidents | engine, points per CPU second | "
          "engine, page faults a run | anchor, points per CPU second | anchor, page faults "
          "a run |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for width, steps in ((1, 1_000_000), (1000, 1000)):
        values = synthetic(steps, width)
        t = 1.7e9 + STEP * np.arange(steps)
        frame = SeriesFrame.from_arrays(t, values)
        for label, low, high in BOUNDS:
            params = {"low": low, "high": high}
            score_frame(SeriesFrame.from_arrays(t[:2000], values[:2000]), "static_threshold",
                        params)  # JIT compilation: untimed
            result = score_frame(frame, "static_threshold", params)
            cost: dict[str, list[tuple[float, int]]] = {"engine": [], "anchor": []}
            runs = (("engine", lambda f=frame, p=params: score_frame(f, "static_threshold", p)),
                    ("anchor", lambda v=values: static_bounds(v)))
            for _ in range(args.repeats):  # the engine and the anchor in turn
                for key, run in runs:
                    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                    begin = time.process_time()
                    run()
                    cost[key].append((time.process_time() - begin,
                                      resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults))
            cells = []
            for key in ("engine", "anchor"):
                cells.append(f"{values.size / statistics.median(c[0] for c in cost[key]):,.0f}")
                cells.append(f"{statistics.median(c[1] for c in cost[key]):,.0f}")
            print(f"| {width:,} | {label} | {np.mean(result.scores > 0):.2f} | "
                  f"{len(result.incidents):,} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
