"""The default detector's causes on SMD: the relation signal between metrics, HitRate@150 %.

Prints a table (it is not a test). Run from the repository root with the datasets::

    KIZASHI_DATA=/path/to/datasets .venv/bin/python benchmarks/smd_relations.py [--cache DIR]

The detected rows are the default detector's (``kizashi bench smd``: fitted on
``train/``, ``test/`` scored through the engine, the best-F1 threshold); with
``--cache DIR`` they are read from (or saved to) ``DIR/MACHINE.npz``, as in
``benchmarks/smd_clones.py``. Only the ranking of the metrics changes between
columns; every column starts from the same
:class:`~kizashi.detectors.multivariate.deviation.DeviationAttribution`
deviation without the clone discount (the default signals, windows and
baseline), then:

* ``default`` — the default ranking (the clone discount 0.95/0.3 on it, no
  relation signal);
* ``K α ×w`` — the larger of that deviation and ``w`` times the relation
  signal (:mod:`kizashi.detectors.multivariate.relations`: each metric's
  residual against a ridge model of it from the others, ridge strength ``α``
  on standardised metrics, fitted on the training rows and standardised by its
  cross-fitted residuals: the trailing mean of ``|r|`` and ``|trailing mean
  of r|`` over the default windows), then the same clone discount. ``K`` names
  the guards: ``raw`` none, ``clip`` the inputs clipped to their training
  range, ``soft`` the relation ``z`` lowered by its prediction's, ``clip+soft``
  both (the module's default when the signal is on).

The parameters are chosen on the tuning machines (machine-1-6, machine-3-3: the
``tune`` row, the sum of their two HitRates); ``untuned`` is the mean of the six
others, ``mean`` of all eight local machines.
"""

from __future__ import annotations

import sys

import numpy as np
from smd_causes import print_hitrate_table
from smd_clones import cached_machines, detected_rows

#: Ridge strengths (on standardised metrics: the Gram matrix's diagonal is the row count).
ALPHAS = (30.0, 100.0, 300.0)
#: Factors on the relation signal before it joins the maximum.
WEIGHTS = (1.0, 0.7)
#: The guards (clip, soft) of :func:`~kizashi.detectors.multivariate.relations.relation_z`.
KINDS = {"raw": (False, False), "clip": (True, False), "soft": (False, True),
         "clip+soft": (True, True)}


def main() -> int:
    from kizashi.data.smd import load_smd
    from kizashi.detectors.multivariate.clones import clone_groups, discount_clones
    from kizashi.detectors.multivariate.deviation import (
        CLONE_CORR,
        CLONE_FACTOR,
        WINDOWS,
        DeviationAttribution,
        shares_of,
    )
    from kizashi.detectors.multivariate.relations import fit_relation_signal, relation_z
    from kizashi.evaluation.interpretation import hit_rates

    cache, names = cached_machines(__doc__.splitlines()[0])
    columns = ["default", *(f"{k} {a:g} ×{w:g}" for k in KINDS for a in ALPHAS
                            for w in WEIGHTS)]
    rates: dict[str, list[float]] = {c: [] for c in columns}
    for name in names:
        machine = load_smd(name)
        detected = detected_rows(name, cache)
        train, test = machine.train.values, machine.test.values
        groups = clone_groups(train, CLONE_CORR)
        own = DeviationAttribution(memory=1, clone_factor=1.0).fit(train).deviation(test)
        reach = max(WINDOWS)
        rows = np.concatenate([train[-reach:], test])
        fitted = {alpha: fit_relation_signal(train, alpha, WINDOWS, 1e-3) for alpha in ALPHAS}
        deviations = [own]
        for clip, soft in KINDS.values():
            for alpha in ALPHAS:
                state = dict(fitted[alpha], relation_options=np.asarray([clip, soft], float))
                z = np.where(np.isnan(test), np.nan, relation_z(state, rows, reach))
                deviations += [np.fmax(own, w * z) for w in WEIGHTS]
        for column, deviation in zip(columns, deviations, strict=True):
            ranked = shares_of(discount_clones(deviation, groups, CLONE_FACTOR))
            rates[column].append(hit_rates(ranked, machine.segments, detected)["hitrate_150"])
        print(f"{name} done", file=sys.stderr, flush=True)
    print_hitrate_table(names, columns, rates)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
