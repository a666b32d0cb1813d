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

On code without the ``backend`` parameter (before fast inference) only ``eager``
runs: check it out in a worktree and run this script there to time the old path.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

FEATURES = 38


def noisy(rows: int, columns: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(rows)[:, None]
    phase = rng.uniform(0, 2 * np.pi, columns)
    return np.sin(t / 30 + phase) + rng.normal(0, 0.1, (rows, columns))


def fit(name: str, columns: int, device: str):
    from kizashi.detectors.registry import create

    params = {"lstm": {"epochs": 1, "max_samples": 4000},
              "autoencoder": {"epochs": 2, "max_samples": 4000}}[name]
    return create(name, device=device, **params).fit(noisy(3000, columns, seed=1))


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
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (20000 points, 100 series × 100 rows, 1 run)")
    args = parser.parse_args()
    if args.quick:
        args.points, args.series, args.rows, args.repeat = 20_000, 100, 100, 1
    import torch

    from kizashi.dl.inference import onnx_available

    torch.set_num_threads(args.threads)
    backends = ["eager"] + [b for b in args.backends.split(",") if b and b != "eager"]
    where = torch.cuda.get_device_name() if torch.cuda.is_available() and args.device != "cpu" \
        else "no CUDA device"
    print(f"torch {torch.__version__}; onnxruntime "
          f"{'installed' if onnx_available() else 'missing'}; {where}; "
          f"{args.threads} CPU thread(s); median of {args.repeat}\n")
    print("| detector | scenario | backend | points/s | speed-up | max abs score diff |")
    print("|---|---|---|---:|---:|---:|")
    for name in args.detectors.split(","):
        columns = 1 if name == "lstm" else FEATURES
        detector = fit(name, columns, args.device)
        if not supports_backends(detector):
            backends = ["eager"]
        for scenario, (blocks, points) in scenarios(name, args).items():
            base_seconds, reference = timed_scores(detector, blocks, "eager", args.repeat)
            for backend in backends:
                if backend == "eager":
                    seconds, scores = base_seconds, reference
                else:
                    try:
                        seconds, scores = timed_scores(detector, blocks, backend, args.repeat)
                    except Exception as error:  # a backend missing here: say so, go on
                        print(f"| {name} | {scenario} | {backend} | failed: "
                              f"{str(error).splitlines()[0][:80]} | | |")
                        continue
                diff = max(float(np.nanmax(np.abs(a - b))) for a, b in zip(scores, reference,
                                                                          strict=True))
                print(f"| {name} | {scenario} | {backend} | {points / seconds:,.0f} | "
                      f"{base_seconds / seconds:.1f}× | {diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
