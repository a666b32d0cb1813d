"""NAB: the default detector's variants on one split, in one process (how its NAB settings
were chosen).

Runs the ``ensemble`` through NAB's streaming runner
(:func:`kizashi.evaluation.nab_runner.run_detector`, exactly what ``kizashi bench
nab`` does) once per variant of :data:`VARIANTS` on the files of ``--split``
(the tuning fold by default: choose there, report the others) and prints the
three NAB profiles per variant. Each row is also ``kizashi bench nab --split
tune --param ...`` with the parameters printed (``rest_fraction=F``: ``--param
rest=N`` with N that fraction of a file's probationary period). Usage::

    .venv/bin/python benchmarks/nab_grid.py [--split tune] [--only NAME ...]

The data come from ``kizashi.data.paths.dataset_root()`` (``KIZASHI_DATA``).
"""

from __future__ import annotations

import argparse
import time

from kizashi.data.nab import load_nab_corpus
from kizashi.evaluation.nab import NabScorer, probationary_length
from kizashi.evaluation.nab_report import NAB_PROFILE_NAMES
from kizashi.evaluation.nab_runner import run_detector
from kizashi.evaluation.splits import NAB_SPLITS, select_nab

#: The runner's settings before the rest line and member weights (the first rows' setting).
#: The runner's settings before the one-sided pattern members and the context weight.
PREVIOUS: dict[str, object] = {"context_weight": 1.0, "pattern_two_sided": True}
BEFORE: dict[str, object] = {**PREVIOUS, "rest_tail": 1e-5, "threshold_weight": 1.0,
                             "discord_averaging_window": 20}
#: name -> ensemble parameters (on top of the NAB runner's settings); ``rest_fraction``
#: sets ``rest`` to that fraction of each file's probationary period.
VARIANTS: dict[str, dict[str, object]] = {
    "before: threshold + range rule, averaging 10": {**BEFORE, "discord_weight": 0.0,
                                                     "rest": 0, "averaging_window": 10,
                                                     "context_weight": 0.0},
    "threshold + range rule, averaging 20": {**BEFORE, "discord_weight": 0.0, "rest": 0,
                                             "context_weight": 0.0},
    "+ discord, averaging 10": {**BEFORE, "rest": 0, "averaging_window": 10,
                                "context_weight": 0.0, "discord_averaging_window": 10},
    "+ discord, averaging 20": {**BEFORE, "rest": 0, "context_weight": 0.0},
    "+ discord, averaging 20, rest probation/10": {**BEFORE, "context_weight": 0.0,
                                                   "rest_fraction": 0.1},
    "+ discord + context, averaging 20, rest probation/10": {**BEFORE, "rest_fraction": 0.1},
    "+ discord + context (8 levels, order 2), averaging 20, rest": {
        **BEFORE, "context_levels": 8, "context_order": 2, "rest_fraction": 0.1},
    "threshold + range rule, averaging 20, rest": {**BEFORE, "discord_weight": 0.0,
                                                   "context_weight": 0.0,
                                                   "rest_fraction": 0.1},
    "rest from a tail of 1e-4": {**BEFORE, "rest_tail": 1e-4, "rest_fraction": 0.1},
    "rest from a tail of 1e-4, rest probation/5": {**BEFORE, "rest_tail": 1e-4},
    "+ threshold weight 0.85": {**PREVIOUS, "discord_averaging_window": 20},
    "+ discord averaging 10 (chosen before)": {**PREVIOUS},
    "threshold weight 0.8": {**PREVIOUS, "threshold_weight": 0.8},
    "threshold weight 0.75": {**PREVIOUS, "threshold_weight": 0.75},
    "pattern members one-sided": {"context_weight": 1.0},
    "context weight 0.9": {"pattern_two_sided": True, "context_weight": 0.9},
    "context weight 0.95": {"pattern_two_sided": True},
    "context weight 0.85": {"pattern_two_sided": True, "context_weight": 0.85},
    "one-sided + context weight 0.95 (chosen)": {},
    "one-sided + context weight 0.9": {"context_weight": 0.9},
    "one-sided + context weight 0.95, threshold weight 0.8": {"threshold_weight": 0.8},
    "one-sided + context weight 0.95, threshold weight 0.825": {"threshold_weight": 0.825},
    "one-sided + context weight 0.95, threshold weight 0.875": {"threshold_weight": 0.875},
}


def run_variant(corpus, params: dict[str, object]) -> dict:
    """Scores of the ensemble with ``params`` on every file of ``corpus``."""
    params = dict(params)
    fraction = params.pop("rest_fraction", None)
    if fraction is None:
        return run_detector(corpus, "ensemble", params, calibration="auto", progress=False)
    scores = {}
    for series in corpus:  # the rest depends on each file's probationary period
        rest = int(probationary_length(len(series.values)) * float(fraction))
        scores.update(run_detector([series], "ensemble", {**params, "rest": rest},
                                   calibration="auto", progress=False))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=NAB_SPLITS, default="tune")
    parser.add_argument("--only", action="append", help="run only variants containing this")
    args = parser.parse_args()
    corpus = select_nab(load_nab_corpus(), args.split)
    scorer = NabScorer(corpus)
    print(f"NAB split {args.split}: {len(corpus)} files; ensemble variants")
    print(f"| variant | {' | '.join(NAB_PROFILE_NAMES)} | seconds | --param |")
    print("|---|---|---|---|---|---|")
    for name, params in VARIANTS.items():
        if args.only and not any(part in name for part in args.only):
            continue
        started = time.perf_counter()
        scores = run_variant(corpus, params)
        report = scorer.score(scores)
        seconds = time.perf_counter() - started
        cells = " | ".join(f"{report[p].normalized:.2f}" for p in NAB_PROFILE_NAMES)
        flags = " ".join(f"{k}={v}" for k, v in params.items()) or "(none)"
        print(f"| {name} | {cells} | {seconds:.0f} | {flags} |", flush=True)


if __name__ == "__main__":
    main()
