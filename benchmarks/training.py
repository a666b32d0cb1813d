"""Training and scoring throughput of kizashi's deep models; prints a Markdown table.

    .venv/bin/python benchmarks/training.py                 # CPU here; --device cuda on a GPU
    .venv/bin/python benchmarks/training.py --steps 300 --nproc 2

Rows:

* training, samples/s: the window autoencoder (38 metrics × 10 rows, hidden 64,
  latent 8, global batch 128, Adam) trained by :class:`kizashi.dl.trainer.Trainer`
  for ``--steps`` steps after 20 warm-up steps — one process (1 and 2 torch
  threads), then ``torchrun --nproc_per_node=N`` (DistributedDataParallel, gloo on
  CPU / nccl on GPU, 1 thread per rank);
* scoring, points/s: ``AutoencoderDetector.score`` (rows of 38 metrics) and
  ``LstmDetector.score`` (points = rows × series) on 5,000 synthetic rows.

Data is synthetic (noisy sines) with SMD's shape, so the script needs no download.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np

WARMUP = 20


def data(n: int = 20000, features: int = 38) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(n)[:, None]
    return np.sin(t / 30 + np.arange(features)) + rng.normal(0, 0.1, (n, features))


def train_throughput(steps: int, device: str, threads: int | None) -> dict:
    import torch

    from kizashi.dl.trainer import Trainer, TrainSettings
    from kizashi.dl.window_autoencoder import WindowAutoencoder

    x = WindowAutoencoder.samples(data(), 10)[0]
    marks = {}

    def clock(step: int) -> None:
        if step in (WARMUP, WARMUP + steps):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            marks[step] = time.perf_counter()

    torch.manual_seed(0)
    settings = TrainSettings(epochs=100, batch_size=128, device=device, threads=threads,
                             max_steps=WARMUP + steps)
    Trainer(WindowAutoencoder(38, 10, 64, 8), (x, x), None, settings,
            step_callback=clock).fit()
    seconds = marks[WARMUP + steps] - marks[WARMUP]
    return {"samples_per_s": steps * 128 / seconds, "seconds": seconds}


def score_throughput(device: str) -> dict:
    from kizashi.detectors.registry import create

    values = data(7000)
    out = {}
    for name, params, series in (("autoencoder", {"epochs": 1}, 38),
                                 ("lstm", {"epochs": 1, "max_samples": 2000}, 38)):
        detector = create(name, device=device, **params).fit(values[:2000])
        start = time.perf_counter()
        detector.score(values[2000:])
        seconds = time.perf_counter() - start
        points = 5000 if detector.multivariate else 5000 * series
        out[name] = {"points_per_s": points / seconds, "rows_per_s": 5000 / seconds}
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:  # one torchrun rank
        result = train_throughput(args.steps, args.device, 1)
        if os.environ.get("RANK", "0") == "0":
            print("RESULT " + json.dumps(result))
        return
    import torch

    rows = []
    thread_options = (1, 2) if args.device == "cpu" else (None,)
    for threads in thread_options:
        r = train_throughput(args.steps, args.device, threads)
        rows.append((f"train, 1 process, {threads or 'default'} thread(s)",
                     f"{r['samples_per_s']:,.0f} samples/s"))
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={args.nproc}",
               "--master_port", str(free_port()), __file__, "--worker", "--steps",
               str(args.steps), "--device", args.device]
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    found = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if found:
        r = json.loads(found[0][len("RESULT "):])
        rows.append((f"train, torchrun {args.nproc} processes (DDP)",
                     f"{r['samples_per_s']:,.0f} samples/s"))
    else:
        rows.append((f"train, torchrun {args.nproc} processes (DDP)", "failed: "
                     + done.stderr.strip().splitlines()[-1] if done.stderr else "failed"))
    for name, r in score_throughput(args.device).items():
        rows.append((f"score, {name} detector", f"{r['points_per_s']:,.0f} points/s "
                     f"({r['rows_per_s']:,.0f} rows/s)"))
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else \
        f"CPU, {os.cpu_count()} cores"
    print(f"torch {torch.__version__}, {where}, {args.steps} timed steps, global batch 128\n")
    print("| what | throughput |\n|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
