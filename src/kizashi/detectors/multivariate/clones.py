"""Near-identical metrics share the blame: one slot per group of clones in the ranking.

A node often exports several metrics that move as one (the same CPU time as
user, total and per-core sums; 35/36 on every SMD machine). When they move
together, a ranking of causes fills its first places with copies of one
signal and pushes the other causes out (SMD machine-3-3's segment 19349–19830:
six near-identical metrics 19–22, 28, 31 rank above the labelled 1–3).

:func:`clone_groups` joins metrics whose training rows correlate at least
``min_corr`` (single linkage: a chain of such pairs is one group);
:func:`discount_clones` keeps, per row, each group's most deviating member as
it is and multiplies the positive deviation of the ``r``-th next one by
``factor ** r``, so the group keeps its first place and the others still
count, one after the other. A *pair* (a group of exactly two) has its own,
milder ``pair_factor``: two metrics may well be two real causes that happen to
move together (SMD machine-3-4's 11/16, machine-1-7's 9/13 and 12/15 are
labelled together), while three or more copies are one signal exported many
times (machine-3-3's twelve, none labelled in its long segment).

>>> rng = np.random.default_rng(0)
>>> base = rng.normal(0, 1, 500)
>>> train = np.c_[base, base * 2 + 1, rng.normal(0, 1, 500)]   # 0 and 1 are clones
>>> groups = clone_groups(train, 0.95)
>>> groups.tolist()
[0, 0, 2]
>>> discount_clones(np.array([[4.0, 5.0, 3.0]]), groups, 0.5).tolist()
[[2.0, 5.0, 3.0]]
>>> discount_clones(np.array([[4.0, 5.0, 3.0]]), groups, 0.5, pair_factor=0.75).tolist()
[[3.0, 5.0, 3.0]]
"""

from __future__ import annotations

import numpy as np

from kizashi.streaming.magnitudes import magnitude_factors

__all__ = ["clone_groups", "discount_clones"]


def clone_groups(train: np.ndarray, min_corr: float) -> np.ndarray:
    """Per metric, the lowest index of its group (its own index when it has no clone).

    A metric missing on half the rows or more has no clone; of the others, the
    rows where one is missing are left out, and a metric constant on the rest
    has no clone.
    """
    train = np.asarray(train, dtype=np.float64)
    n_metrics = train.shape[1]
    parent = np.arange(n_metrics)
    observed = ~np.isnan(train)
    usable = np.flatnonzero(observed.mean(axis=0) > 0.5)
    rows = train[observed[:, usable].all(axis=1)][:, usable]
    if rows.shape[0] < 3:
        return parent
    rows = rows * magnitude_factors(rows)  # 1e300: correlated at an ordinary magnitude
    moving = usable[rows.std(axis=0) > 0]
    rows = rows[:, rows.std(axis=0) > 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(rows, rowvar=False).reshape(moving.size, moving.size)

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return int(i)

    for a, b in zip(*np.nonzero(np.triu(corr >= min_corr, k=1)), strict=True):
        ra, rb = root(int(moving[a])), root(int(moving[b]))
        parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(i) for i in range(n_metrics)])


def discount_clones(deviation: np.ndarray, groups: np.ndarray, factor: float,
                    pair_factor: float | None = None) -> np.ndarray:
    """``deviation`` with the positive part of each group's ``r``-th next member × ``factor**r``.

    A group of exactly two members uses ``pair_factor`` instead (``None``: the
    same ``factor``). Ties go to the lower index; NaN (a missing metric) ranks
    last and stays NaN.
    """
    out = np.array(deviation, dtype=np.float64)
    groups = np.asarray(groups).reshape(-1)
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        if members.size < 2:
            continue
        part = out[:, members]
        order = np.argsort(-np.nan_to_num(part, nan=-np.inf), axis=1, kind="stable")
        rank = np.argsort(order, axis=1, kind="stable")
        base = factor if pair_factor is None or members.size > 2 else pair_factor
        out[:, members] = np.where(part > 0, part * float(base) ** rank, part)
    return out
