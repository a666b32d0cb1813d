"""Warning runs of kizashi and the predict_linear rule on look-alike families, side by side.

Prints (it is not a test), for every series of the chosen families of
:mod:`kizashi.data.precursor_families`, each run of warning steps — its first and last
row and the value where it starts — for kizashi and for ``predict_linear(metric[6h], 6h)
>= limit``; where kizashi has more runs than the rule, the lines show whether they are one
per step up, a flicker, or warnings on leaks the rule missed. Each kizashi run also says
what raised it: ``p`` (the probability at its first step) and the forecaster chosen there,
or ``runaway``, or the warm-up trend line; and the value an hour before (a step up shows
as a jump). The totals give the runs and the hours of warning of each::

    .venv/bin/python benchmarks/prediction_lookalikes.py                  # seeds 0–2
    .venv/bin/python benchmarks/prediction_lookalikes.py --families leak_restarted --seeds 3
    .venv/bin/python benchmarks/prediction_lookalikes.py --seeds 10       # seeds 0–9
"""

from __future__ import annotations

import argparse

import numpy as np

from kizashi.data.precursor_families import generate_families
from kizashi.prediction.limit_forecaster import MODELS
from kizashi.prediction.predictor import (
    DEFAULT_CUTOFF,
    forecaster_for,
    rise_steps,
)
from prediction import HORIZON, kizashi_predict, prometheus_warnings, runs


def _why(frame, result, j: int, start: int) -> str:
    """What raised the run starting at ``start``: the probability and the forecaster chosen,
    or the runaway test; and the value an hour before."""
    values = frame.values[:, [j]]
    step = float(np.median(np.diff(frame.timestamps.astype(np.int64)))) / 1e9
    p = result.probability[start, j]
    hour = max(start - rise_steps(step), 0)
    if np.isnan(p):  # no probability yet: the warm-up trend line's warning
        return f"warm-up trend line, {frame.values[hour, j]:.1f} an hour before"
    if not p >= DEFAULT_CUTOFF:
        return f"runaway, {frame.values[hour, j]:.1f} an hour before"
    out = forecaster_for(step, HORIZON).crossing(values[:start + 1],
                                                 upper=np.array([result.limits[j]]))
    return (f"p {p:.2f} {MODELS[out.model[start, 0]]}, "
            f"{frame.values[hour, j]:.1f} an hour before")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default="steps_plateau,leak_restarted")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0 … N−1")
    args = parser.parse_args()
    chosen = set(args.families.split(","))
    totals = {"kizashi": 0, "predict_linear": 0}
    hours = {"kizashi": 0.0, "predict_linear": 0.0}
    for seed in range(args.seeds):
        scenario = generate_families(seed=seed)
        frame = scenario.frame
        result = kizashi_predict(scenario)  # as kizashi predict: with the warm-up line
        rule = prometheus_warnings(scenario)
        for entity, metric, kind in scenario.lookalikes:
            if kind not in chosen:
                continue
            j = frame.keys.index((entity, metric))
            ours, theirs = runs(result.warning[:, j]), runs(rule[:, j])
            totals["kizashi"] += len(ours)
            totals["predict_linear"] += len(theirs)
            per_hour = 3600.0 / scenario.step_seconds
            hours["kizashi"] += sum(b - a for a, b in ours) / per_hour
            hours["predict_linear"] += sum(b - a for a, b in theirs) / per_hour
            shown = ", ".join(f"{a}–{b - 1} (from {frame.values[a, j]:.1f}; "
                              f"{_why(frame, result, j, a)})" for a, b in ours)
            print(f"seed {seed} {kind:<15} {entity}: kizashi {len(ours)} [{shown}]; "
                  f"rule {len(theirs)} [{', '.join(f'{a}–{b - 1}' for a, b in theirs)}]")
    print(f"\nruns in all: kizashi {totals['kizashi']}, predict_linear {totals['predict_linear']}")
    print(f"hours of warning: kizashi {hours['kizashi']:.0f}, "
          f"predict_linear {hours['predict_linear']:.0f}")


if __name__ == "__main__":
    main()
