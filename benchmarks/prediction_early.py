"""Failures that build up while kizashi still learns: kizashi with and without the
warm-up line, against ``predict_linear``.

``benchmarks/prediction.py``'s scenario starts every precursor after 1.5 days of history,
so nearly all of its failures come after the forecasters' warm-up (about 42 h of 5-minute
data with a 6 h horizon). Here the same generator starts precursors from
``--history`` hours on (6 h by default) in a ``--days``-day file, so most failures build
up, or even happen, while every series is still learning; the look-alikes (growth that
stops, nightly cleanups, log rotation, high steady series …) also start early. For each
seed it runs

* ``kizashi, no line`` — :func:`~kizashi.prediction.predictor.predict_frame` alone
  (``kizashi predict --no-warmup-trend``): no warning before a series has learnt;
* ``kizashi`` — the same with the warm-up trend line
  (:func:`~kizashi.prediction.warmup_trend.with_trend`), the default of ``kizashi
  predict`` and of a watch's ``predict:``;
* ``predict_linear`` — Prometheus' ``predict_linear(m[6h], 6h) >= limit``;

and prints, per method, the mean lead over all failures (a miss counts as no lead and is
counted apart), the misses, and false-warning runs by look-alike kind. Seeds 100–104 are
the development seeds (anything chosen from this script is chosen there); 0–9 are
reported.

Run::

    PYTHONPATH=src:benchmarks python benchmarks/prediction_early.py --first-seed 100 --seeds 5
    PYTHONPATH=src:benchmarks python benchmarks/prediction_early.py
"""

from __future__ import annotations

import argparse
import statistics

from kizashi.data.precursors import generate_precursors
from kizashi.prediction.predictor import predict_frame
from kizashi.prediction.warmup_trend import with_trend
from prediction import HORIZON, evaluate, prometheus_warnings

METHODS = ("kizashi, no line", "kizashi", "predict_linear")


def scored_seed(seed: int, days: int, history_hours: float) -> dict[str, dict]:
    """:func:`prediction.evaluate` of every method on one seed's early scenario."""
    scenario = generate_precursors(seed=seed, days=days, min_history_days=history_hours / 24)
    result = predict_frame(scenario.frame, HORIZON, scenario.limits)
    lined, _ = with_trend(result, scenario.frame.values)
    warnings = {"kizashi, no line": result.warning, "kizashi": lined.warning,
                "predict_linear": prometheus_warnings(scenario)}
    return {method: evaluate(scenario, warning) for method, warning in warnings.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="first seed (0: reported; 100: development)")
    parser.add_argument("--days", type=int, default=4, help="days per file")
    parser.add_argument("--history", type=float, default=6.0,
                        help="hours before the earliest precursor")
    args = parser.parse_args(argv)
    leads: dict[str, list] = {m: [] for m in METHODS}
    false: dict[str, dict[str, int]] = {m: {} for m in METHODS}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for method, scored in scored_seed(seed, args.days, args.history).items():
            leads[method] += [lead for _, lead in scored["leads"]]
            for cause, count in scored["false"].items():
                false[method][cause] = false[method].get(cause, 0) + count
    seeds = f"{args.first_seed}–{args.first_seed + args.seeds - 1}"
    print(f"seeds {seeds}, {args.days}-day files, precursors from {args.history:g} h on")
    print("| | " + " | ".join(METHODS) + " |")
    print("|---|" + "---:|" * len(METHODS))
    row = []
    for method in METHODS:
        got = [x for x in leads[method] if x is not None]
        row.append(f"{statistics.mean(got) if got else 0:.2f} h")
    print("| mean lead (warned failures) | " + " | ".join(row) + " |")
    print("| mean lead (a miss as 0 h) | " + " | ".join(
        f"{sum(x or 0 for x in leads[m]) / len(leads[m]):.2f} h" for m in METHODS) + " |")
    print("| missed | " + " | ".join(
        f"{sum(x is None for x in leads[m])} / {len(leads[m])}" for m in METHODS) + " |")
    for cause in sorted({c for m in METHODS for c in false[m]}):
        print(f"| false runs, {cause} | " + " | ".join(
            str(false[m].get(cause, 0)) for m in METHODS) + " |")
    print("| **false runs, total** | " + " | ".join(
        f"**{sum(false[m].values())}**" for m in METHODS) + " |")


if __name__ == "__main__":
    main()
