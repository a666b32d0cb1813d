"""The fast rise after flat days that kizashi used to miss: its first warning against the rule's.

Prints (it is not a test), for one failing series of a scenario variant — by default the
``many_1000`` seed 0 filesystem (``node547 fs_used_pct``: 3.5 days flat at 42 %, then t³-like
to 100 % over 6.6 h) — the step, value, probability and ETA of kizashi's first warning
during the precursor, and the lead of Prometheus' ``predict_linear(metric[6h], 6h) >= limit``::

    .venv/bin/python benchmarks/prediction_fast_rise.py
    .venv/bin/python benchmarks/prediction_fast_rise.py --variant fast_2h --seed 1 --entity node003
"""

from __future__ import annotations

import argparse

import numpy as np

from kizashi.data.precursor_variants import make_variant
from kizashi.prediction.predictor import predict_frame
from prediction import HORIZON, prometheus_warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="many_1000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--entity", default="node547")
    parser.add_argument("--metric", default="fs_used_pct")
    args = parser.parse_args()
    scenario = make_variant(args.variant, args.seed)
    key = (args.entity, args.metric)
    failure = next((f for f in scenario.failures if (f.entity, f.metric) == key), None)
    if failure is None:
        parser.error(f"{args.entity} {args.metric} has no failure in {args.variant} seed "
                     f"{args.seed}")
    j = scenario.frame.keys.index(key)
    one = scenario.frame.take([j])              # series are predicted independently
    result = predict_frame(one, HORIZON, scenario.limits)
    hours = scenario.step_seconds / 3600.0
    lo, hi = failure.precursor_start, failure.failure
    print(f"{args.variant} seed {args.seed}, {args.entity} {args.metric} ({failure.kind}): "
          f"precursor {(hi - lo) * hours:.1f} h, limit {scenario.limit(args.metric)} at "
          f"{one.timestamps[hi]}")
    during = result.warning[lo:hi, 0]
    if during.any():
        k = lo + int(np.argmax(during))
        print(f"kizashi: first warning at {one.timestamps[k]} ({(hi - k) * hours:.2f} h ahead), "
              f"value {one.values[k, 0]:.1f}, probability {result.probability[k, 0]:.3f}, "
              f"ETA {result.eta[k, 0]}")
    else:
        print(f"kizashi: missed (largest probability during the precursor "
              f"{np.nanmax(result.probability[lo:hi, 0]):.3f})")
    print(f"kizashi: warning steps before the precursor: {int(result.warning[:lo, 0].sum())}")
    rule = prometheus_warnings(scenario)[lo:hi, j]
    print("predict_linear: " + (f"first warning {(hi - lo - int(np.argmax(rule))) * hours:.2f} h "
                                "ahead" if rule.any() else "missed"))


if __name__ == "__main__":
    main()
