"""How well a detector names the metrics behind an anomaly: OmniAnomaly's HitRate@P%.

Su et al., "Robust Anomaly Detection for Multivariate Time Series through
Stochastic Recurrent Neural Network" (OmniAnomaly, KDD 2019), §4.4 and §5.5:
for an anomalous time step ``t`` whose ground-truth cause set is ``G_t`` (the
SMD interpretation labels), rank every dimension by its contribution to the
anomaly and count how many of the top ``⌊P% · |G_t|⌋`` are in ``G_t``::

    HitRate@P%(t) = |top_{⌊P%·|G_t|⌋}(t) ∩ G_t| / |G_t|

The reported number is the mean over the points that were *detected*
(flagged, and truly anomalous, i.e. inside a labelled segment). With
``P = 150`` the ranking may name half as many extra dimensions as there are
causes. Ties in the ranking are broken by the lower dimension index (a stable
sort), so the value never depends on chance.

>>> hit_rate_at_p([0.1, 0.5, 0.3, 0.05, 0.05], {1, 3}, 100)   # top 2: dims 1, 2
0.5
>>> hit_rate_at_p([0.1, 0.5, 0.3, 0.05, 0.05], {1, 3}, 150)   # top 3: dims 1, 2, 0
0.5

:func:`incident_attribution` gives every detected row the ranking of its
**incident** — the run of consecutive detected rows it lies in, as
``kizashi detect`` groups one entity's flagged rows — averaged over the
incident's rows (the rule of ``detect --explain``/``--incidents``). Over the
whole incident it reads rows *after* the one judged: a hindsight measure of
what the incident report names, not OmniAnomaly's per-point protocol;
``so_far=True`` averages the incident's rows up to the row only (streaming).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["cause_sets", "hit_rate_at_p", "hit_rates", "incident_attribution",
           "incident_runs"]


def hit_rate_at_p(contributions: Sequence[float] | np.ndarray, causes: Iterable[int],
                  p: float) -> float:
    """HitRate@``p``% of one time step: the share of ``causes`` among the top-ranked dims.

    ``contributions`` holds one number per dimension (higher = more to blame; NaN
    ranks last); ``causes`` are the 0-based indices of the true causes.
    """
    truth = {int(c) for c in causes}
    if not truth:
        raise ValueError("hit_rate_at_p: the step has no ground-truth causes")
    values = np.asarray(contributions, dtype=np.float64).reshape(-1)
    if max(truth) >= values.size or min(truth) < 0:
        raise ValueError(f"hit_rate_at_p: cause index out of range for {values.size} dimensions")
    k = int(np.floor(float(p) / 100.0 * len(truth) + 1e-9))
    order = np.argsort(-np.nan_to_num(values, nan=-np.inf), kind="stable")
    return len(truth.intersection(order[:k].tolist())) / len(truth)


def cause_sets(segments: Iterable[tuple[int, int, Sequence[int]]], n_rows: int
               ) -> list[frozenset[int] | None]:
    """Per row, the ground-truth causes of the labelled segment it lies in (else None).

    ``segments`` are ``(start, end_inclusive, dims)`` as in
    :class:`kizashi.data.smd.SmdMachine`.

    >>> cause_sets([(1, 2, (0, 3))], 4)
    [None, frozenset({0, 3}), frozenset({0, 3}), None]
    """
    out: list[frozenset[int] | None] = [None] * n_rows
    for start, end, dims in segments:
        if not dims:
            continue
        for row in range(max(start, 0), min(end, n_rows - 1) + 1):
            out[row] = frozenset(dims) if out[row] is None else out[row] | frozenset(dims)
    return out


def hit_rates(attribution: np.ndarray, segments: Iterable[tuple[int, int, Sequence[int]]],
              detected: np.ndarray | None = None, ps: Sequence[float] = (100, 150)
              ) -> dict[str, Any]:
    """Mean HitRate@P% over the detected anomalous rows of a ``(time, dims)`` attribution.

    ``detected`` is a boolean per row (the detector's verdict); ``None`` counts
    every labelled row (as some later papers do). Rows without a finite
    attribution are skipped. Returns ``{"hitrate_100": ..., "hitrate_150": ...,
    "n_points": n}`` (NaN rates when no row counts).

    >>> attribution = np.array([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    >>> hit_rates(attribution, [(1, 2, (2,))], detected=np.array([True, True, False]))
    {'hitrate_100': 1.0, 'hitrate_150': 1.0, 'n_points': 1}
    """
    attribution = np.asarray(attribution, dtype=np.float64)
    if attribution.ndim != 2:
        raise ValueError(f"hit_rates: attribution must be (time, dims), got {attribution.shape}")
    truth = cause_sets(segments, attribution.shape[0])
    if detected is None:
        detected = np.ones(attribution.shape[0], dtype=bool)
    detected = np.asarray(detected, dtype=bool).reshape(-1)
    if detected.shape[0] != attribution.shape[0]:
        raise ValueError(f"hit_rates: {detected.shape[0]} verdicts for "
                         f"{attribution.shape[0]} rows")
    sums = {p: 0.0 for p in ps}
    n = 0
    for row in np.flatnonzero(detected):
        causes = truth[row]
        if causes is None or not np.isfinite(attribution[row]).any():
            continue
        n += 1
        for p in ps:
            sums[p] += hit_rate_at_p(attribution[row], causes, p)
    out: dict[str, Any] = {f"hitrate_{p:g}": (sums[p] / n if n else float("nan")) for p in ps}
    out["n_points"] = n
    return out


def incident_runs(detected: np.ndarray) -> list[tuple[int, int]]:
    """The runs of consecutive detected rows, ``(start, end_inclusive)`` in time order.

    One entity's alert in ``kizashi detect`` (default ``--min-steps``/``--resolve-steps``
    1) is such a run, and two runs of one entity never join one incident (a group
    takes an alert only when it starts while the group is still active).

    >>> incident_runs(np.array([0, 1, 1, 0, 1, 0], dtype=bool))
    [(1, 2), (4, 4)]
    """
    flags = np.asarray(detected, dtype=bool).reshape(-1)
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(),
                    (np.flatnonzero(edges == -1) - 1).tolist(), strict=True))


def incident_attribution(attribution: np.ndarray, detected: np.ndarray, *,
                         so_far: bool = False) -> np.ndarray:
    """Per detected row, the mean of ``attribution`` over its incident (NaN elsewhere).

    The incident is the row's run of consecutive detected rows
    (:func:`incident_runs`); a metric missing on some of its rows is averaged over
    the others. ``so_far``: over the incident's rows up to the row itself (what an
    open alert knows), else over all of them (what the finished incident's report
    shows).

    >>> shares = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.5, 0.5]])
    >>> incident_attribution(shares, np.array([1, 1, 1, 0], dtype=bool)).round(2).tolist()
    [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [nan, nan]]
    >>> incident_attribution(shares, np.array([1, 1, 1, 0], dtype=bool),
    ...                      so_far=True).round(2).tolist()
    [[0.9, 0.1], [0.55, 0.45], [0.5, 0.5], [nan, nan]]
    """
    attribution = np.asarray(attribution, dtype=np.float64)
    if attribution.ndim != 2:
        raise ValueError("incident_attribution: attribution must be (time, dims), "
                         f"got {attribution.shape}")
    flags = np.asarray(detected, dtype=bool).reshape(-1)
    if flags.shape[0] != attribution.shape[0]:
        raise ValueError(f"incident_attribution: {flags.shape[0]} verdicts for "
                         f"{attribution.shape[0]} rows")
    out = np.full(attribution.shape, np.nan)
    for start, end in incident_runs(flags):
        block = attribution[start:end + 1]
        known = np.isfinite(block)
        if so_far:
            counts = np.cumsum(known, axis=0)
            sums = np.cumsum(np.where(known, block, 0.0), axis=0)
        else:
            counts = known.sum(axis=0, keepdims=True)
            sums = np.where(known, block, 0.0).sum(axis=0, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:end + 1] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return out
