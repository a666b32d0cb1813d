"""Change-point detectors: speed against the PyPI anchors, and Krylov SST's faithfulness.

Prints tables (it is not a test). Run from the repository root::

    .venv/bin/python benchmarks/changepoint.py                 # speed tables
    .venv/bin/python benchmarks/changepoint.py --faithfulness  # krylov vs exact on NAB
    .venv/bin/python benchmarks/changepoint.py --faithfulness --variants default full
    .venv/bin/python benchmarks/changepoint.py --ratios        # SST ratios, timed in turn
    .venv/bin/python benchmarks/changepoint.py --tick          # krylov tick, 1 and 2 threads

Speed: points per second on one core (BLAS pinned to one thread), the median
of 3 runs after one untimed warm-up run (JIT compilation excluded), on a
seeded noisy seasonal series (10k and 100k points), seeded white noise (where
the top eigenvalues cluster, the hard case for Krylov methods) and NAB's
machine_temperature, for
kizashi's SST (exact, krylov) and ChangeFinder next to ``changefinder``,
``banpei`` (SST) and ``fastsst`` (Krylov SST) with the same parameters, where
those packages are installed (``pip install changefinder``;
``pip install --no-deps banpei``; ``pip install numba scikit-learn`` then
``pip install --no-deps fastsst``). Slow methods run on a stated prefix of the
long series. Then the time of one ``update`` across 10,000 series (the watch
daemon's tick; SST on white noise and on noisy seasonal series), in wall and
CPU time.

Faithfulness: Pearson correlation of krylov and exact SST scores (same
formula, windows and preprocessing) on every NAB file, after the warm-up; then
how many Lanczos steps the default solver's convergence test takes per point.
NAB comes from :func:`kizashi.data.nab.load_nab_corpus` (``$KIZASHI_DATA``,
default ``../shared/datasets``).
"""

from __future__ import annotations

import os

# BLAS on one thread; numba's pool keeps its default size (the machine's cores): kizashi
# runs on one thread unless a detector is given ``threads`` (the tick's threaded rows)
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

import kizashi  # noqa: E402

