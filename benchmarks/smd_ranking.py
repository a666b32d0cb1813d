"""The default detector's causes on SMD: the ranking rule (clone pairs, merges), HitRate@P%.

Prints two tables, HitRate@150 % and @100 % (it is not a test). Run from the
repository root with the datasets::

    KIZASHI_DATA=/path/to/datasets .venv/bin/python benchmarks/smd_ranking.py --cache DIR

The detected rows are the default detector's, computed or read back as in
``benchmarks/smd_clones.py`` (``--cache DIR``: one ``MACHINE.npz`` per machine).
Every column starts from the same standardised signals of
:class:`~kizashi.detectors.multivariate.deviation.DeviationAttribution` (the
default windows and recent-past baseline); only the rule that turns them into
one ranking changes:

* ``all 0.3 (before)`` — each metric's largest signal, and the clone discount of
  the round before: every group's ``r``-th next member × 0.3^r, pairs included;
* ``pairs F`` — the same, but a group of exactly two (a *pair*) discounted by
  ``F`` (groups of three or more keep 0.3); ``pairs 1.0``: pairs untouched.
  The default is ``pairs 0.8``;
* ``3+ G, pairs 0.8`` — groups of three or more discounted by ``G`` instead;
* ``slot`` — no factor: the ``r``-th copy of a group is placed right after the
  ``r``-th distinct cause below its leader (or where its own deviation puts it,
  if lower);
* ``top-2 sum``, ``top-3 sum`` — a metric's deviation is its largest signal plus
  the positive parts of its next one or two (instead of the largest alone), then
  the default discount;
* ``train + W × recent`` — the largest of the training-row signals plus ``W`` ×
  the largest of the recent-past ones (positive parts), then the default discount;
* ``memory M×R`` — the larger of the row's deviation and ``R`` × its largest over
  the last ``M`` rows, then the default discount;
* ``memory M, cap C`` — the same with ``R`` = 1, but what is remembered is capped
  at ``C`` × the row's largest deviation now (a remembered spike cannot outrank
  the metric that moves most now), then the default discount.

The parameters are chosen on the tuning machines (machine-1-6, machine-3-3: the
``tune`` row, the sum of their two HitRates@150 %); ``untuned`` is the mean of the
six others, ``mean`` of all eight local machines. Last, for the default rule,
the segments that lose the most: per machine, the share of its detected points
lost in each labelled segment (1 − HitRate@150 % summed over the segment's
detected points, over all of the machine's), the largest four.
"""

from __future__ import annotations

import sys

import numpy as np
from smd_causes import print_hitrate_table
from smd_clones import cached_machines, detected_rows

PAIR_FACTORS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
GROUP_FACTORS = (0.2, 0.5)
RECENT_WEIGHTS = (1.0, 1.5)
MEMORIES = ((16, 0.3), (64, 0.5), (256, 0.5))
CAPPED = ((1024, 0.5), (1024, 0.8))


def segment_losses(shares: np.ndarray, segments, detected: np.ndarray, top: int = 4
                   ) -> list[tuple[float, int, int, int]]:
    """The ``top`` labelled segments losing the largest share of the machine's detected
    points at HitRate@150 %: ``(share lost, start, end, detected points in it)``."""
    from kizashi.evaluation.interpretation import cause_sets, hit_rate_at_p

    truth = cause_sets(segments, shares.shape[0])
    rows = [r for r in np.flatnonzero(detected)
            if truth[r] is not None and np.isfinite(shares[r]).any()]
    missed = {r: 1.0 - hit_rate_at_p(shares[r], truth[r], 150) for r in rows}
    out = []
    for start, end, _ in segments:
        inside = [r for r in rows if start <= r <= end]
        if inside:
            out.append((sum(missed[r] for r in inside) / len(rows), start, end, len(inside)))
    return sorted(out, reverse=True)[:top]


def signal_stack(attribution, test: np.ndarray) -> np.ndarray:
    """``(signals, time, metrics)``: every standardised signal of a fitted attribution
    (the training-row ones first, then the recent-past ones), before any maximum."""
    from kizashi.detectors.multivariate.trailing import trailing_means

    state = attribution.state
    before = state["tail"][-(attribution.history_rows + 1):]
    rows = np.concatenate([before, test])
    n_before = before.shape[0]
    out, k = [], 0
    with np.errstate(invalid="ignore"):
        for signal in attribution._signals(state["median"], rows, rows[:0]):
            for window in attribution.windows:
                out.append((trailing_means(signal, window)[n_before:] - state["mean"][k])
                           / state["std"][k])
                k += 1
        if attribution.recent:
            for k, signal in enumerate(attribution._recent(rows, n_before)):
                out.append((signal - state["recent_mean"][k]) / state["recent_std"][k])
    stack = np.stack(out)
    return np.where(np.isfinite(stack), stack, -np.inf)


def largest(stack: np.ndarray, test: np.ndarray, extra: int = 0) -> np.ndarray:
    """Each metric's largest signal plus the positive parts of its next ``extra`` ones."""
    ordered = -np.sort(-stack, axis=0)
    best = ordered[0] + sum(np.maximum(ordered[i], 0.0) for i in range(1, extra + 1))
    return np.where(np.isnan(test) | ~np.isfinite(best), np.nan, best)


