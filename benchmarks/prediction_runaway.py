"""Choosing the runaway test's settings on the fit seeds, and how good its ETA is.

Prints tables (it is not a test). Run from the repository root::

    .venv/bin/python benchmarks/prediction_runaway.py            # the grid, seeds 100–104
    .venv/bin/python benchmarks/prediction_runaway.py --eta      # ETA at the first runaway

For each setting of :mod:`kizashi.prediction.runaway` (segment length, ratio of one
segment's rise to the one before, significance of the older rise in noise standard
deviations), the warnings of ``kizashi predict`` with the runaway test added (its
forecasters, rise gate and cutoff unchanged) on the ``fast_2h`` (precursors of 1–3 h)
and ``default`` scenarios of the fit seeds 100–104: mean lead (a missed failure
counts 0 h), missed failures and false-warning runs, beside the figures without the
test. The reported seeds (0–9) play no part. ``--eta``: at each failure's first
runaway step, the time to the limit that the three rate models put (the inverse-rate
line, a rate growing geometrically, the parabola through the segment means, and the
forecasters' ETA) divided by the time it really took.
"""

from __future__ import annotations

import argparse

import numpy as np

from kizashi.data.precursor_variants import make_variant
from kizashi.prediction.local_fit import fill_forward
from kizashi.prediction.predictor import (
    DEFAULT_CUTOFF,
    RESOLVE_SECONDS,
    RUNAWAY_SEGMENT_SECONDS,
    predict_frame,
    rise_gate,
    rise_steps,
    runaway_lag,
    runaway_steps,
    warnings_from,
)
from kizashi.prediction.runaway import runaway, runaway_eta
from prediction import HORIZON, evaluate

FIT_SEEDS = range(100, 105)
VARIANTS = ("fast_2h", "default")
GRID = [(minutes, ratio, significance) for minutes in (20, 30) for ratio in (1.5, 2.0, 3.0)
        for significance in (5.0, 8.0, 12.0)]


def _without_runaway(name: str, seed: int):
    """The scenario and predict_frame's answers with the runaway test switched off (no
    warning and no ETA from it)."""
    import kizashi.prediction.predictor as predictor

    scenario = make_variant(name, seed)
    saved = predictor.runaway
    predictor.runaway = lambda values, limit, segment, horizon, **_: (
        np.zeros(np.shape(values), dtype=bool), np.full(np.shape(values), np.nan))
    try:
        result = predict_frame(scenario.frame, HORIZON, scenario.limits)
    finally:
        predictor.runaway = saved
    return scenario, result


def grid(variants: tuple[str, ...] = VARIANTS) -> None:
    print(f"seeds {FIT_SEEDS.start}–{FIT_SEEDS.stop - 1}: mean lead (missed = 0 h), missed, "
          f"false-warning runs\n")
    print(f"{'segment ratio signif.':<24}" + "".join(f"{v:>26}" for v in variants))
    rows: dict[str, dict[str, list]] = {}
    for name in variants:
        for seed in FIT_SEEDS:
            scenario, result = _without_runaway(name, seed)
            step = scenario.step_seconds
            horizon = round(HORIZON / step)
            values, limit = scenario.frame.values, result.limits
            has = np.isfinite(limit)
            gate = np.ones(values.shape, dtype=bool)
            gate[:, has] = rise_gate(values[:, has], limit[has], rise_steps(step), horizon)
            with np.errstate(invalid="ignore"):
                gate |= values >= np.where(has, limit, np.inf)
            cutoffs = np.where(has, DEFAULT_CUTOFF, 0.25)
            resolve = max(round(RESOLVE_SECONDS / step), 1)
            for setting in [None, *GRID]:
                also = np.zeros(values.shape, dtype=bool)
                if setting is not None:
                    minutes, ratio, significance = setting
                    also[:, has] = runaway(values[:, has], limit[has],
                                           max(round(minutes * 60 / step), 2), horizon,
                                           ratio, significance, runaway_lag(step))[0]
                scored = evaluate(scenario, warnings_from(result.probability, cutoffs,
                                                          resolve, gate, also))
                label = "without" if setting is None else \
                    f"{setting[0]:>3} min {setting[1]:>5} {setting[2]:>6}"
                cell = rows.setdefault(label, {}).setdefault(name, [[], 0, 0])
                cell[0] += [lead or 0.0 for _, lead in scored["leads"]]
                cell[1] += sum(lead is None for _, lead in scored["leads"])
                cell[2] += sum(scored["false"].values())
    for label, cells in rows.items():
        print(f"{label:<24}" + "".join(
            f"{f'{np.mean(c[0]):.2f} h, {c[1]:>2}, {c[2]:>3}':>26}"
            for c in (cells[v] for v in variants)))


