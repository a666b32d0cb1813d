"""The ``discord`` detector's batch speed: the compiled kernel against the numpy
implementation it replaced and against a vectorised numpy search (issue 14).

Prints a table (it is not a test). Run from the repository root::

    .venv/bin/python benchmarks/discord_speed.py           # 1 series; 1,000 series
    .venv/bin/python benchmarks/discord_speed.py --quick   # fewer steps and series

The cost of a step grows with the windows it can be compared with, up to
``history`` (2000, ``window`` 32): every detector is first fed ``2 * window - 1
+ history`` untimed steps, so the timed steps are the steady state. Timed, one
core (numba pinned to one thread), the median of ``--repeats`` runs after a
JIT warm-up, on :func:`benchmarks.detectors.synthetic` series:

* ``kernel``: today's batch path (``update_many``) on 1 series and on 1,000, and
  on 1,000 series one step a call (a watch daemon's ticks: the plain search);
* ``before``: the numpy implementation it replaced, read from git (the parent of
  the commit that added ``discord_kernel.py``, or ``--before REV``), on 1 series
  and on ``--old-series`` of the 1,000 (it looped over series, so its points/s
  does not depend on how many); its scores are compared with the kernel's
  (``identical``: bit for bit, NaN where NaN);
* ``numpy search``: the vectorised numpy equivalent of the search alone (blocks
  of queries × candidates × window, over several series at once, no wild-value
  rule), the "best vectorised equivalent" of issue 14.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
              "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from detectors import synthetic  # noqa: E402
from kizashi.detectors.pattern.discord import DiscordDetector  # noqa: E402

WINDOW, HISTORY = 32, 2000
KERNEL = "src/kizashi/detectors/pattern/discord_kernel.py"
MODULE = "src/kizashi/detectors/pattern/discord.py"


def old_detector_class(rev: str | None) -> type | None:
    """The numpy ``DiscordDetector`` as it was before the kernel (None without git)."""
    root = Path(__file__).resolve().parent.parent
    try:
        if rev is None:
            added = subprocess.run(["git", "-C", str(root), "log", "--diff-filter=A",
                                    "--format=%H", "--", KERNEL], capture_output=True,
                                   text=True, check=True).stdout.split()
            rev = f"{added[-1]}^"
        text = subprocess.run(["git", "-C", str(root), "show", f"{rev}:{MODULE}"],
                              capture_output=True, text=True, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError, IndexError):
        return None
    path = Path(tempfile.mkdtemp()) / "discord_before.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("discord_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DiscordDetector


def numpy_search(values: np.ndarray, block: int = 16, series_block: int = 8) -> np.ndarray:
    """Nearest-window RMS distance of every step of ``values`` (steps × series; the first
    ``2 * WINDOW - 1 + HISTORY`` steps are history only), vectorised with numpy."""
    first = 2 * WINDOW - 1 + HISTORY
    steps, n_series = values.shape
    out = np.empty((steps - first, n_series))
    for s in range(0, n_series, series_block):
        windows = sliding_window_view(values[:, s:s + series_block], WINDOW, axis=0)
        for a in range(first, steps, block):
            b = min(steps, a + block)
            ends = np.arange(a, b)
            queries = windows[ends - WINDOW + 1]                  # q × series × w
            candidates = windows[a - WINDOW - HISTORY - WINDOW + 1:b - 2 * WINDOW + 1]
            squared = ((queries[:, None] - candidates[None]) ** 2).sum(axis=3)
            offsets = np.arange(candidates.shape[0])[None, :] + a - WINDOW - HISTORY
            usable = ((offsets <= ends[:, None] - WINDOW)
                      & (offsets >= ends[:, None] - WINDOW - HISTORY))
            squared = np.where(usable[:, :, None], squared, np.inf)
            out[a - first:b - first, s:s + series_block] = np.sqrt(squared.min(axis=1) / WINDOW)
    return out


def steady(cls: type, values: np.ndarray, warm: int) -> Callable[[], Callable[[], Any]]:
    """A detector already fed ``values[:warm]``; calling the result scores the rest."""
    def prepare() -> Callable[[], Any]:
        detector = cls(window=WINDOW, history=HISTORY)
        detector.update_many(values[:warm])
        return lambda: detector.update_many(values[warm:])
    return prepare


def stepped(cls: type, values: np.ndarray, warm: int) -> Callable[[], Callable[[], Any]]:
    """As :func:`steady`, but the rest comes one step per call (a watch daemon's ticks)."""
    def prepare() -> Callable[[], Any]:
        detector = cls(window=WINDOW, history=HISTORY)
        detector.update_many(values[:warm])
        return lambda: [detector.update_many(values[i:i + 1]) for i in range(warm, len(values))]
    return prepare


def timed(prepare: Callable[[], Callable[[], Any]], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        run = prepare()
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and series")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (median)")
    parser.add_argument("--old-series", type=int, default=None,
                        help="series the old implementation scores (default 10; quick 3)")
    parser.add_argument("--before", default=None, help="git revision of the old code")
    args = parser.parse_args(argv)
    warm = 2 * WINDOW - 1 + HISTORY
    one_steps, many_steps, many = (2_000, 200, 1_000) if args.quick else (10_000, 500, 1_000)
    old_series = args.old_series or (3 if args.quick else 10)
    old = old_detector_class(args.before)

    single = synthetic(warm + one_steps, 1, seed=1)
    cluster = synthetic(warm + many_steps, many, seed=2)
    steady(DiscordDetector, single[:warm + 100], warm)()()  # JIT compilation
    rows = []

    def row(label: str, points: int, seconds: float) -> float:
        rows.append((label, points, points / seconds))
        return points / seconds

    new_one, scores_one = timed(steady(DiscordDetector, single, warm), args.repeats)
    fast_one = row("kernel, 1 series", one_steps, new_one)
    new_many, scores_many = timed(steady(DiscordDetector, cluster, warm), args.repeats)
    fast_many = row(f"kernel, {many:,} series", many_steps * many, new_many)
    ticks = cluster[:warm + (5 if args.quick else 20)]
    tick_time, _ = timed(stepped(DiscordDetector, ticks, warm), args.repeats)
    fast_ticks = row(f"kernel, {many:,} series, 1 step a call", (len(ticks) - warm) * many,
                     tick_time)
    sub = cluster[:, :old_series]
    search, _ = timed(lambda: lambda: numpy_search(sub), args.repeats)
    anchor = row(f"numpy search, {old_series} series", many_steps * old_series, search)
    identical = []
    if old is not None:
        old_one, before_one = timed(steady(old, single, warm), 1)
        slow_one = row("before (numpy), 1 series", one_steps, old_one)
        old_many, before_many = timed(steady(old, sub, warm), 1)
        slow_many = row(f"before (numpy), {old_series} series", many_steps * old_series,
                        old_many)
        old_ticks, _ = timed(stepped(old, ticks[:, :old_series], warm), 1)
        slow_ticks = row(f"before (numpy), {old_series} series, 1 step a call",
                         (len(ticks) - warm) * old_series, old_ticks)
        identical = [np.array_equal(np.ravel(before_one), np.ravel(scores_one), equal_nan=True),
                     np.array_equal(np.reshape(before_many, sub[warm:].shape),
                                    np.reshape(scores_many, cluster[warm:].shape)[:, :old_series],
                                    equal_nan=True)]

    print(f"discord (window {WINDOW}, history {HISTORY}), steady state after {warm} steps, "
          f"median of {args.repeats}")
    print(f"{'path':46s} {'points':>10s} {'points/s':>12s}")
    for label, points, rate in rows:
        print(f"{label:46s} {points:10,d} {rate:12,.0f}")
    if old is not None:
        print(f"speed-up over before: {fast_one / slow_one:.0f}x (1 series), "
              f"{fast_many / slow_many:.0f}x ({many:,} series vs {old_series})")
        print(f"speed-up over before, 1 step a call: {fast_ticks / slow_ticks:.0f}x")
        print(f"identical scores to before: {all(identical)}")
    else:
        print("before: no git history here, not timed")
    print(f"slowdown vs numpy search (anchor pts/s / kernel pts/s): "
          f"{anchor / fast_many:.2f} ({many:,} series)")


if __name__ == "__main__":
    main()
