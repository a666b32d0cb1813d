"""NAB benchmark: kizashi's detectors on the full corpus, next to NAB's scoreboard.

Runs ``kizashi bench nab --detector NAME`` for each detector named on the
command line (default: the ``threshold`` detector), then re-scores NAB's
shipped result files with ``kizashi bench nab --results``, printing the tables
and the wall time of each run. Usage::

    .venv/bin/python benchmarks/nab.py [NAME ...] [--out DIR]

The data come from ``kizashi.data.paths.dataset_root()`` (``KIZASHI_DATA``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kizashi.cli.bench import nab
from kizashi.data.paths import dataset_dir


def run(arguments: list[str]) -> float:
    started = time.perf_counter()
    nab.main(arguments, standalone_mode=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("detectors", nargs="*", default=["threshold"])
    parser.add_argument("--out", type=Path, help="keep the result files here")
    args = parser.parse_args()
    root = dataset_dir("nab")
    if root is None:
        raise SystemExit("NAB data not found: set KIZASHI_DATA to a folder holding nab/")
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        timings = {}
        for name in args.detectors:
            print(f"== kizashi bench nab --detector {name}")
            timings[name] = run(["--detector", name, "--out", str(out), "--no-progress"])
        if (root / "results").is_dir():
            print("== kizashi bench nab --results <shared>/nab/results")
            timings["shipped results (scoring only)"] = run(["--results", str(root / "results")])
    print("wall time")
    for name, seconds in timings.items():
        print(f"  {name:<32} {seconds:6.1f} s")


if __name__ == "__main__":
    main()
