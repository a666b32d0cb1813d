"""Anomaly likelihood: speed of ``transform`` over long blocks and of one ``update``.

Prints a table (it is not a test). Run from the repository root::

    .venv/bin/python benchmarks/calibration.py

Each line is the median of 3 timed runs after one untimed warm-up run, with
:class:`kizashi.decision.likelihood.AnomalyLikelihood` at its defaults, on
seeded Gamma(2, 0.3) scores with a few bursts. ``rows/s`` counts time steps,
``scores/s`` time steps times series:

* ``transform`` of a (22,000 x 1) block (a long NAB file) and of a
  (2,000 x 1,000) block, both from a fresh calibrator, so the fits see short
  histories; then the (2,000 x 1,000) block again after 10,000 learned rows,
  when every fit reads the full 8,640-score history;
* ``update`` of one row of 10,000 series (the daemon's tick), on a tick
  without a fit (99 in 100) and on a tick where every series re-fits its full
  history.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from kizashi.decision.likelihood import AnomalyLikelihood
from kizashi.state import copy_state

REPEATS = 3


def scores(n_rows: int, n_series: int, seed: int = 0) -> np.ndarray:
    """Gamma noise with a burst of large scores every 1,000 rows."""
    rng = np.random.default_rng(seed)
    out = rng.gamma(2.0, 0.3, size=(n_rows, n_series))
    out[500::1000] += 4.0
    return out


def median_seconds(setup: Callable[[], object], run: Callable[[object], object]) -> float:
    """Median wall time of ``run(setup())`` over :data:`REPEATS` runs, after a warm-up."""
    run(setup())
    times = []
    for _ in range(REPEATS):
        prepared = setup()
        started = time.perf_counter()
        run(prepared)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def transform_case(n_rows: int, n_series: int, learned_before: int = 0) -> float:
    """Seconds for one ``transform`` of an (n_rows, n_series) block."""
    block = scores(n_rows, n_series, seed=1)
    warm = AnomalyLikelihood().reset(n_series)
    if learned_before:
        warm.transform(scores(learned_before, n_series, seed=2))
    saved = warm.state_

    def setup() -> AnomalyLikelihood:
        calibrator = AnomalyLikelihood()
        calibrator.state_ = copy_state(saved)
        return calibrator

    return median_seconds(setup, lambda calibrator: calibrator.transform(block))


def update_case(n_series: int, count: int) -> float:
    """Seconds for one ``update`` of ``n_series`` series that have learned ``count`` scores."""
    calibrator = AnomalyLikelihood().reset(n_series)
    state = calibrator.state_
    assert state is not None
    rng = np.random.default_rng(3)
    state["history"][:] = rng.gamma(2.0, 0.3, size=state["history"].shape)
    state["last_average"][:] = 0.6
    state["mean"][:], state["std"][:] = 0.6, 0.1
    state["count"][:] = count
    row = scores(1, n_series, seed=4)[0]

    def setup() -> AnomalyLikelihood:
        restored = AnomalyLikelihood()
        restored.state_ = copy_state(state)
        return restored

    return median_seconds(setup, lambda restored: restored.update(row))


def main() -> None:
    window = AnomalyLikelihood().history_window
    cases = [
        ("transform", "22,000 x 1", 22_000, 1, lambda: transform_case(22_000, 1)),
        ("transform", "2,000 x 1,000", 2_000, 1_000, lambda: transform_case(2_000, 1_000)),
        ("transform", "2,000 x 1,000, full history", 2_000, 1_000,
         lambda: transform_case(2_000, 1_000, learned_before=10_000)),
        ("update", "1 x 10,000, no fit due", 1, 10_000, lambda: update_case(10_000, 10_050)),
        ("update", "1 x 10,000, all fit", 1, 10_000,
         lambda: update_case(10_000, 100 * (window // 100 + 1) - 1)),
    ]
    print(f"{'method':<10} {'block (time x series)':<30} {'seconds':>10} {'rows/s':>12} "
          f"{'scores/s':>12}")
    for method, label, n_rows, n_series, case in cases:
        seconds = case()
        print(f"{method:<10} {label:<30} {seconds:>10.4f} {n_rows / seconds:>12,.0f} "
              f"{n_rows * n_series / seconds:>12,.0f}")


if __name__ == "__main__":
    main()
