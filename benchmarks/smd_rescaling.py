"""Two more streaming rankings of the default detector's causes on SMD, HitRate@P%.

Prints two tables, HitRate@150 % and @100 % (it is not a test). Run from the
repository root with the datasets::

    KIZASHI_DATA=/path/to/datasets .venv/bin/python benchmarks/smd_rescaling.py --cache DIR

The detected rows are the default detector's (``--cache DIR`` as in
``benchmarks/smd_clones.py``). Every column starts from the standardised signals of
:class:`~kizashi.detectors.multivariate.deviation.DeviationAttribution` (the default
windows and recent-past baseline) and ends with the default clone discount; only
what is ranked changes, and every column reads no row after the one ranked:

* ``default`` — each metric's largest standardised signal (``z``);
* ``joint L −W×pred`` / ``joint L resid/sd`` — how unusual a metric's move is *given
  how much the whole row moves*: on the training rows each metric's deviation is
  regressed on the row's level ``L`` (the ``mean`` of the metrics' positive
  deviations, their ``median``, or their 75 % quantile ``q75``); a test row ranks
  its deviation minus ``W`` × the value predicted from its own level, or that
  residual over the training residuals' spread (metrics that always move when the
  machine is busy count less);
* ``ratio Q`` / ``excess Q`` — each signal rescaled by the metric's own training tail
  instead of its standard deviation: ``(z − median) / (q_Q − median)`` (the ``Q``
  quantile of the same signal over the training rows; ``1-1/N``: the rank of the
  largest of ``N`` rows; the span floored at 0.1) or ``z − q_Q``, then the
  largest over signals. (Not the empirical tail probability tried before, which
  ties every value beyond the training range; this keeps how far beyond it is.)

Choices are made on the tuning machines (machine-1-6, machine-3-3: the ``tune``
row, the sum of their two HitRates@150 %).
"""

from __future__ import annotations

import sys

import numpy as np
from smd_causes import print_hitrate_table
from smd_clones import cached_machines, detected_rows
from smd_ranking import signal_stack

LEVELS = ("mean", "median", "q75")
WEIGHTS = (0.5, 1.0)
QUANTILES = (("1-1/N", None), ("0.999", 0.999), ("0.99", 0.99))


def training_stack(attribution, train: np.ndarray) -> np.ndarray:
    """``(signals, rows, metrics)``: the standardised signals over the training rows after
    the recent-past signals' reach (the rows where every signal is defined)."""
    from kizashi.detectors.multivariate.trailing import trailing_means

    state, reach, out, k = attribution.state, attribution.reach, [], 0
    with np.errstate(invalid="ignore"):
        for signal in attribution._signals(state["median"], train, train[:1]):
            for window in attribution.windows:
                out.append(((trailing_means(signal, window) - state["mean"][k])
                            / state["std"][k])[reach:])
                k += 1
        if attribution.recent:
            for k, signal in enumerate(attribution._recent(train, reach)):
                out.append((signal - state["recent_mean"][k]) / state["recent_std"][k])
    return np.stack(out)


def row_level(deviation: np.ndarray, how: str) -> np.ndarray:
    """The row's overall deviation: mean of the positive parts, median or 75 % quantile."""
    filled = np.nan_to_num(deviation, nan=0.0)
    if how == "mean":
        return np.maximum(filled, 0.0).mean(axis=1)
    return np.quantile(filled, 0.5 if how == "median" else 0.75, axis=1)


def main() -> int:
    from kizashi.data.smd import load_smd
    from kizashi.detectors.multivariate.clones import discount_clones
    from kizashi.detectors.multivariate.deviation import (
        CLONE_FACTOR,
        CLONE_PAIR_FACTOR,
        DeviationAttribution,
        shares_of,
    )
    from kizashi.evaluation.interpretation import hit_rates

    cache, names = cached_machines(__doc__.splitlines()[0])
    rates: dict[int, dict[str, list[float]]] = {150: {}, 100: {}}
    for name in names:
        machine = load_smd(name)
        detected = detected_rows(name, cache)
        train, test = machine.train.values, machine.test.values
        attribution = DeviationAttribution(clone_factor=1.0, clone_pair_factor=1.0).fit(train)
        groups = attribution.state["groups"]

        def finish(best: np.ndarray, groups: np.ndarray = groups,
                   test: np.ndarray = test) -> np.ndarray:
            best = np.where(np.isnan(test) | ~np.isfinite(best), np.nan, best)
            return discount_clones(best, groups, CLONE_FACTOR, CLONE_PAIR_FACTOR)

        stack, trained = signal_stack(attribution, test), training_stack(attribution, train)
        own, own_train = stack.max(axis=0), np.nan_to_num(trained.max(axis=0), nan=0.0)
        columns = {"default": finish(own)}
        for how in LEVELS:
            design = np.c_[np.ones(own_train.shape[0]), row_level(own_train, how)]
            coef = np.linalg.lstsq(design, own_train, rcond=None)[0]
            predicted = coef[0] + row_level(own, how)[:, None] * coef[1]
            spread = np.maximum((own_train - design @ coef).std(axis=0), 1e-3)
            for weight in WEIGHTS:
                columns[f"joint {how} −{weight}×pred"] = finish(own - weight * predicted)
            columns[f"joint {how} resid/sd"] = finish((own - predicted) / spread)
        middle = np.nanmedian(trained, axis=1, keepdims=True)
        for label, q in QUANTILES:
            q = 1.0 - 1.0 / trained.shape[1] if q is None else q
            high = np.nanquantile(trained, q, axis=1, keepdims=True)
            span = np.maximum(high - middle, 0.1)
            with np.errstate(invalid="ignore"):
                columns[f"ratio {label}"] = finish(((stack - middle) / span).max(axis=0))
                columns[f"excess {label}"] = finish((stack - high).max(axis=0))
        for column, deviation in columns.items():
            found = hit_rates(shares_of(deviation), machine.segments, detected)
            for p in (150, 100):
                rates[p].setdefault(column, []).append(found[f"hitrate_{p}"])
        print(f"{name} done", file=sys.stderr, flush=True)
    print_hitrate_table(names, list(rates[150]), rates[150])
    print()
    print_hitrate_table(names, list(rates[100]), rates[100], p=100)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
