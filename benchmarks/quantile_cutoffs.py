"""How long a watch takes to refresh its quantile cutoffs (``cutoff: q0.999``) from the store.

Prints a table (it is not a test). Run from the repository root::

    PYTHONPATH=src python benchmarks/quantile_cutoffs.py
    PYTHONPATH=src python benchmarks/quantile_cutoffs.py --series 100000 --blocks 1000

A state file (in a temporary folder) gets ``--blocks`` stored ticks of
``--series`` series (the watch's point blocks: value, score, threshold per
series and tick; 1 % of the values unobserved). The script times, in one
process and in turn (median of ``--repeats``), the vectorised refresh
(:func:`kizashi.watch.quantile_cutoffs.recent_quantiles`) and, where it is
small enough (``--reference-max`` points), the per-series loop the watch used
before (``recent_scores`` + ``np.quantile`` per series), checks that both
give the same cutoffs, and prints wall and CPU seconds and the cost per series.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from kizashi.watch.quantile_cutoffs import recent_quantiles  # noqa: E402
from kizashi.watch.store import WatchStore  # noqa: E402


def filled(path: str, n_series: int, n_blocks: int, seed: int = 0) -> WatchStore:
    rng = np.random.default_rng(seed)
    store = WatchStore(path)
    layout = store.layout("nodes", list(range(1, n_series + 1)))
    with store.transaction():
        for k in range(n_blocks):
            value = rng.normal(0, 1, (1, n_series))
            value[rng.random(value.shape) < 0.01] = np.nan
            level = np.abs(rng.standard_normal((1, n_series)))
            store.add_block("nodes", "sigma", layout, np.array([60.0 * k]), value, level,
                            np.zeros_like(level))
    return store


def per_series(store: WatchStore, ids: list[int], q: float, min_scores: int) -> np.ndarray:
    """The watch's refresh before: a list per series, ``np.quantile`` per series."""
    scores = store.recent_scores(ids, "sigma", 0.0)
    out = np.full(len(ids), np.inf)
    for j, sid in enumerate(ids):
        ref = scores[sid][np.isfinite(scores[sid])]
        if ref.size >= min_scores:
            out[j] = float(np.quantile(ref, q))
    return out


def timed(function, repeats: int) -> tuple[float, float, np.ndarray]:
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    parser.add_argument("--blocks", type=int, default=200, help="stored ticks")
    parser.add_argument("--q", type=float, default=0.999)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-max", type=int, default=2_000_000,
                        help="time the per-series loop only up to this many points")
    args = parser.parse_args()
    rows = []
    for n in args.series:
        with tempfile.TemporaryDirectory() as folder:
            store = filled(str(Path(folder) / "state.sqlite"), n, args.blocks)
            ids = list(range(1, n + 1))
            wall, cpu, new = timed(lambda ids=ids, store=store: recent_quantiles(
                store, ids, "sigma", 0.0, args.q, 30), args.repeats)
            old = (np.nan, np.nan)
            if n * args.blocks <= args.reference_max:
                old_wall, old_cpu, before = timed(lambda ids=ids, store=store: per_series(
                    store, ids, args.q, 30), args.repeats)
                np.testing.assert_array_equal(new, before)
                old = (old_wall, old_cpu)
            rows.append((n, args.blocks, wall, cpu, *old))
            store.close()
            print(f"  {n:,} series × {args.blocks} ticks: {wall:.3f} s", flush=True)
    print(f"\n## Refreshing a q{args.q:g} cutoff from the stored ticks (median of "
          f"{args.repeats})\n")
    print("| series | stored ticks | vectorised s | vectorised CPU s | µs CPU per series | "
          "per-series loop s | per-series loop CPU s | speed-up (CPU) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, blocks, wall, cpu, old_wall, old_cpu in rows:
        old_cells = ("—", "—", "—") if np.isnan(old_wall) else (
            f"{old_wall:.3f}", f"{old_cpu:.3f}", f"{old_cpu / cpu:,.0f}×")
        print(f"| {n:,} | {blocks:,} | {wall:.3f} | {cpu:.3f} | {1e6 * cpu / n:.2f} | "
              f"{old_cells[0]} | {old_cells[1]} | {old_cells[2]} |")


if __name__ == "__main__":
    main()