WINDOW, RANK = 50, 5
SST_PARAMS = {"window": WINDOW, "n_columns": WINDOW, "lag": WINDOW // 2, "rank": RANK}
CF_PARAMS = {"r": 0.01, "order": 1, "smooth": 7}
#: Idé & Tsuda's (and fastsst's) Krylov settings: k = 2r − 1 Lanczos steps, no refinement.
PAPER_STEPS = {"solver": "ide-tsuda", "lanczos_steps": 2 * RANK - 1, "refine_steps": 0}
#: The opt-in early stop on noise-like windows (flat top Ritz values) that the ratios and
#: the tick are also measured with.
NOISE_STOP = {"solver": "krylov", "noise_steps": 12}
#: The opt-in block subspace solver (Chebyshev-filtered subspace iteration, issue 14's
#: fifth round), with its defaults.
SUBSPACE = {"solver": "subspace"}
#: Full re-orthogonalisation of the krylov solver's Lanczos basis at every step (the
#: default until issue 14's sixth round made partial re-orthogonalisation the default).
FULL = {"solver": "krylov", "reorthogonalise": "full"}
#: The Krylov variants compared with the exact solver: label → parameters.
KRYLOV_VARIANTS = {
    "krylov (default)": {"solver": "krylov"},
    "krylov, full re-orthogonalisation": FULL,
    "subspace": SUBSPACE,
    "subspace, 2 iterations": {"solver": "subspace", "subspace_iterations": 2},
    "krylov, noise_steps=12": NOISE_STOP,
    "krylov, at most 24 steps": {"solver": "krylov", "lanczos_steps": 24},
    "ide-tsuda (defaults)": {"solver": "ide-tsuda"},
    "ide-tsuda, paper steps": PAPER_STEPS,
}
#: Longest prefix (points) given to methods slower than ~10k points/s.
SLOW_LIMIT = 10_000


# --------------------------------------------------------------------- data
def synthetic(n: int, seed: int = 0) -> np.ndarray:
    """Seeded noisy seasonal series with level, frequency and variance changes."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    period = np.where((t // 2500) % 2 == 0, 60.0, 23.0)
    level = 3.0 * ((t // 3700) % 3)
    noise = rng.normal(0, 1, n) * np.where((t // 5100) % 4 == 3, 3.0, 1.0)
    return 50 + level + 8 * np.sin(2 * np.pi * t / period) + noise


def nab_corpus() -> dict[str, np.ndarray]:
    """NAB file name → values (rows as in the file); empty when NAB is not available."""
    from kizashi.data.nab import load_nab_corpus

    try:
        return {series.name.removesuffix(".csv"): series.values for series in load_nab_corpus()}
    except (OSError, ValueError) as error:
        print(f"NAB not available ({error}); set KIZASHI_DATA")
        return {}


# ------------------------------------------------------------------ methods
def kizashi_method(name: str, **params) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: kizashi.detector(name, **params).score(x)


def anchors() -> dict[str, Callable[[np.ndarray], np.ndarray] | None]:
    out: dict[str, Callable[[np.ndarray], np.ndarray] | None] = {}
    try:
        import changefinder

        def package_cf(x):
            np.random.seed(0)  # noqa: NPY002 - the anchors draw from the legacy global state
            detector = changefinder.ChangeFinder(**CF_PARAMS)
            return np.array([detector.update(v) for v in x])

        out["changefinder 0.3"] = package_cf
    except ImportError:
        out["changefinder 0.3"] = None
    try:
        import banpei

        sst = banpei.SST(w=WINDOW, m=RANK, k=WINDOW, L=WINDOW // 2)
        out["banpei SST (SVD)"] = lambda x: sst.detect(x)
        out["banpei SST (lanczos)"] = lambda x: sst.detect(x, is_lanczos=True)
    except ImportError:
        out["banpei SST (SVD)"] = out["banpei SST (lanczos)"] = None
    try:
        from fastsst import SingularSpectrumTransformation

        def fast(x):
            np.random.seed(0)  # noqa: NPY002 - the anchors draw from the legacy global state
            return SingularSpectrumTransformation(
                win_length=WINDOW, n_components=RANK, order=WINDOW, lag=WINDOW // 2
            ).score_offline(x)

        out["fastsst (krylov)"] = fast
    except ImportError:
        out["fastsst (krylov)"] = None
    return out


SLOW = {"banpei SST (SVD)", "banpei SST (lanczos)"}


def points_per_second(method: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> float:
    method(x[: min(len(x), 2000)])  # warm-up: imports, JIT compilation
    times = []
    for _ in range(3):
        start = time.perf_counter()
        method(x)
        times.append(time.perf_counter() - start)
    return len(x) / statistics.median(times)


def speed_table(series: dict[str, np.ndarray]) -> None:
    methods: dict[str, Callable[[np.ndarray], np.ndarray] | None] = {
        "kizashi SST krylov": kizashi_method("sst", solver="krylov", **SST_PARAMS),
        "kizashi SST krylov, 16 fixed steps": kizashi_method(
            "sst", solver="krylov", lanczos_steps=16, ritz_tolerance=0.0, **SST_PARAMS),
        "kizashi SST ide-tsuda": kizashi_method("sst", solver="ide-tsuda", **SST_PARAMS),
        "kizashi SST ide-tsuda, paper steps": kizashi_method("sst", **PAPER_STEPS,
                                                             **SST_PARAMS),
        "kizashi SST exact": kizashi_method("sst", solver="exact", **SST_PARAMS),
        "kizashi ChangeFinder": kizashi_method("changefinder", **CF_PARAMS),
        "kizashi ChangeFinder compat": kizashi_method("changefinder", compat="changefinder",
                                                      **CF_PARAMS),
    }
    methods.update(anchors())
    results: dict[str, dict[str, float]] = {}
    notes = []
    for label, x in series.items():
        for name, method in methods.items():
            if method is None:
                continue
            data = x
            if name in SLOW and len(x) > SLOW_LIMIT:
                data = x[:SLOW_LIMIT]
                notes.append(f"{name} on {label}: first {SLOW_LIMIT:,} points only (too slow)")
            results.setdefault(name, {})[label] = points_per_second(method, data)
            print(f"  measured {name:28s} {label:26s} {results[name][label]:>12,.0f} pts/s",
                  flush=True)
    labels = list(series)
    print("\n## Points per second (one core, median of 3)\n")
    print("| method | " + " | ".join(labels) + " |")
    print("|---|" + "---:|" * len(labels))
    for name, method in methods.items():
        if method is None:
            print(f"| {name} | " + " | ".join("not installed" for _ in labels) + " |")
            continue
        print(f"| {name} | " + " | ".join(f"{results[name][k]:,.0f}" for k in labels) + " |")
    ratios = [("kizashi SST krylov", "banpei SST (SVD)"),
              ("kizashi SST krylov", "banpei SST (lanczos)"),
              ("kizashi SST krylov", "fastsst (krylov)"),
              ("kizashi SST ide-tsuda", "fastsst (krylov)"),
              ("kizashi SST ide-tsuda, paper steps", "fastsst (krylov)"),
              ("kizashi SST exact", "banpei SST (SVD)"),
              ("kizashi ChangeFinder", "changefinder 0.3"),
              ("kizashi ChangeFinder compat", "changefinder 0.3")]
    print("\n## Ratios (kizashi ÷ anchor)\n")
    print("| ratio | " + " | ".join(labels) + " |")
    print("|---|" + "---:|" * len(labels))
    for mine, theirs in ratios:
        if theirs not in results:
            continue
        cells = [f"{results[mine][k] / results[theirs][k]:,.1f}×" for k in labels]
        print(f"| {mine} / {theirs} | " + " | ".join(cells) + " |")
    for note in dict.fromkeys(notes):
        print(f"\n* {note}")


def seasonal_block(n_time: int, n_series: int, seed: int = 1) -> np.ndarray:
    """``(time, series)``: :func:`synthetic`'s noisy seasonal pattern, a random phase per
    series (a cluster's metrics are not in step)."""
    rng = np.random.default_rng(seed)
    phase = rng.integers(0, 10_000, n_series)
    t = phase[None, :] + np.arange(n_time)[:, None]
    period = np.where((t // 2500) % 2 == 0, 60.0, 23.0)
    level = 3.0 * ((t // 3700) % 3)
    noise = rng.normal(0, 1, t.shape) * np.where((t // 5100) % 4 == 3, 3.0, 1.0)
    return 50 + level + 8 * np.sin(2 * np.pi * t / period) + noise


def cluster_tick(n_series: int = 10_000) -> None:
    rng = np.random.default_rng(1)
    print("\n## One `update` advancing every series by one tick (median)\n")
    print("wall: elapsed time; CPU: this process's CPU time (on a shared machine the "
          "wall time also counts waiting for a core)\n")
    print("| detector | data | series | ms per tick (wall) | ms per tick (CPU) |")
    print("|---|---|---:|---:|---:|")
    # SST needs window + n_columns + lag values of warm-up before it scores; 9 ticks
    # after 130 steps of warm-up are timed
    sst = {"solver": "krylov", **SST_PARAMS}
    cases = [("changefinder", CF_PARAMS, "white noise", 300, 50),
             ("changefinder", {**CF_PARAMS, "compat": "changefinder"}, "white noise", 300, 50),
             ("sst", sst, "white noise", 130, 9),
             ("sst", sst, "noisy seasonal", 130, 9),
             ("sst", {**SST_PARAMS, **NOISE_STOP}, "white noise", 130, 9),
             ("sst", {**SST_PARAMS, **NOISE_STOP}, "noisy seasonal", 130, 9),
             ("sst", {**SST_PARAMS, **SUBSPACE}, "white noise", 130, 9),
             ("sst", {**SST_PARAMS, **SUBSPACE}, "noisy seasonal", 130, 9),
             ("sst", {**SST_PARAMS, **FULL}, "white noise", 130, 9),
             ("sst", {**SST_PARAMS, **FULL}, "noisy seasonal", 130, 9),
             ("sst", {**sst, "threads": 2}, "white noise", 130, 9),
             ("sst", {**sst, "threads": 2}, "noisy seasonal", 130, 9)]
    for name, params, data, warm, ticks in cases:
        if data == "white noise":
            values = rng.normal(size=(warm + ticks, n_series))
        else:
            values = seasonal_block(warm + ticks, n_series)
        detector = kizashi.detector(name, **params)
        detector.fit(values[:warm])
        wall, cpu = [], []
        for row in values[warm:]:
            start, start_cpu = time.perf_counter(), time.process_time()
            detector.update(row)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        label = f"{name} ({', '.join(f'{k}={v}' for k, v in params.items())})"
        print(f"| {label} | {data} | {n_series:,} | {1e3 * statistics.median(wall):,.2f} | "
              f"{1e3 * statistics.median(cpu):,.2f} |", flush=True)


def interleaved_tick(n_series: int = 10_000, ticks: int = 15) -> None:
    """The krylov SST tick with partial (the default) and full re-orthogonalisation and on
    two threads, the detectors updated in turn on every tick (a busy machine then slows
    all alike); the threaded scores are checked equal to the one-thread ones."""
    print("\n## One `update` of the krylov SST, variants in turn on every tick "
          f"(median of {ticks})\n")
    print("| data | variant | series | ms per tick (wall) | ms per tick (CPU) |")
    print("|---|---|---:|---:|---:|")
    variants = {"partial (default)": {}, "full": FULL, "partial, threads=2": {"threads": 2}}
    for data in ("white noise", "noisy seasonal"):
        if data == "white noise":
            values = np.random.default_rng(1).normal(size=(130 + ticks, n_series))
        else:
            values = seasonal_block(130 + ticks, n_series)
        detectors = {label: kizashi.detector("sst", **{**SST_PARAMS, **extra}).fit(values[:130])
                     for label, extra in variants.items()}
        wall: dict[str, list[float]] = {label: [] for label in variants}
        cpu: dict[str, list[float]] = {label: [] for label in variants}
        for row in values[130:]:
            scores = {}
            for label, detector in detectors.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                scores[label] = detector.update(row)
                wall[label].append(time.perf_counter() - start)
                cpu[label].append(time.process_time() - start_cpu)
            assert np.array_equal(scores["partial (default)"], scores["partial, threads=2"])
        for label in variants:
            median_wall = 1e3 * statistics.median(wall[label])
            median_cpu = 1e3 * statistics.median(cpu[label])
            print(f"| {data} | {label} | {n_series:,} | {median_wall:,.1f} | {median_cpu:,.1f} |",
                  flush=True)
        del detectors


def faithfulness(only: list[str] | None = None) -> None:
    variants = {label: extra for label, extra in KRYLOV_VARIANTS.items()
                if not only or any(word in label for word in only)}
    corpus = nab_corpus()
    if not corpus:
        return
    exact_detector = kizashi.detector("sst", solver="exact", **SST_PARAMS)
    warm = exact_detector.n_warmup
    print("\n## Krylov vs exact SST on NAB (Pearson r after the warm-up; same formula, "
          f"windows, de-meaned segments; {SST_PARAMS})\n")
    print("| file | points | " + " | ".join(f"r, {label}" for label in variants) + " |")
    print("|---|---:|" + "---:|" * len(variants))
    values: dict[str, dict[str, float]] = {}
    for name, x in corpus.items():
        exact = exact_detector.score(x)[warm:]
        row = []
        for label, extra in variants.items():
            krylov = kizashi.detector("sst", **{**SST_PARAMS, **extra}).score(x)[warm:]
            if exact.std() == 0 or krylov.std() == 0:
                r = float("nan")
            else:
                r = float(np.corrcoef(exact, krylov)[0, 1])
            values.setdefault(label, {})[name] = r
            row.append(r)
        print(f"| {name} | {len(x):,} | " + " | ".join(f"{r:.4f}" for r in row) + " |",
              flush=True)
    key = "realKnownCause/machine_temperature_system_failure"
    print()
    for label in variants:
        finite = [v for v in values[label].values() if np.isfinite(v)]
        print(f"{label}: median r over {len(finite)} files (constant files excluded) "
              f"{statistics.median(finite):.4f}; 10th percentile "
              f"{np.percentile(finite, 10):.4f}; minimum {min(finite):.4f}; "
              f"machine_temperature_system_failure {values[label].get(key, np.nan):.4f} "
              "(fastsst's own faithfulness there: 0.968)")
    print("\nSeeded series (same windows; r after the warm-up):\n")
    print("| series | " + " | ".join(f"r, {label}" for label in variants) + " |")
    print("|---|" + "---:|" * len(variants))
    for label, x in (("synthetic 10k", synthetic(10_000)),
                     ("white noise 10k", np.random.default_rng(3).normal(size=10_000))):
        exact = exact_detector.score(x)[warm:]
        cells = [np.corrcoef(exact, kizashi.detector("sst", **{**SST_PARAMS, **extra})
                             .score(x)[warm:])[0, 1] for extra in variants.values()]
        print(f"| {label} | " + " | ".join(f"{r:.4f}" for r in cells) + " |", flush=True)


def lanczos_steps_used() -> None:
    """How many Lanczos steps the krylov solver's convergence test takes per point, and (with
    partial re-orthogonalisation, the default) on how many of them the basis is
    re-orthogonalised in full."""
    series = {"synthetic 10k": synthetic(10_000),
              "white noise 10k": np.random.default_rng(3).normal(size=10_000)}
    key = "realKnownCause/machine_temperature_system_failure"
    corpus = nab_corpus()
    if key in corpus:
        series["NAB machine_temperature"] = corpus[key]
    print("\n## Lanczos steps per point, krylov solver "
          f"(convergence test; at most {3 * RANK + 3})\n")
    print("| series | variant | mean | median | 90th percentile | max | "
          "full re-orthogonalisations per step |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for label, x in series.items():
        for variant, extra in (("default (partial)", {}), ("full", FULL)):
            detector = kizashi.detector("sst", **{**SST_PARAMS, **extra})
            steps = []
            for value in x:  # one point at a time, reading the state after each
                detector.update(np.array([value]))
                steps.append(int(detector.state_["taken"][0]))
            used = np.array(steps[detector.n_warmup:])
            done, passes = detector.lanczos_counts_
            share = "1 (every step)" if extra else f"{passes / done:.3f}"
            print(f"| {label} | {variant} | {used.mean():.1f} | {np.median(used):.0f} | "
                  f"{np.percentile(used, 90):.0f} | {used.max()} | {share} |", flush=True)


def interleaved_ratios(n: int = 5_000, rounds: int = 3) -> None:
    """kizashi's krylov SST against banpei's SVD SST and fastsst, timed in turn in each round
    (a busy machine then slows all alike), on the noisy synthetic series and white noise."""
    mine = {"krylov": kizashi_method("sst", solver="krylov", **SST_PARAMS),
            "krylov, noise_steps=12": kizashi_method("sst", **{**SST_PARAMS, **NOISE_STOP}),
            "krylov, full re-orthogonalisation": kizashi_method("sst", **{**SST_PARAMS, **FULL}),
            "subspace": kizashi_method("sst", **{**SST_PARAMS, **SUBSPACE})}
    theirs = {k: v for k, v in anchors().items()
              if k in ("banpei SST (SVD)", "fastsst (krylov)") and v is not None}
    series = {f"synthetic {n // 1000}k": synthetic(n),
              f"white noise {n // 1000}k": np.random.default_rng(3).normal(size=n)}
    nab = nab_corpus().get("realKnownCause/machine_temperature_system_failure")
    if nab is not None:
        series[f"NAB machine_temperature, first {n // 1000}k"] = nab[:n]
    print(f"\n## SST ratios, interleaved (median of {rounds} rounds; {SST_PARAMS})\n")
    print("wall: elapsed time; CPU: this process's CPU time, which waiting for a core on a "
          "shared machine does not inflate\n")
    print("| series | kizashi | kizashi pts/s | kizashi µs per point, CPU | "
          + " | ".join(f"{k} pts/s" for k in theirs)
          + " | " + " | ".join(f"kizashi ÷ {k}" for k in theirs)
          + " | " + " | ".join(f"kizashi ÷ {k}, CPU" for k in theirs) + " |")
    print("|---|---|---:|---:|" + "---:|" * (3 * len(theirs)))
    for label, x in series.items():
        methods = {**mine, **theirs}
        for method in methods.values():
            method(x[:1000])  # warm-up: imports, JIT compilation
        spent: dict[str, list[float]] = {k: [] for k in methods}
        spent_cpu: dict[str, list[float]] = {k: [] for k in methods}
        for _ in range(rounds):
            for key, method in methods.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                method(x)
                spent[key].append(time.perf_counter() - start)
                spent_cpu[key].append(time.process_time() - start_cpu)
        speed = {k: len(x) / statistics.median(v) for k, v in spent.items()}
        cpu = {k: len(x) / statistics.median(v) for k, v in spent_cpu.items()}
        for variant in mine:
            print(f"| {label} | {variant} | {speed[variant]:,.0f} | {1e6 / cpu[variant]:.2f} | "
                  + " | ".join(f"{speed[k]:,.0f}" for k in theirs) + " | "
                  + " | ".join(f"{speed[variant] / speed[k]:,.1f}×" for k in theirs) + " | "
                  + " | ".join(f"{cpu[variant] / cpu[k]:,.1f}×" for k in theirs) + " |",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faithfulness", action="store_true",
                        help="krylov vs exact SST on every NAB file instead of speed")
    parser.add_argument("--series", type=int, default=10_000,
                        help="series in the cluster-tick measurement")
    parser.add_argument("--variants", nargs="+", metavar="WORD",
                        help="with --faithfulness: only the krylov variants whose label "
                             "contains one of these words (e.g. default full)")
    parser.add_argument("--ratios", action="store_true",
                        help="only the interleaved SST ratios against banpei and fastsst, and "
                             "the cluster tick")
    parser.add_argument("--tick", action="store_true",
                        help="only the krylov SST tick: partial and full re-orthogonalisation "
                             "and two threads, updated in turn")
    args = parser.parse_args()
    if args.tick:
        interleaved_tick(args.series)
        return
    if args.ratios:
        interleaved_ratios()
        cluster_tick(args.series)
        return
    if args.faithfulness:
        faithfulness(args.variants)
        lanczos_steps_used()
        return
    series = {"synthetic 10k": synthetic(10_000), "synthetic 100k": synthetic(100_000),
              "white noise 10k": np.random.default_rng(3).normal(size=10_000)}
    nab = nab_corpus().get("realKnownCause/machine_temperature_system_failure")
    if nab is not None:
        series[f"NAB machine_temperature ({len(nab) // 1000}k)"] = nab
    speed_table(series)
    cluster_tick(args.series)


if __name__ == "__main__":
    main()
