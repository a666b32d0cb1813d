"""What an incident's causes score on SMD: HitRate@P% with the ranking of the incident.

Prints four tables (it is not a test): HitRate@150 % and @100 % where each detected
point takes the ranking of its incident **so far** (streaming: the incident's rows up
to the point) and of its **whole** incident (hindsight: rows after the point too, so
not OmniAnomaly's per-point protocol). Run from the repository root::

    KIZASHI_DATA=/path/to/datasets .venv/bin/python benchmarks/smd_incidents.py --cache DIR

The detected rows are the default detector's (``kizashi bench smd``'s best-F1
threshold), computed or read back as in ``benchmarks/smd_clones.py`` (``--cache DIR``).
An incident is what ``kizashi detect`` makes of one entity's flagged rows: the alert
of :class:`~kizashi.decision.alert_filter.AlertFilter` with ``min_steps`` 1 and
``resolve_steps`` ``R`` (``R1``, detect's default: a run of consecutive detected rows;
``R``: gaps of up to ``R − 1`` undetected rows bridged, as ``--resolve-steps R`` would;
the bridged rows belong to the incident but are not scored). The row's own ranking is
the default attribution
(:class:`~kizashi.detectors.multivariate.deviation.DeviationAttribution`, the clone
discount included: ``kizashi bench smd``'s ``hitrate_100``/``hitrate_150``); an
incident's ranking aggregates it over the incident's rows:

* ``mean share`` — each metric's mean share (detect's ``--incidents`` rule);
* ``mean dev`` — each metric's mean positive deviation (the standardised signal
  before the shares: a row where every metric moves a lot weighs more);
* ``max dev`` — each metric's largest deviation over the incident.

Choices are made on the tuning machines (machine-1-6, machine-3-3: the ``tune`` row,
the sum of their two HitRates@150 %, also printed with four decimals for ties);
``untuned`` is the mean of the six others, ``mean`` of all eight local machines.
Last, for the whole incident with detect's rule (``R1 mean share``, the
``hitrate_150_incident`` of ``kizashi bench smd``), the labelled segments that lose
the most (as in ``benchmarks/smd_ranking.py``: the share of the machine's detected
points lost in the segment at HitRate@150 %).
"""

from __future__ import annotations

import sys

import numpy as np
from smd_causes import print_hitrate_table
from smd_clones import cached_machines, detected_rows
from smd_ranking import print_losses, segment_losses

RESOLVE = (1, 2, 6, 16)
RULES = ("mean share", "mean dev", "max dev")


def incident_max(values: np.ndarray, active: np.ndarray, so_far: bool) -> np.ndarray:
    """Per active row, each metric's largest value over its incident (so far), NaN elsewhere."""
    from kizashi.evaluation.interpretation import incident_runs

    out = np.full(values.shape, np.nan)
    for start, end in incident_runs(active):
        block = np.nan_to_num(values[start:end + 1], nan=-np.inf)
        best = np.maximum.accumulate(block, axis=0) if so_far else block.max(axis=0)[None]
        out[start:end + 1] = np.where(np.isfinite(best), best, np.nan)
    return out


def rankings(deviation: np.ndarray, detected: np.ndarray, so_far: bool
             ) -> dict[str, np.ndarray]:
    """Every column's ranking of the rows (the incidents of each ``R``, each rule)."""
    from kizashi.decision.alert_filter import AlertFilter
    from kizashi.detectors.multivariate.deviation import shares_of
    from kizashi.evaluation.interpretation import incident_attribution

    share = shares_of(deviation)
    positive = np.where(np.isnan(deviation), np.nan, np.maximum(deviation, 0.0))
    out = {"row (default)": share}
    for resolve in RESOLVE:
        active = AlertFilter(1, resolve).apply(detected)
        out[f"R{resolve} mean share"] = incident_attribution(share, active, so_far=so_far)
        out[f"R{resolve} mean dev"] = incident_attribution(positive, active, so_far=so_far)
        out[f"R{resolve} max dev"] = incident_max(deviation, active, so_far)
    return out


def main() -> int:
    from kizashi.data.smd import load_smd
    from kizashi.detectors.multivariate.deviation import DeviationAttribution
    from kizashi.evaluation.interpretation import hit_rates
    from kizashi.evaluation.splits import SMD_TUNE_MACHINES

    cache, names = cached_machines(__doc__.splitlines()[0])
    tables: dict[tuple[bool, int], dict[str, list[float]]] = {}
    losses = {}
    for name in names:
        machine = load_smd(name)
        detected = detected_rows(name, cache)
        deviation = DeviationAttribution().fit(machine.train.values).deviation(
            machine.test.values)
        for so_far in (True, False):
            ranked = rankings(deviation, detected, so_far)
            if not so_far:
                losses[name] = segment_losses(ranked["R1 mean share"], machine.segments,
                                              detected, top=3)
            for column, ranking in ranked.items():
                found = hit_rates(ranking, machine.segments, detected)
                for p in (150, 100):
                    tables.setdefault((so_far, p), {}).setdefault(column, []).append(
                        found[f"hitrate_{p}"])
        print(f"{name} done", file=sys.stderr, flush=True)
    tune = [i for i, n in enumerate(names) if n in SMD_TUNE_MACHINES]
    for (so_far, p), rates in tables.items():
        print(f"\n{'Incident so far (streaming)' if so_far else 'Whole incident (hindsight)'}:")
        print_hitrate_table(names, list(rates), rates, p=p)
        print("tune (sum, 4 decimals): " + ", ".join(
            f"{c} {sum(rates[c][i] for i in tune):.4f}" for c in rates))
    print_losses("the whole incident (R1 mean share)", names, losses)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
