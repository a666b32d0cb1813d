"""The memory estimate of ``kizashi detect`` / ``kizashi fit`` beside the measured peak.

Prints a table (it is not a test). Each case runs in a fresh Python process: a random
frame of one entity (``m`` metrics, a wide file's shape) is built, then scored by
:func:`kizashi.engine.batch.score_frame` (``detect``) or fitted by
:func:`kizashi.detectors.fitted_model.fit_detector` (``fit``); ``measured`` is the
process's peak resident memory (``ru_maxrss``) above its memory before scoring (the
frame built, the modules imported; numba's first compilations count), the part
the estimate (:func:`kizashi.engine.memory.estimate_bytes`) is compared with (the
interpreter and libraries, about 300 MB, are in use already when the check runs). Run
from the repository root; the sizes are kept small (each case under 1.5 GB)::

    PYTHONPATH=src .venv/bin/python benchmarks/detect_memory.py
"""

from __future__ import annotations

import json
import subprocess
import sys

CASES = [  # (command, detector, params, rows, metrics per entity)
    ("detect", "ensemble", {}, 2000, [100]),
    ("detect", "ensemble", {}, 2000, [200]),
    ("detect", "ensemble", {}, 2000, [500]),
    ("detect", "ensemble", {}, 2000, [1] * 500),
    ("detect", "ensemble", {"reference": False}, 2000, [500]),
    ("fit", "ensemble", {}, 2000, [200]),
    ("detect", "sst", {"window": 1000}, 3000, [1]),
    ("detect", "sst", {"window": 2000}, 3000, [1]),
    ("detect", "sst", {"window": 4000}, 3000, [1]),
    ("detect", "threshold", {"window": 1000}, 2000, [1] * 1000),
]

_CHILD = """
import json, resource, sys
import numpy as np
from kizashi.data.frame import SeriesFrame
command, detector, params, rows, metrics = json.loads(sys.argv[1])
entities = [f"node{i}" for i, m in enumerate(metrics) for _ in range(m)]
names = [f"m{j}" for m in metrics for j in range(m)]
values = np.random.default_rng(0).normal(size=(rows, len(names)))
frame = SeriesFrame.from_arrays(np.arange(rows) * 300.0, values, entities=entities,
                                metrics=names)
from kizashi.detectors.fitted_model import fit_detector
from kizashi.engine.batch import score_frame
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if command == "fit":
    fit_detector(detector, values, frame.epoch_seconds, params)
else:
    score_frame(frame, detector, params)
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024))
"""


def main() -> int:
    from kizashi.engine.memory import estimate_bytes

    print(f"{'command':8} {'detector':10} {'params':22} {'rows':>6} {'series':>7} "
          f"{'estimate MiB':>13} {'measured MiB':>13} {'ratio':>6}")
    for command, detector, params, rows, metrics in CASES:
        if command == "fit":
            parts = estimate_bytes(detector, params, 0, metrics, rows)
        else:
            parts = estimate_bytes(detector, params, rows, metrics)
        estimate = sum(parts.values())
        run = subprocess.run([sys.executable, "-c", _CHILD,
                              json.dumps([command, detector, params, rows, metrics])],
                             capture_output=True, text=True, check=True)
        measured = int(run.stdout.split()[-1])
        print(f"{command:8} {detector:10} {json.dumps(params):22} {rows:>6} "
              f"{sum(metrics):>7} {estimate / 2**20:>13.0f} {measured / 2**20:>13.0f} "
              f"{estimate / max(measured, 1):>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
