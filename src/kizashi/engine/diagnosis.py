"""Diagnosis of a batch run: grouped incidents with ranked causes and a type, causes per row.

:func:`diagnose` turns a :class:`~kizashi.engine.batch.FrameResult` into
:class:`Diagnosis` records — one per event (:mod:`kizashi.engine.grouping`),
each with

* ``causes`` — the metrics behind it, ranked by their share: a multivariate
  detector's own attribution (``FrameResult.attribution``), else each metric's
  calibrated level over the incident's rows, summed over the member nodes;
* ``nodes`` — for an event on several nodes, the nodes ranked the same way;
* ``type`` — :func:`~kizashi.engine.anomaly_type.anomaly_type` of the top cause.

:func:`row_causes` gives the ranked causes of every flagged row (the
``causes`` column of ``kizashi detect --explain``).

>>> from kizashi.data.frame import SeriesFrame
>>> from kizashi.engine.batch import score_frame
>>> rng = np.random.default_rng(0)
>>> values = rng.normal(10, 1, (600, 6))
>>> values[400:420, [1, 3, 5]] += 30           # "lat" of every node at once
>>> stamps = (np.arange(600) * 60).astype("datetime64[s]").astype("datetime64[ns]")
>>> frame = SeriesFrame(stamps, values, ("n1", "n1", "n2", "n2", "n3", "n3"), ("cpu", "lat") * 3)
>>> result = score_frame(frame, "threshold", {"window": 100, "k": 5.0})
>>> [(d.summary, d.causes[0][0], d.type) for d in diagnose(result, frame)]
[('lat on 3/3 nodes', 'lat', 'level_shift')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kizashi.engine.anomaly_type import anomaly_type
from kizashi.engine.causes import rank_causes, shares_of
from kizashi.engine.grouping import DEFAULT_WINDOW, IncidentGroup, group_incidents

__all__ = ["Diagnosis", "diagnose", "format_causes", "row_causes"]


@dataclass(frozen=True)
class Diagnosis:
    """One event: its group of alerts, ranked causes (metrics, nodes) and type."""

    group: IncidentGroup
    causes: list[tuple[str, float]]
    nodes: list[tuple[str, float]]
    type: str

    @property
    def summary(self) -> str:
        """The group's summary; for an entity-level (multivariate) score, with its causes."""
        text = self.group.summary
        if text.startswith("anomaly on ") and self.causes:
            names = [name for name, _ in self.causes[:2]]
            text = " and ".join(names) + text[len("anomaly"):]
        return text

    def causes_text(self) -> str:
        """"fs_latency_ms 71%, cpu_util 20%; nodes node03 9%, node07 9%"."""
        text = format_causes(self.causes)
        if len(self.nodes) > 1:
            text += "; nodes " + format_causes(self.nodes)
        return text


def format_causes(causes: Sequence[tuple[str, float]]) -> str:
    """``[("fs", 0.7), ("cpu", 0.2)]`` → ``"fs 70%, cpu 20%"``."""
    return ", ".join(f"{name} {share:.0%}" for name, share in causes)


def _columns_of(frame: Any) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for j, entity in enumerate(frame.entities):
        out.setdefault(entity, []).append(j)
    return out


def _contributions(result: Any, frame: Any, rows: slice, entity: str,
                   columns: dict[str, list[int]]) -> np.ndarray:
    """Per metric of ``entity`` (frame columns), its contribution over ``rows``."""
    cols = columns[entity]
    if result.attribution is not None:
        block = result.attribution[rows, cols]
    else:  # univariate: the calibrated levels of the entity's series
        block = np.clip(np.nan_to_num(result.levels[rows][:, cols], nan=0.0), 0.0, None)
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(np.nanmean(block, axis=0), nan=0.0) if block.size else \
            np.zeros(len(cols))


def diagnose(result: Any, frame: Any, *, entity_labels: Mapping[str, Mapping[str, str]] |
             None = None, by: Sequence[str] = (), window: int = DEFAULT_WINDOW, k: int = 3
             ) -> list[Diagnosis]:
    """The grouped incidents of ``result`` (of ``frame``), with causes and types."""
    groups = group_incidents(result.incidents, result.entities, result.metrics,
                             entity_labels=entity_labels, by=by, window=window)
    columns = _columns_of(frame)
    out = []
    for group in groups:
        rows = slice(group.start, group.end + 1)
        by_metric: dict[str, float] = {}
        by_node: dict[str, float] = {}
        best: tuple[float, int] = (-1.0, -1)
        for entity in group.entities:
            if entity not in columns:
                continue
            share = _contributions(result, frame, rows, entity, columns)
            weight = 1.0
            if result.attribution is not None:  # weigh a node's shares by its own level
                j = result.entities.index(entity)
                weight = float(np.nan_to_num(np.nanmax(result.levels[rows, j])
                                             if np.isfinite(result.levels[rows, j]).any()
                                             else 0.0))
                weight = max(weight, 1e-12)
            for col, value in zip(columns[entity], share, strict=True):
                metric = frame.metrics[col]
                by_metric[metric] = by_metric.get(metric, 0.0) + weight * float(value)
                by_node[entity] = by_node.get(entity, 0.0) + weight * float(value)
                if weight * value > best[0]:
                    best = (weight * float(value), col)
        causes = _ranked(by_metric, k)
        nodes = _ranked(by_node, k) if len(group.entities) > 1 else []
        column = best[1] if best[1] >= 0 else None
        if column is None and group.members and not np.isnan(result.values).all():
            column = group.members[0].series
        kind = anomaly_type(frame.values[:, column], group.start, group.end) \
            if column is not None else "level_shift"
        out.append(Diagnosis(group, causes, nodes, kind))
    return out


def _ranked(totals: dict[str, float], k: int) -> list[tuple[str, float]]:
    if not totals:
        return []
    names = list(totals)
    shares = shares_of(np.array([[totals[n] for n in names]]))[0]
    return rank_causes(shares, names, k=k)


def row_causes(result: Any, frame: Any, k: int = 3) -> np.ndarray:
    """``(T, outputs)`` text: the ranked causes of every flagged step ("" elsewhere)."""
    columns = _columns_of(frame)
    out = np.full(result.flags.shape, "", dtype=object)
    for j, entity in enumerate(result.entities):
        rows = np.flatnonzero(result.flags[:, j])
        if not rows.size or entity not in columns:
            continue
        cols = columns[entity]
        names = [frame.metrics[c] for c in cols]
        if result.attribution is not None:
            block = result.attribution[np.ix_(rows, cols)]
        else:
            block = shares_of(np.nan_to_num(result.levels[np.ix_(rows, cols)], nan=0.0))
        for r, row in enumerate(rows):
            out[row, j] = format_causes(rank_causes(block[r], names, k=k))
    return out
