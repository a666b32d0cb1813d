"""The default detector's causes on SMD: HitRate@150 % for several attributions.

Prints a table (it is not a test). Run from the repository root with the datasets::

    KIZASHI_DATA=/path/to/datasets .venv/bin/python benchmarks/smd_causes.py

The detected rows are the default detector's (``kizashi bench smd``: fitted on
``train/``, ``test/`` scored through the engine, the best-F1 threshold); only
the ranking of the metrics changes between columns:

* ``|z| (before)`` — each metric's ``|x − mean| / sd`` against the training
  rows at the step itself (the fixed reference's attribution, the default's
  until :mod:`kizashi.detectors.multivariate.deviation`);
* ``windows a/b/...`` — :class:`~kizashi.detectors.multivariate.deviation.DeviationAttribution`
  with those trailing windows against the training rows only (``lag=0``);
* ``+ recent L/B`` — the default windows 1/4/16/64/512 and the recent-past
  signals (:mod:`kizashi.detectors.multivariate.recent_change`): the ``B`` rows
  ending ``L`` rows before each row as the baseline (the default: 1440/1440);
  ``a/b/... + recent``: other ladders with the default baseline.

All columns without the clone discount and the memory (chosen after these, with
``benchmarks/smd_clones.py``). The ladder and the baseline are chosen on the
tuning machines (machine-1-6, machine-3-3: the ``tune`` row, the sum of their
two HitRates); ``untuned`` is the mean of the six others, ``mean`` of all eight
local machines.
"""

from __future__ import annotations

import sys

import numpy as np

LADDERS = ((1,), (1, 4, 16, 64), (1, 4, 16, 64, 256), (1, 8, 64, 512), (1, 4, 16, 64, 256, 1024),
           (1, 8, 64, 512, 4096))
#: Ladders reaching 512 steps, with the recent-past signals (lag 1440, baseline 1440).
RECENT_LADDERS = ((1, 8, 64, 512), (1, 4, 16, 64, 512), (1, 4, 16, 64, 256, 1024),
                  (1, 8, 64, 512, 4096), (1, 4, 16, 64))
#: These columns were chosen before the clone discount and the memory: both off here
#: (``benchmarks/smd_clones.py`` measures them on top of the chosen ladder and baseline).
EARLIER = {"memory": 1, "clone_factor": 1.0, "clone_pair_factor": 1.0}
#: (lag, baseline) of the recent-past signals.
BASELINES = ((720, 720), (720, 1440), (1440, 720), (1440, 1440), (2880, 1440))


def print_hitrate_table(names: list[str], columns: list[str],
                        rates: dict[str, list[float]], p: int = 150) -> None:
    """The HitRate@``p`` % table: a row per machine, then the tuning machines' sum and the
    means over the untuned machines and over all."""
    from kizashi.detectors.registry import DEFAULT_DETECTOR
    from kizashi.evaluation.splits import SMD_TUNE_MACHINES

    tune = [i for i, n in enumerate(names) if n in SMD_TUNE_MACHINES]
    rest = [i for i in range(len(names)) if i not in tune]
    print(f"SMD HitRate@{p} %, detector {DEFAULT_DETECTOR} (its detected rows), by attribution")
    print("| machine | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for i, name in enumerate(names):
        print(f"| {name} | " + " | ".join(f"{rates[c][i]:.3f}" for c in columns) + " |")
    for label, pick, reduce in (("tune (sum)", tune, np.sum), ("untuned mean", rest, np.mean),
                                ("mean", list(range(len(names))), np.mean)):
        print(f"| **{label}** | " + " | ".join(
            f"**{reduce([rates[c][i] for i in pick]):.3f}**" for c in columns) + " |")


def main() -> int:
    from kizashi.cli.bench_smd import score_machine
    from kizashi.data.smd import load_smd, machines
    from kizashi.detectors.multivariate.deviation import DeviationAttribution
    from kizashi.detectors.multivariate.reference import ReferenceDetector
    from kizashi.detectors.registry import DEFAULT_DETECTOR
    from kizashi.evaluation.interpretation import hit_rates
    from kizashi.evaluation.pointwise import best_f1

    names = machines()
    if not names:
        print("no local SMD copy: set KIZASHI_DATA", file=sys.stderr)
        return 1
    columns = ["|z| (before)", *("windows " + "/".join(map(str, w)) for w in LADDERS),
               *(f"+ recent {lag}/{baseline}" for lag, baseline in BASELINES),
               *("/".join(map(str, w)) + " + recent" for w in RECENT_LADDERS)]
    rates: dict[str, list[float]] = {c: [] for c in columns}
    for name in names:
        machine = load_smd(name)
        scores, labels, _, _ = score_machine(name, DEFAULT_DETECTOR, {}, "omni", "max", None)
        detected = scores >= best_f1(labels.astype(bool), scores).threshold
        train, test = machine.train.values, machine.test.values
        shares = [ReferenceDetector().fit(train).explain(test).attribution]
        shares += [DeviationAttribution(w, lag=0, **EARLIER).fit(train).shares(test)
                   for w in LADDERS]
        shares += [DeviationAttribution(lag=lag, baseline=baseline, **EARLIER).fit(train)
                   .shares(test)
                   for lag, baseline in BASELINES]
        shares += [DeviationAttribution(w, **EARLIER).fit(train).shares(test)
                   for w in RECENT_LADDERS]
        for column, share in zip(columns, shares, strict=True):
            rates[column].append(hit_rates(share, machine.segments, detected)["hitrate_150"])
        print(f"{name} done", file=sys.stderr, flush=True)
    print_hitrate_table(names, columns, rates)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
