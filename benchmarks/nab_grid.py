"""NAB: the default detector's variants on one split, in one process (how its NAB settings
were chosen).

Runs the ``ensemble`` through NAB's streaming runner
(:func:`kizashi.evaluation.nab_runner.run_detector`, exactly what ``kizashi bench
nab`` does) once per variant of :data:`VARIANTS` on the files of ``--split``
(the tuning fold by default: choose there, report the others) and prints the
three NAB profiles per variant. Each row is also ``kizashi bench nab --split
tune --param ...`` with the parameters printed. Usage::

    .venv/bin/python benchmarks/nab_grid.py [--split tune] [--only NAME ...]

The data come from ``kizashi.data.paths.dataset_root()`` (``KIZASHI_DATA``).
"""

from __future__ import annotations

import argparse
import time

from kizashi.data.nab import load_nab_corpus
from kizashi.evaluation.nab import NabScorer
from kizashi.evaluation.nab_report import NAB_PROFILE_NAMES
from kizashi.evaluation.nab_runner import run_detector
from kizashi.evaluation.splits import NAB_SPLITS, select_nab

#: name -> ensemble parameters (on top of the NAB runner's settings).
VARIANTS: dict[str, dict[str, object]] = {
    "before: threshold + range rule, averaging 10": {"discord_weight": 0.0, "rest": 0,
                                                     "averaging_window": 10,
                                                     "context_weight": 0.0},
    "threshold + range rule, averaging 20": {"discord_weight": 0.0, "rest": 0,
                                             "context_weight": 0.0},
    "+ discord, averaging 10": {"rest": 0, "averaging_window": 10, "context_weight": 0.0},
    "+ discord, averaging 20": {"rest": 0, "context_weight": 0.0},
    "+ discord, averaging 20, rest probation/10": {"context_weight": 0.0},
    "+ discord + context, averaging 20, rest (chosen)": {},
    "+ discord + context (8 levels, order 2), averaging 20, rest": {"context_levels": 8,
                                                                     "context_order": 2},
    "threshold + range rule, averaging 20, rest": {"discord_weight": 0.0,
                                                   "context_weight": 0.0},
}


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
        scores = run_detector(corpus, "ensemble", params, calibration="auto", progress=False)
        report = scorer.score(scores)
        seconds = time.perf_counter() - started
        cells = " | ".join(f"{report[p].normalized:.2f}" for p in NAB_PROFILE_NAMES)
        flags = " ".join(f"{k}={v}" for k, v in params.items()) or "(none)"
        print(f"| {name} | {cells} | {seconds:.0f} | {flags} |", flush=True)


if __name__ == "__main__":
    main()