def etas() -> None:
    ratios: dict[str, list[float]] = {"inverse rate": [], "geometric rate": [],
                                      "parabola": [], "forecasters": []}
    for name in VARIANTS:
        for seed in FIT_SEEDS:
            scenario, result = _without_runaway(name, seed)
            step = scenario.step_seconds
            w = runaway_steps(step)
            for f in scenario.failures:
                j = scenario.frame.keys.index((f.entity, f.metric))
                limit = scenario.limit(f.metric)
                y = scenario.frame.values[:, j:j + 1]
                hit, _ = runaway(y, np.array([limit]), w, round(HORIZON / step),
                                 lag=runaway_lag(step))
                first = np.flatnonzero(hit[f.precursor_start:f.failure, 0])
                if not first.size:
                    continue
                t = f.precursor_start + int(first[0])
                took = f.failure - t
                filled = fill_forward(y)[0][:, 0]
                m1, m2, m3 = (filled[t - (i + 1) * w + 1:t - i * w + 1].mean() for i in range(3))
                d1, d2 = m1 - m2, m2 - m3
                centre = -(w - 1) / 2
                a = (w / d2 - w / d1) / w  # 1/rate falls a per step, zero at blow_up
                blow_up = centre - w / 2 + (w / d1) / a
                inverse = (blow_up - centre) * -np.expm1(-a * (limit - m1)) + centre
                g = d1 / d2
                geometric = np.log1p((limit - m1) * (g - 1) / (d1 * g)) / np.log(g) * w + centre
                parabola = float(runaway_eta(np.array(d1), np.array(d2), np.array(m1),
                                             np.array(limit), w))
                forecast = (result.eta[t, j] - scenario.frame.timestamps[t]) / np.timedelta64(
                    round(step), "s")
                for key, value in (("inverse rate", inverse), ("geometric rate", geometric),
                                   ("parabola", parabola), ("forecasters", forecast)):
                    ratios[key].append(max(float(value), 1.0) / took if np.isfinite(value)
                                       else np.nan)
    print(f"ETA at each failure's first runaway step / the time the limit really took "
          f"(fast_2h and default, seeds {FIT_SEEDS.start}–{FIT_SEEDS.stop - 1}; segment "
          f"{RUNAWAY_SEGMENT_SECONDS / 60:g} min)\n")
    print(f"{'model':<16} {'failures':>8} {'with ETA':>8} {'median':>7} {'quartiles':>13}")
    for key, values in ratios.items():
        x = np.array(values)
        q = np.nanpercentile(x, [25, 50, 75]) if np.isfinite(x).any() else [np.nan] * 3
        print(f"{key:<16} {x.size:>8} {int(np.isfinite(x).sum()):>8} {q[1]:>7.2f} "
              f"{q[0]:>6.2f}–{q[2]:<6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eta", action="store_true",
                        help="the ETA of each rate model at the first runaway step")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated scenario variants for the grid "
                             f"(default {','.join(VARIANTS)})")
    parser.add_argument("--only", metavar="MIN,RATIO,SIGNIF",
                        help="one setting instead of the grid (e.g. 20,2,12)")
    args = parser.parse_args()
    if args.only:
        GRID[:] = [tuple(float(x) for x in args.only.split(","))]
    etas() if args.eta else grid(tuple(args.variants.split(",")))


if __name__ == "__main__":
    main()