def slot_copies(deviation: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The ``r``-th copy of each group placed right after the ``r``-th distinct cause
    below its leader (or lower, where its own deviation puts it)."""
    rank = np.zeros(deviation.shape, dtype=int)   # each member's place in its group
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        order = np.argsort(-np.nan_to_num(deviation[:, members], nan=-np.inf), axis=1,
                           kind="stable")
        rank[:, members] = np.argsort(order, axis=1, kind="stable")
    leader_of = {g: np.flatnonzero(groups == g) for g in np.unique(groups)}
    out = deviation.copy()
    for t in range(deviation.shape[0]):
        row = deviation[t]
        finite = np.nan_to_num(row, nan=-np.inf)
        distinct = np.sort(finite[rank[t] == 0])[::-1]
        for j in np.flatnonzero((rank[t] > 0) & (finite > 0)):
            lead = finite[leader_of[groups[j]]].max()
            below = distinct[distinct < lead]
            r = rank[t, j]
            target = below[r - 1] if r - 1 < below.size else 0.0
            out[t, j] = min(row[j], target - 1e-9 * r)
    return out


def main() -> int:
    from kizashi.data.smd import load_smd
    from kizashi.detectors.multivariate.clones import discount_clones
    from kizashi.detectors.multivariate.deviation import (
        CLONE_FACTOR,
        CLONE_PAIR_FACTOR,
        DeviationAttribution,
        shares_of,
    )
    from kizashi.detectors.multivariate.trailing import trailing_max
    from kizashi.evaluation.interpretation import hit_rates

    cache, names = cached_machines(__doc__.splitlines()[0])
    columns = ["all 0.3 (before)", *(f"pairs {f}" for f in PAIR_FACTORS),
               *(f"3+ {g}, pairs {CLONE_PAIR_FACTOR}" for g in GROUP_FACTORS), "slot",
               "top-2 sum", "top-3 sum", *(f"train + {w} × recent" for w in RECENT_WEIGHTS),
               *(f"memory {m}×{r}" for m, r in MEMORIES),
               *(f"memory {m}, cap {c}" for m, c in CAPPED)]
    rates: dict[int, dict[str, list[float]]] = {p: {c: [] for c in columns} for p in (100, 150)}
    losses = {}
    for name in names:
        machine = load_smd(name)
        detected = detected_rows(name, cache)
        train, test = machine.train.values, machine.test.values
        attribution = DeviationAttribution(clone_factor=1.0, clone_pair_factor=1.0).fit(train)
        groups = attribution.state["groups"]
        stack = signal_stack(attribution, test)
        own = largest(stack, test)

        def default(deviation: np.ndarray, groups: np.ndarray = groups) -> np.ndarray:
            return discount_clones(deviation, groups, CLONE_FACTOR, CLONE_PAIR_FACTOR)

        deviations = [discount_clones(own, groups, CLONE_FACTOR)]
        deviations += [discount_clones(own, groups, CLONE_FACTOR, f) for f in PAIR_FACTORS]
        deviations += [discount_clones(own, groups, g, CLONE_PAIR_FACTOR) for g in GROUP_FACTORS]
        judged = np.flatnonzero(detected)   # the slot rule row by row: the rows that count
        slotted = np.full_like(own, np.nan)
        slotted[judged] = slot_copies(own[judged], groups)
        deviations.append(slotted)
        deviations += [default(largest(stack, test, extra)) for extra in (1, 2)]
        n_training = len(attribution.windows) * 2
        for weight in RECENT_WEIGHTS:
            both = (np.maximum(stack[:n_training].max(axis=0), 0.0)
                    + weight * np.maximum(stack[n_training:].max(axis=0), 0.0))
            deviations.append(default(np.where(np.isnan(test), np.nan, both)))
        for memory, recall in MEMORIES:
            deviations.append(default(np.fmax(own, recall * trailing_max(own, memory))))
        now = np.maximum(np.nanmax(np.nan_to_num(own, nan=-np.inf), axis=1, keepdims=True), 0)
        for memory, cap in CAPPED:
            held = np.fmin(trailing_max(own, memory), cap * now)
            deviations.append(default(np.fmax(own, held)))
        for column, deviation in zip(columns, deviations, strict=True):
            found = hit_rates(shares_of(deviation), machine.segments, detected)
            for p in (100, 150):
                rates[p][column].append(found[f"hitrate_{p}"])
        losses[name] = segment_losses(shares_of(deviations[columns.index(
            f"pairs {CLONE_PAIR_FACTOR}")]), machine.segments, detected)
        print(f"{name} done", file=sys.stderr, flush=True)
    print_hitrate_table(names, columns, rates[150])
    print()
    print_hitrate_table(names, columns, rates[100], p=100)
    print_losses(f"the default (pairs {CLONE_PAIR_FACTOR})", names, losses)
    return 0


def print_losses(ranking: str, names: list[str], losses: dict) -> None:
    """Per machine, the share of its detected points ``ranking`` loses in each segment."""
    print(f"\nWhere {ranking} loses: share of the machine's detected points lost per "
          "segment (detected points in it)")
    for name in names:
        print(f"{name}: " + "; ".join(f"{start}–{end} ({n}) {lost:.3f}"
                                      for lost, start, end, n in losses[name]))


if __name__ == "__main__":
    raise SystemExit(main())
