"""GPU readiness in one command: train the example config on 1 GPU and with DDP, then score.

    python benchmarks/gpu_check.py                 # on a CUDA machine, a few minutes
    python benchmarks/gpu_check.py --steps 100     # shorter
    python benchmarks/gpu_check.py --cpu           # the same path, tiny, on the CPU (a dry run)

What it does, printing a Markdown table at the end:

1. trains ``--config`` (default ``examples/train-smd.yaml``, the config ``kizashi
   train`` documents) with :func:`kizashi.dl.experiment.train_from_config` on one GPU
   for ``--warmup`` + ``--steps`` optimisation steps and reports samples/s over the
   timed steps;
2. trains it again under ``torchrun --nproc_per_node=N`` (DistributedDataParallel,
   nccl; N = every visible GPU, 1 on a single-GPU machine) with the same global
   batch, and reports samples/s and the parallel efficiency: DDP samples/s ÷ (N ×
   one-GPU samples/s);
3. builds the ``autoencoder`` detector from the trained folder and scores a long
   series (``--points`` rows) with each inference backend: ``eager`` (float64, CPU,
   the exact path), ``float32`` and ``compile`` on the GPU, ``onnx`` (ONNX Runtime;
   CUDA with onnxruntime-gpu), with points/s, speed-up and the largest score
   difference from eager.

When SMD is not found (``KIZASHI_DATA``), synthetic data of SMD's shape (38
metrics) stands in, and the table says so. No preparation is needed beyond
``pip install -e '.[dl,fast]'``.

Exit status: 0 when every stage ran; **3 when no CUDA device is present** (one line
on stderr; add ``--cpu`` for the dry run); 1 when a stage failed (its error is in
the table and on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

NO_CUDA = 3
ROOT = Path(__file__).resolve().parents[1]


def run_config(args: argparse.Namespace):
    """The config to train, with the timing overrides; and whether SMD stood in."""
    from kizashi.dl.config import load_config

    config = load_config(args.config)
    overrides = {"epochs": 10_000, "max_steps": args.warmup + args.steps, "patience": None,
                 "checkpoint_every": 0, "progress": False,
                 "device": "cpu" if args.cpu else "cuda", "threads": 1 if args.cpu else None}
    synthetic = config.data.get("source") == "smd" and not smd_found(config.data)
    if args.cpu or synthetic:
        rows = 400 if args.cpu else 28_000
        features = 4 if args.cpu else 38
        overrides["data"] = {"source": "synthetic", "n": rows, "n_series": features, "seed": 0}
    if args.cpu:
        overrides["model.hidden"], overrides["batch_size"] = 16, 32
    if args.batch_size:
        overrides["batch_size"] = args.batch_size
    return config.with_values(overrides), synthetic


def smd_found(data: dict) -> bool:
    try:
        from kizashi.data.smd import load_smd

        load_smd(data.get("machine", "machine-1-1"))
        return True
    except Exception:  # missing or unreadable data: synthetic data stands in
        return False


def train_throughput(config, out_dir: str, warmup: int, steps: int) -> dict:
    """Samples/s over ``steps`` optimisation steps after ``warmup`` (rank 0's clock)."""
    import torch

    from kizashi.dl.experiment import train_from_config

    marks: dict[int, float] = {}

    def clock(step: int) -> None:
        if step in (warmup, warmup + steps):
            if torch.cuda.is_available() and config.device != "cpu":
                torch.cuda.synchronize()
            marks[step] = time.perf_counter()

    result = train_from_config(config, out_dir, step_callback=clock)
    seconds = marks[warmup + steps] - marks[warmup]
    return {"samples_per_s": steps * int(config.batch_size) / seconds, "seconds": seconds,
            "steps": result.steps, "world": int(os.environ.get("WORLD_SIZE", "1"))}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ddp_throughput(args: argparse.Namespace, nproc: int, out_dir: str) -> dict:
    """DDP training throughput; tried once more on a fresh port if the first run fails (the
    free port is released before torchrun binds it, so another process may take it)."""
    try:
        return _ddp_run(args, nproc, f"{out_dir}/1")
    except RuntimeError as first:
        print(f"gpu_check: DDP run failed ({first}); trying once more on another port",
              file=sys.stderr)
        return _ddp_run(args, nproc, f"{out_dir}/2")


def _ddp_run(args: argparse.Namespace, nproc: int, out_dir: str) -> dict:
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
               "--master_port", str(free_port()), __file__, "--worker", "--out", out_dir,
               "--config", args.config, "--steps", str(args.steps), "--warmup",
               str(args.warmup)] + (["--cpu"] if args.cpu else []) + \
        (["--batch-size", str(args.batch_size)] if args.batch_size else [])
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                       os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    found = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not found:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"torchrun exited {done.returncode}: {tail}")
    return json.loads(found[-1][len("RESULT "):])


