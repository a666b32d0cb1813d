"""The default detector's causes on SMD: the clone discount and the memory, HitRate@150 %.

Prints a table (it is not a test). Run from the repository root with the datasets::

    KIZASHI_DATA=/path/to/datasets .venv/bin/python benchmarks/smd_clones.py [--cache DIR]

The detected rows are the default detector's (``kizashi bench smd``: fitted on
``train/``, ``test/`` scored through the engine, the best-F1 threshold); with
``--cache DIR`` they are saved there per machine (``MACHINE.npz``) and read back
on the next run, so only the attribution is computed again. Only the ranking of
the metrics changes between columns; every column starts from the same
:class:`~kizashi.detectors.multivariate.deviation.DeviationAttribution`
deviation without memory or discount (the default signals, windows and
baseline), then:

* ``no clones`` — as it is (the default before the clone discount);
* ``clones C/F`` — :func:`~kizashi.detectors.multivariate.clones.discount_clones`
  with groups of metrics correlated at least ``C`` on the training rows and the
  factor ``F`` on every group, pairs included (the default of that round: 0.95/0.3;
  ``benchmarks/smd_ranking.py`` measures the milder factor for pairs chosen after it);
* ``memory M×R`` — the larger of the row's deviation and ``R`` times the largest
  over the last ``M`` rows, then the default clone discount (``+ no clones``:
  without it).

The parameters are chosen on the tuning machines (machine-1-6, machine-3-3: the
``tune`` row, the sum of their two HitRates); ``untuned`` is the mean of the six
others, ``mean`` of all eight local machines.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from smd_causes import print_hitrate_table

CLONE_CORRS = (0.9, 0.95, 0.98)
CLONE_FACTORS = (0.3, 0.4, 0.5, 0.6, 0.7)
MEMORIES = ((16, 0.3), (64, 0.3), (64, 0.5), (128, 0.3), (128, 0.5), (256, 0.3), (256, 0.5))


def detected_rows(name: str, cache: Path | None) -> np.ndarray:
    """The default detector's detected rows of one machine (read from ``cache`` if there)."""
    from kizashi.cli.bench_smd import score_machine
    from kizashi.detectors.registry import DEFAULT_DETECTOR
    from kizashi.evaluation.pointwise import best_f1

    path = None if cache is None else cache / f"{name}.npz"
    if path is not None and path.exists():
        with np.load(path, allow_pickle=False) as stored:
            return stored["detected"]
    scores, labels, _, _ = score_machine(name, DEFAULT_DETECTOR, {}, "omni", "max", None)
    detected = scores >= best_f1(labels.astype(bool), scores).threshold
    if path is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(path, detected=detected)
    return detected


def cached_machines(description: str) -> tuple[Path | None, list[str]]:
    """The ``--cache`` folder from the command line and the local SMD machines.

    Exits with a message when there is no local SMD copy.
    """
    from kizashi.data.smd import machines

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cache", type=Path, help="folder for the detected rows per machine")
    args = parser.parse_args()
    names = machines()
    if not names:
        sys.exit("no local SMD copy: set KIZASHI_DATA")
    return args.cache, names


def main() -> int:
    from kizashi.data.smd import load_smd
    from kizashi.detectors.multivariate.clones import clone_groups, discount_clones
    from kizashi.detectors.multivariate.deviation import (
        CLONE_CORR,
        CLONE_FACTOR,
        DeviationAttribution,
        shares_of,
    )
    from kizashi.evaluation.interpretation import hit_rates

    cache, names = cached_machines(__doc__.splitlines()[0])
    columns = ["no clones", *(f"clones {c}/{f}" for c in CLONE_CORRS for f in CLONE_FACTORS),
               *(f"memory {m}×{r}" for m, r in MEMORIES), "memory 256×0.5 + no clones"]
    rates: dict[str, list[float]] = {c: [] for c in columns}
    for name in names:
        machine = load_smd(name)
        detected = detected_rows(name, cache)
        train, test = machine.train.values, machine.test.values
        own = DeviationAttribution(memory=1, clone_factor=1.0, clone_pair_factor=1.0
                                   ).fit(train).deviation(test)
        deviations = [own]
        for corr in CLONE_CORRS:
            groups = clone_groups(train, corr)
            deviations += [discount_clones(own, groups, f) for f in CLONE_FACTORS]
        groups = clone_groups(train, CLONE_CORR)
        for memory, recall in MEMORIES:
            held = DeviationAttribution(memory=memory, recall=recall, clone_factor=1.0,
                                        clone_pair_factor=1.0).fit(train).deviation(test)
            deviations.append(discount_clones(held, groups, CLONE_FACTOR))
        deviations.append(DeviationAttribution(memory=256, recall=0.5, clone_factor=1.0,
                                               clone_pair_factor=1.0).fit(train).deviation(test))
        for column, deviation in zip(columns, deviations, strict=True):
            rates[column].append(hit_rates(shares_of(deviation), machine.segments,
                                           detected)["hitrate_150"])
        print(f"{name} done", file=sys.stderr, flush=True)
    print_hitrate_table(names, columns, rates)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
