"""What the watch's ``predict: {warmup_trend: true}`` costs the live predictor while it learns.

N series with limit 100 (each rising at its own rate, with noise; none learnt yet) are fed
3 h of 5-minute rows, then steady steps (one new row each, as a watch's tick) are timed
with the warm-up trend line off and on, interleaved in the same process; the script prints
the median milliseconds per step of each and their ratio. Once every series has a
probability (about 42 h at 5m/6h) the line is not drawn and only its ring is written.

Run::

    PYTHONPATH=src python benchmarks/warmup_trend_live.py --sizes 10,100,1000
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from kizashi.prediction.live import LivePredictor

STEP = 300.0


def _rows(n: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    seconds = np.arange(steps) * STEP
    rates = rng.uniform(0.5, 15.0, n)
    values = 20 + seconds[:, None] / 3600 * rates + rng.normal(0, 0.5, (steps, n))
    return seconds, np.minimum(values, 100.0)


def step_ms(n: int, steps: int) -> tuple[float, float]:
    """Median milliseconds per one-row step, without and with the line."""
    warm = int(3 * 3600 / STEP)
    seconds, values = _rows(n, warm + steps)
    limits = np.full(n, 100.0)
    predictors = {trend: LivePredictor(STEP, limits, "6h", warmup_trend=trend)
                  for trend in (False, True)}
    for live in predictors.values():
        live.update(seconds[:warm], values[:warm])
    spent: dict[bool, list[float]] = {False: [], True: []}
    for i in range(warm, warm + steps):
        for trend, live in predictors.items():
            start = time.perf_counter()
            live.update(seconds[i:i + 1], values[i:i + 1])
            spent[trend].append(time.perf_counter() - start)
    return (1e3 * statistics.median(spent[False]), 1e3 * statistics.median(spent[True]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="numbers of series")
    parser.add_argument("--steps", type=int, default=24, help="steps timed per size")
    args = parser.parse_args(argv)
    print("| series | step, line off | step, line on | ratio |")
    print("|---:|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        off, on = step_ms(n, args.steps)
        print(f"| {n:,} | {off:.2f} ms | {on:.2f} ms | {on / off:.2f} |")


if __name__ == "__main__":
    main()
