"""Counters and gauges with counters' names, without a limit: what kizashi predict says.

Prints (it is not a test), over seeds 0 … N−1 of :mod:`kizashi.data.counter_families`
(6 days of 5-minute data, every series without a limit), per family and naming: the
series, how many got a warning, the false-warning runs (every warning on a counter is
false: its level has no band to leave), and the share of rows after the second day with a
probability. Counters are named with each of Prometheus' suffixes in turn (``_total``,
``_count``, ``_sum``, ``_bucket``, ``_created``) or plainly (``errors``); the named gauges
must keep their predictions, and the one leaving its band on day 4 must warn there::

    .venv/bin/python benchmarks/prediction_counters.py
    .venv/bin/python benchmarks/prediction_counters.py --seeds 3
"""

from __future__ import annotations

import argparse

import numpy as np

from kizashi.data.counter_families import (
    COUNTER_SUFFIXES_SEEN,
    DAY,
    LEAVING,
    named_gauges,
    odd_totals,
    restarting_bytes,
    sparse_errors,
)
from kizashi.data.frame import SeriesFrame
from kizashi.prediction.predictor import predict_frame
from prediction import HORIZON, runs

N = 6 * DAY


def families(seed: int) -> dict[str, np.ndarray]:
    return {"sparse_errors": np.column_stack([sparse_errors(N, seed * 10 + k)
                                              for k in range(3)]),
            "restarting_errors": np.column_stack([sparse_errors(N, seed * 10 + k, resets=True)
                                                  for k in range(3)]),
            "restarting_bytes": np.column_stack([restarting_bytes(N, seed * 10 + k)
                                                 for k in range(3)]),
            "odd_totals": odd_totals(N, seed),
            "named_gauges": named_gauges(N, seed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 … N−1")
    args = parser.parse_args()
    rows: dict[tuple[str, str], list[float]] = {}
    leaving_warned = [0, 0]
    for seed in range(args.seeds):
        for family, values in families(seed).items():
            for naming in ("named", "plain"):
                k = values.shape[1]
                metrics = [f"m{j}{COUNTER_SUFFIXES_SEEN[(seed + j) % 5]}" if naming == "named"
                           else f"m{j}" for j in range(k)]
                frame = SeriesFrame.from_arrays(np.arange(N) * 300.0, values,
                                                [f"n{j}" for j in range(k)], metrics)
                result = predict_frame(frame, HORIZON)
                got = rows.setdefault((family, naming), [0, 0, 0, 0.0, 0])
                got[0] += k
                got[1] += int(result.warning.any(axis=0).sum())
                got[2] += sum(len(runs(result.warning[:, j])) for j in range(k))
                got[3] += float(np.isfinite(result.probability[2 * DAY:]).mean()) * k
                if family == "named_gauges":
                    leaving_warned[naming == "plain"] += int(
                        result.warning[LEAVING[0]:LEAVING[1], 2].any())
    print(f"counter families, seeds 0–{args.seeds - 1}, no limit (anomaly ahead)\n")
    print(f"{'family':<18} {'names':<6} {'series':>6} {'warned':>6} {'runs':>5} "
          f"{'rows with p after day 2':>24}")
    for (family, naming), (k, warned, count, share, _) in rows.items():
        print(f"{family:<18} {naming:<6} {k:>6} {warned:>6} {count:>5} {share / k:>24.2f}")
    print(f"\nthe gauge leaving its band on day 4 warned there: named {leaving_warned[0]} of "
          f"{args.seeds}, plain {leaving_warned[1]} of {args.seeds}")


if __name__ == "__main__":
    main()
