"""Batch scoring speed of the deep detectors per inference backend; prints a Markdown table.

    .venv/bin/python benchmarks/inference.py                  # CPU (and CUDA when present)
    .venv/bin/python benchmarks/inference.py --quick          # small sizes, a smoke run
    .venv/bin/python benchmarks/inference.py --backends eager,onnx --detectors lstm

For each detector (``lstm``: window 32, hidden 32; ``autoencoder``: window 10,
hidden 64, latent 8, 38 metrics like SMD) and each scenario — ``long``: one long
series (``--points`` rows: one series for ``lstm``, 38 metrics for
``autoencoder``), ``many``: many short series (``--series`` series × ``--rows`` rows for
``lstm``; for ``autoencoder``, ``--series`` / 10 nodes of 38 metrics, each its own
detector call) — it times ``detector.score`` (median of ``--repeat`` runs, from the
same fitted state) with every backend, and reports points/s (one score = one point:
rows × series for ``lstm``, rows for ``autoencoder``), the speed-up over ``eager``
(the exact float64 PyTorch path) and the largest absolute score difference from it.
Timings on a shared machine are noisy: compare ratios within one run.
Weights come from a short training run on the same synthetic data (noisy sines).

``--baseline-src DIR`` also times the ``eager`` path of another source tree (e.g.
the code before fast inference: ``git archive COMMIT | tar -x -C DIR``) in a
subprocess on the same data and weights, adds it as a row and a column of
speed-ups against it, and its largest score difference from this tree's ``eager``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

FEATURES = 38


def noisy(rows: int, columns: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(rows)[:, None]
    phase = rng.uniform(0, 2 * np.pi, columns)
    return np.sin(t / 30 + phase) + rng.normal(0, 0.1, (rows, columns))


def fit(name: str, columns: int, device: str):
    """A detector trained briefly on noisy sines with ``columns`` series (same seed: the
    same weights in every source tree)."""
    from kizashi.detectors.registry import create

    params = {"lstm": {"epochs": 1, "max_samples": 4000},
              "autoencoder": {"epochs": 2, "max_samples": 4000}}[name]
    rows = 3000 if columns <= FEATURES else 300
    return create(name, device=device, **params).fit(noisy(rows, columns, seed=1))


def supports_backends(detector) -> bool:
    return "backend" in detector.get_params()


def timed_scores(detector, blocks: list[np.ndarray], backend: str, repeat: int
                 ) -> tuple[float, list[np.ndarray]]:
    """Median seconds to score every block from the fitted state, and the scores."""
    params = detector.get_params()
    if supports_backends(detector):
        params["backend"] = backend
    clone = type(detector)(**params)
    clone.load_state_dict(detector.state_dict())
    clone.score(blocks[0][:50])  # builds the backend (export, compile) outside the clock
    seconds, scores = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        scores = [clone.score(block) for block in blocks]
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), scores


def scenarios(name: str, args: argparse.Namespace) -> dict[str, tuple[list[np.ndarray], int]]:
    """Blocks to score (one per detector call) and the points they make."""
    if name == "lstm":
        long = [noisy(args.points, 1, seed=2)]
        many = [noisy(args.rows, args.series, seed=3)]
        return {"long": (long, args.points), "many": (many, args.rows * args.series)}
    nodes = max(args.series // 10, 1)
    long = [noisy(args.points, FEATURES, seed=2)]
    many = [noisy(args.rows * 5, FEATURES, seed=10 + k) for k in range(nodes)]
    return {"long": (long, args.points), "many": (many, args.rows * 5 * nodes)}


def baseline(args: argparse.Namespace) -> dict:
    """``{(detector, scenario): (seconds, scores)}`` of the eager path in ``--baseline-src``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "baseline.npz")
        command = [sys.executable, __file__, "--backends", "eager", "--dump", out,
                   "--points", str(args.points), "--series", str(args.series), "--rows",
                   str(args.rows), "--repeat", str(args.repeat), "--detectors", args.detectors,
                   "--device", args.device, "--threads", str(args.threads)]
        env = {**os.environ, "PYTHONPATH": os.path.join(args.baseline_src, "src")}
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
        found: dict = {}
        with np.load(out) as saved:  # keys "detector/scenario/seconds" and ".../scores/k"
            for key in saved.files:
                name, scenario, kind, *k = key.split("/")
                scores = found.setdefault((name, scenario), [0.0, {}])[1]
                if kind == "seconds":
                    found[name, scenario][0] = float(saved[key])
                else:
                    scores[int(k[0])] = saved[key]
        return {key: (seconds, [scores[k] for k in sorted(scores)])
                for key, (seconds, scores) in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000,
                        help="rows of the long series (default 200000)")
    parser.add_argument("--series", type=int, default=1000,
                        help="series of the many-series case (default 1000)")
    parser.add_argument("--rows", type=int, default=200,
                        help="rows per series of the many-series case (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the median counts")
    parser.add_argument("--backends", default="eager,float32,onnx,compile,quantized",
                        help="comma-separated backends (eager is always run first)")
    parser.add_argument("--detectors", default="lstm,autoencoder")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                        help="device of the fast backends (auto: CUDA when present)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per backend")
    parser.add_argument("--baseline-src", default=None,
                        help="another source tree whose eager path to time as a baseline")
    parser.add_argument("--dump", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (20000 points, 100 series × 100 rows, 1 run)")
    args = parser.parse_args()
    if args.quick:
        args.points, args.series, args.rows, args.repeat = 20_000, 100, 100, 1
    import torch

    torch.set_num_threads(args.threads)
    old = baseline(args) if args.baseline_src else {}
    dumped = {}
    backends = ["eager"] + [b for b in args.backends.split(",") if b and b != "eager"]
    where = torch.cuda.get_device_name() if torch.cuda.is_available() and args.device != "cpu" \
        else "no CUDA device"
    onnx = "installed" if importlib.util.find_spec("onnxruntime") else "missing"
    if not args.dump:
        print(f"torch {torch.__version__}; onnxruntime {onnx}; {where}; "
              f"{args.threads} CPU thread(s); median of {args.repeat}; "
              f"{args.points:,} rows long, {args.series:,} series × {args.rows} rows many\n")
        print("| detector | scenario | backend | points/s | × eager | "
              f"{'× baseline | ' if old else ''}max abs score diff |")
        print(f"|---|---|---|---:|---:|{'---:|' if old else ''}---:|")
    for name in args.detectors.split(","):
        for scenario, (blocks, points) in scenarios(name, args).items():
            detector = fit(name, blocks[0].shape[1], args.device)
            if not supports_backends(detector):
                backends = ["eager"]
            base_seconds, reference = timed_scores(detector, blocks, "eager", args.repeat)
            dumped[name, scenario] = (base_seconds, reference)
            if args.dump:
                continue
            if old:
                then, scores = old[name, scenario]
                diff = max(float(np.nanmax(np.abs(a - b))) for a, b in zip(scores, reference,
                                                                          strict=True))
                print(f"| {name} | {scenario} | eager, baseline | {points / then:,.0f} | "
                      f"{base_seconds / then:.1f}× | 1.0× | {diff:.1e} |", flush=True)
            for backend in backends:
                if backend == "eager":
                    seconds, scores = base_seconds, reference
                else:
                    try:
                        seconds, scores = timed_scores(detector, blocks, backend, args.repeat)
                    except Exception as error:  # a backend missing here: say so, go on
                        print(f"| {name} | {scenario} | {backend} | failed: "
                              f"{str(error).splitlines()[0][:80]} | | {'| ' if old else ''}|")
                        continue
                diff = max(float(np.nanmax(np.abs(a - b))) for a, b in zip(scores, reference,
                                                                          strict=True))
                versus = f"{old[name, scenario][0] / seconds:.1f}× | " if old else ""
                print(f"| {name} | {scenario} | {backend} | {points / seconds:,.0f} | "
                      f"{base_seconds / seconds:.1f}× | {versus}{diff:.1e} |", flush=True)
    if args.dump:
        arrays = {}
        for (name, scenario), (seconds, scores) in dumped.items():
            arrays[f"{name}/{scenario}/seconds"] = np.array(seconds)
            arrays.update({f"{name}/{scenario}/scores/{k}": a for k, a in enumerate(scores)})
        np.savez(args.dump, **arrays)


if __name__ == "__main__":
    main()
