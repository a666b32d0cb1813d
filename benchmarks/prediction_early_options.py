"""How the warm-up trend line was chosen: options measured on the development seeds only.

For each option of the line (:mod:`kizashi.prediction.warmup_trend`) this prints, on
seeds 100–104 of three sets — the early scenario of ``benchmarks/prediction_early.py``
(4-day files, precursors from 6 h on), the main scenario of ``benchmarks/prediction.py``
(8 days, precursors from 36 h on) and the families of ``--families`` — kizashi's mean
lead over the warned failures, the missed failures and the false-warning runs:

* ``no line`` — ``kizashi predict --no-warmup-trend``;
* ``line, no cycle gate`` — the line as it was before its warnings passed the cycle gate;
* ``line (default)`` — what ``kizashi predict`` does;
* ``+ rise gate`` — also the forecasters' rise gate (the last hour heads for the limit);
* ``+ 2 h hysteresis`` — a line warning held 2 h, as the forecasters' are;
* ``band 95 % / 99 % / 99.9 %`` — a stricter lower edge of the line's band than 90 %.

The reported seeds (0–9, 10–19) play no part. Run::

    PYTHONPATH=src:benchmarks python benchmarks/prediction_early_options.py
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import numpy as np

import kizashi.prediction.warmup_trend as warmup_trend
from kizashi.data.precursor_families import generate_families
from kizashi.data.precursors import PrecursorScenario, generate_precursors
from kizashi.prediction.predictor import (
    RESOLVE_SECONDS,
    PredictionResult,
    predict_frame,
    rise_steps,
    warnings_from,
)
from kizashi.prediction.rise_gate import rise_gate
from kizashi.streaming.magnitudes import magnitude_factors
from prediction import HORIZON, evaluate

DEVELOPMENT_SEEDS = range(100, 105)

SETS: dict[str, Callable[[int], PrecursorScenario]] = {
    "early (4 d, from 6 h)": lambda seed: generate_precursors(seed=seed, days=4,
                                                             min_history_days=0.25),
    "main scenario": lambda seed: generate_precursors(seed=seed),
    "families": lambda seed: generate_families(seed=seed),
}


def _line(result: PredictionResult, values: np.ndarray, cycle: bool = True,
          rise: bool = False, hold: bool = False) -> np.ndarray:
    """The warnings with the line's, under the option (the default: ``cycle`` alone)."""
    seconds = result.timestamps.astype("datetime64[ns]").astype(np.int64) / 1e9
    crosses, _ = warmup_trend.trend_crossings(seconds, values, result.limits,
                                              result.horizon_seconds)
    if cycle and result.cycle_open is not None:
        crosses &= result.cycle_open
    step = float(np.median(np.diff(seconds)))
    if rise:
        factor = magnitude_factors(values)
        crosses &= rise_gate(values * factor, result.limits * factor, rise_steps(step),
                             round(result.horizon_seconds / step))
    if hold:
        crosses = warnings_from(crosses.astype(float), 0.5,
                                max(round(RESOLVE_SECONDS / step), 1))
    early = crosses & warmup_trend.learning_rows(result.probability) & ~result.warning
    return result.warning | early


def _banded(confidence: float) -> Callable[[PredictionResult, np.ndarray], np.ndarray]:
    def warn(result: PredictionResult, values: np.ndarray) -> np.ndarray:
        default = warmup_trend.CONFIDENCE
        warmup_trend.CONFIDENCE = confidence
        try:
            return _line(result, values)
        finally:
            warmup_trend.CONFIDENCE = default
    return warn


OPTIONS: dict[str, Callable[[PredictionResult, np.ndarray], np.ndarray]] = {
    "no line": lambda result, values: result.warning,
    "line, no cycle gate": lambda result, values: _line(result, values, cycle=False),
    "line (default)": _line,
    "+ rise gate": lambda result, values: _line(result, values, rise=True),
    "+ 2 h hysteresis": lambda result, values: _line(result, values, hold=True),
    "band 95 %": _banded(0.95),
    "band 99 %": _banded(0.99),
    "band 99.9 %": _banded(0.999),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    cells: dict[tuple[str, str], str] = {}
    for name, make in SETS.items():
        leads: dict[str, list] = {option: [] for option in OPTIONS}
        false = dict.fromkeys(OPTIONS, 0)
        for seed in DEVELOPMENT_SEEDS:
            scenario = make(seed)
            result = predict_frame(scenario.frame, HORIZON, scenario.limits)
            for option, warn in OPTIONS.items():
                scored = evaluate(scenario, warn(result, scenario.frame.values))
                leads[option] += [lead for _, lead in scored["leads"]]
                false[option] += sum(scored["false"].values())
        for option in OPTIONS:
            got = [x for x in leads[option] if x is not None]
            cells[name, option] = (f"{statistics.mean(got):.2f} h, "
                                   f"{len(leads[option]) - len(got)}, {false[option]}")
    print(f"development seeds {DEVELOPMENT_SEEDS.start}–{DEVELOPMENT_SEEDS.stop - 1}: "
          "mean lead over the warned failures, missed, false-warning runs")
    print("| option | " + " | ".join(SETS) + " |")
    print("|---|" + "---|" * len(SETS))
    for option in OPTIONS:
        print(f"| {option} | " + " | ".join(cells[name, option] for name in SETS) + " |")


if __name__ == "__main__":
    main()
