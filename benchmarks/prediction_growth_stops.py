"""Why kizashi warns on rises that stop: its warnings on ``growth_stops`` look-alikes, on fit seeds.

Prints (it is not a test), on the fit seeds only (never the reported 0–9):

1. for each ``growth_stops`` series of seeds 100–105: its rise (hours, from → to, slope)
   and kizashi's warning runs, in hours from the rise's start, with the peak probability;
2. on seeds 100–109, false-warning runs and lead times of the default predictor and of
   the same without its bias shift (``bias_window=None``), to test whether the shift
   keeps warnings alive after a rise stops.

Run::

    PYTHONPATH=src python benchmarks/prediction_growth_stops.py
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from kizashi.data.precursors import generate_precursors
from kizashi.prediction import predictor
from prediction import HORIZON, evaluate, runs


def warning_runs(seeds: range) -> None:
    print("growth_stops: rise and kizashi's warning runs (hours from the rise's start, peak p)")
    for seed in seeds:
        scenario = generate_precursors(seed=seed)
        result = predictor.predict_frame(scenario.frame, HORIZON, scenario.limits)
        keys = scenario.frame.keys
        per_hour = 3600.0 / scenario.step_seconds
        for entity, metric, kind in scenario.lookalikes:
            if kind != "growth_stops":
                continue
            j = keys.index((entity, metric))
            v = scenario.frame.values[:, j]
            base, top = np.median(v[:50]), np.median(v[-50:])
            start, end = int(np.argmax(v > base + 1.0)), int(np.argmax(v > top - 1.0))
            cells = [f"{(a - start) / per_hour:.1f}–{(b - start) / per_hour:.1f} h "
                     f"(p {np.nanmax(result.probability[a:b, j]):.2f})"
                     for a, b in runs(result.warning[:, j])]
            print(f"seed {seed} {entity:<8} rise {(end - start) / per_hour:4.1f} h "
                  f"{base:3.0f} → {top:3.0f} %: {', '.join(cells) or 'no warning'}")


def without_bias(seeds: range) -> None:
    default = predictor.forecaster_for

    def no_bias(step: float, horizon: float):
        forecaster = default(step, horizon)
        forecaster.bias_window = None
        return forecaster

    print(f"\nseeds {seeds.start}–{seeds.stop - 1}: with and without the bias shift")
    for name, make in (("default", default), ("no bias shift", no_bias)):
        predictor.forecaster_for = make
        false: dict[str, int] = {}
        leads: list[float] = []
        for seed in seeds:
            scenario = generate_precursors(seed=seed)
            result = predictor.predict_frame(scenario.frame, HORIZON, scenario.limits)
            scored = evaluate(scenario, result.warning)
            for cause, count in scored["false"].items():
                false[cause] = false.get(cause, 0) + count
            leads += [lead or 0.0 for _, lead in scored["leads"]]
        predictor.forecaster_for = default
        print(f"{name:<14} growth_stops false-warning runs {false.get('growth_stops', 0):>3}, "
              f"all {sum(false.values()):>3}; mean lead {statistics.mean(leads):.2f} h")


if __name__ == "__main__":
    warning_runs(range(100, 106))
    without_bias(range(100, 110))
