"""Warning runs of kizashi and the predict_linear rule on look-alike families, side by side.

Prints (it is not a test), for every series of the chosen families of
:mod:`kizashi.data.precursor_families`, each run of warning steps — its first and last
row and the value where it starts — for kizashi and for ``predict_linear(metric[6h], 6h)
>= limit``; where kizashi has more runs than the rule, the lines show whether they are one
per step up, a flicker, or warnings on leaks the rule missed::

    .venv/bin/python benchmarks/prediction_lookalikes.py                  # seeds 0–2
    .venv/bin/python benchmarks/prediction_lookalikes.py --families leak_restarted --seeds 3
"""

from __future__ import annotations

import argparse

from kizashi.data.precursor_families import generate_families
from kizashi.prediction.predictor import predict_frame
from prediction import HORIZON, prometheus_warnings, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default="steps_plateau,leak_restarted")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0 … N−1")
    args = parser.parse_args()
    chosen = set(args.families.split(","))
    totals = {"kizashi": 0, "predict_linear": 0}
    for seed in range(args.seeds):
        scenario = generate_families(seed=seed)
        frame = scenario.frame
        result = predict_frame(frame, HORIZON, scenario.limits)
        rule = prometheus_warnings(scenario)
        for entity, metric, kind in scenario.lookalikes:
            if kind not in chosen:
                continue
            j = frame.keys.index((entity, metric))
            ours, theirs = runs(result.warning[:, j]), runs(rule[:, j])
            totals["kizashi"] += len(ours)
            totals["predict_linear"] += len(theirs)
            shown = ", ".join(f"{a}–{b - 1} (from {frame.values[a, j]:.1f})" for a, b in ours)
            print(f"seed {seed} {kind:<15} {entity}: kizashi {len(ours)} [{shown}]; "
                  f"rule {len(theirs)} [{', '.join(f'{a}–{b - 1}' for a, b in theirs)}]")
    print(f"\nruns in all: kizashi {totals['kizashi']}, predict_linear {totals['predict_linear']}")


if __name__ == "__main__":
    main()
