"""``kizashi train``'s memory estimate beside the peak memory a short run takes.

Prints a table (it is not a test). Run from the repository root::

    PYTHONPATH=src .venv/bin/python benchmarks/train_memory.py

Each configuration trains 3 steps on synthetic data (20 000 rows of 4 series, batch
256) in its own process; the peak growth is that process's maximum resident size after
the run less before it (``getrusage``), the estimate :func:`kizashi.dl.memory.estimate_bytes`.
"""

from __future__ import annotations

import json
import subprocess
import sys

CONFIGS = [
    {"name": "autoencoder", "window": 1000},
    {"name": "cnn", "window": 500, "channels": 64},
    {"name": "lstm", "window": 300, "hidden": 64},
]

CHILD = r"""
import json, resource, sys, tempfile
from kizashi.dl.config import RunConfig
from kizashi.dl.experiment import load_values, train_from_config
from kizashi.dl.memory import estimate_bytes
cfg = RunConfig.from_dict({"model": json.loads(sys.argv[1]), "epochs": 1, "batch_size": 256,
                           "progress": False, "max_steps": 3, "device": "cpu",
                           "data": {"source": "synthetic", "n": 20000, "n_series": 4}})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
values = load_values(cfg.data)
estimate = sum(estimate_bytes(cfg, *values.shape).values())
train_from_config(cfg, tempfile.mkdtemp(), progress=False)
peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
print(json.dumps([estimate, peak]))
"""


def main() -> int:
    print(f"{'model':<48} {'estimate MiB':>12} {'peak growth MiB':>16} {'ratio':>6}")
    for model in CONFIGS:
        out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(model)],
                             capture_output=True, text=True, check=True)
        estimate, peak = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{json.dumps(model):<48} {estimate / 2**20:>12.0f} {peak / 2**20:>16.0f} "
              f"{estimate / peak:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
