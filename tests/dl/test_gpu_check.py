"""benchmarks/gpu_check.py: one clear line without CUDA; its --cpu dry run runs every stage."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    src = str(SCRIPT.parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src,
                                                                    os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_without_cuda_it_says_so_in_one_line_with_its_own_exit_status():
    done = run()
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no CUDA device" in lines[0] and "--cpu" in lines[0]
    assert done.stdout == ""


@pytest.mark.slow
def test_cpu_dry_run_trains_alone_and_with_ddp_then_scores_with_every_backend():
    done = run("--cpu")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    cells = {row.split("|")[1].strip(): row for row in table[1:]}
    assert "failed" not in done.stdout
    assert re.search(r"\| [\d,]+ samples/s", cells["train, 1 device"])
    ddp = cells["train, DDP over 2 processes"]
    assert re.search(r"parallel efficiency \d+%", ddp)
    for backend in ("eager", "float32", "compile", "onnx"):
        row = cells[f"score, autoencoder, {backend}"]
        diff = float(re.search(r"max abs score diff ([\d.e+-]+)", row).group(1))
        assert diff <= (0.0 if backend == "eager" else 1e-3), row
