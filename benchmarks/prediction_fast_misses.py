"""Per failure of a scenario variant: kizashi's first warning against the crossing.

Prints (it is not a test) one line per failure — kind, series, precursor length, the lead
of kizashi's first warning (or MISSED), the largest probability during the precursor —
and, for each miss, the last ``--rows`` steps before the crossing: value, probability,
whether the rise gate was open, the ETA::

    .venv/bin/python benchmarks/prediction_fast_misses.py                   # fast_2h, seeds 0–2
    .venv/bin/python benchmarks/prediction_fast_misses.py --seeds 100,101,102,103,104
    .venv/bin/python benchmarks/prediction_fast_misses.py --variant default --misses-only
"""

from __future__ import annotations

import argparse

import numpy as np

from kizashi.data.precursor_variants import make_variant
from kizashi.prediction.predictor import predict_frame, rise_steps
from kizashi.prediction.rise_gate import rise_gate
from prediction import HORIZON


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="fast_2h")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--rows", type=int, default=24, help="steps shown before each miss")
    parser.add_argument("--misses-only", action="store_true")
    args = parser.parse_args()
    missed = 0
    total = 0
    for seed in (int(s) for s in args.seeds.split(",")):
        scenario = make_variant(args.variant, seed)
        frame, step = scenario.frame, scenario.step_seconds
        result = predict_frame(frame, HORIZON, scenario.limits)
        hours = step / 3600.0
        for f in scenario.failures:
            total += 1
            j = frame.keys.index((f.entity, f.metric))
            lo, hi = f.precursor_start, f.failure
            during = result.warning[lo:hi, j]
            top = np.nanmax(np.r_[0.0, result.probability[lo:hi, j]])
            if during.any():
                if not args.misses_only:
                    lead = (hi - lo - int(np.argmax(during))) * hours
                    print(f"seed {seed} {f.kind:<18} {f.entity} {f.metric}: precursor "
                          f"{(hi - lo) * hours:.2f} h, first warning {lead:.2f} h ahead, "
                          f"largest p {top:.3f}")
                continue
            missed += 1
            print(f"seed {seed} {f.kind:<18} {f.entity} {f.metric}: precursor "
                  f"{(hi - lo) * hours:.2f} h, MISSED, largest p {top:.3f}")
            limit = np.array([scenario.limit(f.metric)])
            gate = rise_gate(frame.values[:, [j]], limit, rise_steps(step),
                             round(HORIZON / step))[:, 0]
            for row in range(max(lo - 2, hi - args.rows), hi + 1):
                eta = result.eta[row, j]
                print(f"    {(row - hi) * hours:+6.2f} h  value {frame.values[row, j]:7.2f}  "
                      f"p {result.probability[row, j]:.3f}  gate {'open' if gate[row] else '-':<4}"
                      f"  eta {'-' if np.isnat(eta) else str(eta)[:16]}")
    print(f"\n{missed} of {total} failures missed")


if __name__ == "__main__":
    main()