def inference_rows(args: argparse.Namespace, out_dir: str, train_values: np.ndarray) -> list:
    """(backend, points/s, speed-up, max abs diff) of the trained autoencoder."""
    from kizashi.detectors.deep.autoencoder_detector import AutoencoderDetector

    device = "cpu" if args.cpu else "cuda"
    base = AutoencoderDetector.from_trained(out_dir, train_values[:2000], device=device,
                                            backend="eager")
    rng = np.random.default_rng(1)  # the training rows again and again, with fresh noise
    values = np.tile(train_values, (-(-args.points // len(train_values)), 1))[:args.points]
    values = values + rng.normal(0, 0.01, values.shape)
    rows, reference, base_seconds = [], None, None
    for backend in ("eager", "float32", "compile", "onnx"):
        detector = AutoencoderDetector(**{**base.get_params(), "backend": backend})
        detector.load_state_dict(base.state_dict())
        try:
            detector.score(values[:200])  # builds the backend outside the clock
            seconds = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                scores = detector.score(values)
                seconds.append(time.perf_counter() - start)
        except Exception as error:  # report it and go on with the other backends
            rows.append((backend, f"failed: {str(error).splitlines()[0][:70]}", "", ""))
            continue
        median = statistics.median(seconds)
        if reference is None:
            reference, base_seconds = scores, median
        diff = float(np.nanmax(np.abs(scores - reference)))
        rows.append((backend, f"{len(values) / median:,.0f}", f"{base_seconds / median:.1f}×",
                     f"{diff:.1e}"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Exit status: 0 all ran, 1 a stage failed, "
                                            f"{NO_CUDA} no CUDA device (use --cpu).")
    parser.add_argument("--config", default=str(ROOT / "examples" / "train-smd.yaml"),
                        help="training config (default examples/train-smd.yaml)")
    parser.add_argument("--steps", type=int, default=300, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=30, help="untimed steps first")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="global batch (default: the config's)")
    parser.add_argument("--points", type=int, default=200_000,
                        help="rows scored in the inference stage")
    parser.add_argument("--repeat", type=int, default=3, help="timed scoring runs (median)")
    parser.add_argument("--cpu", action="store_true",
                        help="dry run: the same stages, tiny, on the CPU (2 gloo processes)")
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cpu and not args.worker:
        args.steps, args.warmup, args.points, args.repeat = 20, 5, 2000, 1
    import torch

    if not args.cpu and not torch.cuda.is_available():
        print(f"gpu_check: no CUDA device (torch {torch.__version__} sees none); "
              "nothing to check here; --cpu runs a dry run", file=sys.stderr)
        return NO_CUDA
    config, synthetic = run_config(args)
    if args.worker:  # one torchrun rank
        result = train_throughput(config, args.out, args.warmup, args.steps)
        if os.environ.get("RANK", "0") == "0":
            print("RESULT " + json.dumps(result), flush=True)
        return 0
    from kizashi.dl.experiment import load_values

    n_gpus = 0 if args.cpu else torch.cuda.device_count()
    where = "CPU dry run" if args.cpu else \
        f"{n_gpus} × {torch.cuda.get_device_name(0)}"
    rows, failed = [], False
    with tempfile.TemporaryDirectory(prefix="kizashi-gpu-check-") as tmp:
        single = ddp = None
        try:
            single = train_throughput(config, f"{tmp}/one", args.warmup, args.steps)
            rows.append(("train, 1 device", f"{single['samples_per_s']:,.0f} samples/s", ""))
        except Exception as error:
            failed = True
            rows.append(("train, 1 device", f"failed: {error}", ""))
        nproc = 2 if args.cpu else max(n_gpus, 1)
        try:
            ddp = ddp_throughput(args, nproc, f"{tmp}/ddp")
            share = None if single is None else \
                ddp["samples_per_s"] / (nproc * single["samples_per_s"])
            efficiency = "" if share is None else f"parallel efficiency {share:.0%}"
            rows.append((f"train, DDP over {nproc} {'processes' if args.cpu else 'GPUs'}",
                         f"{ddp['samples_per_s']:,.0f} samples/s", efficiency))
        except Exception as error:
            failed = True
            rows.append((f"train, DDP over {nproc}", f"failed: {error}", ""))
        if single is not None:
            try:
                values = load_values(config.data, config.source)
                for backend, speed, ratio, diff in inference_rows(args, f"{tmp}/one", values):
                    failed |= speed.startswith("failed")
                    rows.append((f"score, autoencoder, {backend}", f"{speed} points/s"
                                 if not speed.startswith("failed") else speed,
                                 f"{ratio} vs eager, max abs score diff {diff}" if ratio else ""))
            except Exception as error:
                failed = True
                rows.append(("score, autoencoder", f"failed: {error}", ""))
    print(f"torch {torch.__version__}, {where}; config {args.config}"
          f"{' (SMD not found: synthetic data of its shape)' if synthetic else ''}; "
          f"global batch {config.batch_size}, {args.steps} timed steps after {args.warmup}\n")
    print("| what | throughput | note |\n|---|---:|---|")
    for what, value, note in rows:
        print(f"| {what} | {value} | {note} |")
    if failed:
        print("gpu_check: a stage failed (see the table)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
