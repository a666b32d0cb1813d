"""Reading long-form metric files: kizashi's checked reader against plain pandas.

Prints a table (it is not a test). Each file is ``timestamp,entity,metric,value``
with ISO timestamps, written once into a temporary folder; each reader runs in a
fresh process, so its peak resident memory is its own. The anchor is
``pandas.read_csv`` with its own type inference and no checks, then a pivot to
one column per series (what ``read_series`` returns)::

    .venv/bin/python benchmarks/read_long.py                   # 0.2M, 1M and 2M rows
    .venv/bin/python benchmarks/read_long.py --rows 2000000    # one size
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

READERS = {
    "kizashi read_series": (
        "from kizashi.data.readers import read_series\n"
        "frame = read_series(PATH)\n"
        "shape = frame.values.shape\n"
    ),
    "pandas read_csv + pivot": (
        "import pandas as pd\n"
        "table = pd.read_csv(PATH)\n"
        "table['timestamp'] = pd.to_datetime(table['timestamp'], utc=True)\n"
        "wide = table.pivot_table(index='timestamp', columns=['entity', 'metric'],"
        " values='value', aggfunc='last')\n"
        "shape = wide.shape\n"
    ),
}


def write_file(path: Path, rows: int, nodes: int = 200, metrics: int = 10) -> None:
    """``rows`` observations: ``nodes`` × ``metrics`` series, one value a minute each."""
    import pandas as pd

    steps = max(1, rows // (nodes * metrics))
    rng = np.random.default_rng(0)
    stamps = pd.date_range("2026-01-01", periods=steps, freq="1min")
    stamps = stamps.strftime("%Y-%m-%dT%H:%M:%SZ")
    names = [(f"node{e:04d}", f"metric_{m:02d}") for e in range(nodes) for m in range(metrics)]
    with path.open("w") as handle:
        handle.write("timestamp,entity,metric,value\n")
        for stamp in stamps:
            values = rng.normal(50, 10, len(names))
            handle.write("".join(f"{stamp},{e},{m},{v:.3f}\n"
                                 for (e, m), v in zip(names, values, strict=True)))


def measure(code: str, path: Path) -> tuple[float, float, float, str]:
    """CPU seconds, wall seconds and peak resident MB of ``code`` in a fresh process."""
    script = (
        "import resource, time, sys\n"
        f"PATH = {str(path)!r}\n"
        "start, cpu = time.perf_counter(), time.process_time()\n"
        + code +
        "print(time.process_time() - cpu, time.perf_counter() - start,"
        " resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, shape)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    cpu, wall, peak, *shape = result.stdout.split()
    return float(cpu), float(wall), float(peak), " ".join(shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[200_000, 1_000_000, 2_000_000])
    args = parser.parse_args()
    print("| rows | file MB | reader | CPU s | wall s | peak MB | shape |")
    print("|---:|---:|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            path = Path(folder) / f"long_{rows}.csv"
            write_file(path, rows)
            size = path.stat().st_size / 1e6
            for name, code in READERS.items():
                cpu, wall, peak, shape = measure(code, path)
                print(f"| {rows:,} | {size:.0f} | {name} | {cpu:.2f} | {wall:.2f} | "
                      f"{peak:.0f} | {shape} |", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
