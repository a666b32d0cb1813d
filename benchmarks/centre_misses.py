"""Why the default detector misses a centre incident: one line per missed incident.

For each seed of a scenario variant, runs the default detector (``ensemble``)
through the engine as ``kizashi bench centre`` does, and for every incident
with no alert prints the incident, the first series' values during it against
the week and the four weeks before it, the highest entity level the engine
reached during it (the alert line is 0.6), and the threshold member's raw
z-scores of that series scored alone (no day profile, then with it): what the
likelihood saw, and the mean and spread it had fitted to its moving averages.

    PYTHONPATH=src python benchmarks/centre_misses.py --variant noisy --seed 106
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from kizashi.data.centre_variants import VARIANTS, variant_centre
from kizashi.detectors.ensemble import EnsembleDetector
from kizashi.engine.batch import score_frame
from kizashi.evaluation.centre import judge, output_columns

WEEK = 2016


def raw_z(values: np.ndarray, t: np.ndarray, params: dict[str, Any]) -> tuple[np.ndarray, dict]:
    """The threshold member's raw z-scores of one series (and the likelihood's fitted state)."""
    detector = EnsembleDetector(**params)
    detector.reset(1)
    seen: dict[str, Any] = {}
    calibrate = detector._calibrate

    def capture(state: dict, key: str, raw: np.ndarray) -> np.ndarray:
        out = calibrate(state, key, raw)
        if key == "l_threshold":
            seen.update(raw=raw[:, 0].copy(), mean=float(state[key]["mean"][0]),
                        std=float(state[key]["std"][0]))
        return out

    detector._calibrate = capture  # type: ignore[method-assign]
    detector._score_batch(detector.state_, values[:, None], t)
    return seen["raw"], seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", default="base", choices=sorted(VARIANTS))
    parser.add_argument("--seed", type=int, action="append", required=True)
    parser.add_argument("--kind", help="also every caught incident of this kind")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="a parameter of the default detector (repeatable)")
    args = parser.parse_args()
    from kizashi.cli.detect import parse_params

    chosen = parse_params(tuple(args.param))
    for seed in args.seed:
        scenario = variant_centre(args.variant, seed=seed)
        frame = scenario.frame
        result = score_frame(frame, "ensemble", chosen)
        flags = np.asarray(result.flags, dtype=bool)
        covers = output_columns(scenario, result)
        counted = judge(scenario, "ensemble", flags, 0.0, covers)
        print(f"{args.variant} seed {seed}: {counted.caught}/{counted.n_incidents} caught, "
              f"{counted.false_runs} false runs")
        keys = list(frame.keys)
        for incident in scenario.incidents:
            column = keys.index(incident.series[0])
            output = next(k for k, cols in enumerate(covers) if column in cols)
            start, end = incident.start, incident.end + 1
            caught = bool(flags[start:end, output].any())
            if caught and incident.kind != args.kind:
                continue
            x = frame.values[:, column]
            week, month = x[max(0, start - WEEK):start], x[max(0, start - 4 * WEEK):start]
            level = np.nanmax(np.asarray(result.scores)[start:end, output])
            verdict = "caught" if caught else "missed"
            print(f"  {verdict} {incident.kind} on {incident.series[0]}: {end - start} steps "
                  f"from hour {(start % 288) / 12:.2f}; values {np.nanmean(x[start:end]):.1f} "
                  f"against the week {np.nanmean(week):.1f} ± {np.nanstd(week):.1f}, four "
                  f"weeks {np.nanmean(month):.1f} ± {np.nanstd(month):.1f}; "
                  f"highest level {level:.3f}")
            for label, params in (("rolling z", {**chosen, "seasonal": False}),
                                  ("with day profile", chosen)):
                z, fitted = raw_z(x, frame.epoch_seconds, params)
                before = z[start - WEEK:start]
                print(f"    {label}: during mean {np.nanmean(z[start:end]):.2f} "
                      f"(min {np.nanmin(z[start:end]):.2f}); the week before median "
                      f"{np.nanmedian(before):.2f}, p90 {np.nanpercentile(before, 90):.2f}; "
                      f"likelihood fitted mean {fitted['mean']:.2f}, std {fitted['std']:.2f}")


if __name__ == "__main__":
    main()
