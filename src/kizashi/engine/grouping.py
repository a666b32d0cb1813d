"""One event, one incident: alerts that start together across nodes and metrics, grouped.

A filesystem hang raises an alert on every node's latency; a batch daemon in a
restart loop shows in its restart count and in its node's CPU. Paging once per
series buries the operator. :func:`group_incidents` joins per-series incidents
(:class:`kizashi.engine.batch.Incident`) into :class:`IncidentGroup` s:

* **time** — an incident joins a group when it starts while the group is still
  open (at or before the group's last active row) and within ``window`` steps of
  the group's first start: alerts that *start together*, not any two that overlap;
* **labels** — only incidents whose entities share the values of the ``by``
  label keys (rack, partition, job; from ``entity_labels``) are grouped, so two
  racks failing at once stay two incidents.

Each group has its members and a one-line summary ("fs_latency_ms on 24/24
nodes"). The count of nodes is taken among the entities in the group's label
scope that report one of its metrics.

>>> from kizashi.engine.batch import Incident
>>> entities = ("n1", "n1", "n2", "n2", "n3", "n3")
>>> metrics = ("cpu", "lat") * 3
>>> alerts = [Incident(1, 100, 110, 9.0), Incident(3, 101, 109, 8.0), Incident(5, 102, 111, 7.0),
...           Incident(0, 500, 505, 5.0)]
>>> groups = group_incidents(alerts, entities, metrics)
>>> [(g.start, g.end, len(g.members)) for g in groups]
[(100, 111, 3), (500, 505, 1)]
>>> groups[0].summary, groups[1].summary
('lat on 3/3 nodes', 'cpu on n1')
>>> racks = {"n1": {"rack": "a"}, "n2": {"rack": "a"}, "n3": {"rack": "b"}}
>>> [g.summary for g in group_incidents(alerts, entities, metrics, entity_labels=racks,
...                                     by=("rack",))]
['lat on 2/2 nodes (rack=a)', 'lat on n3 (rack=b)', 'cpu on n1 (rack=a)']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DEFAULT_WINDOW", "IncidentGroup", "group_incidents", "summarise"]

#: Steps after a group's first start within which a new alert still "starts together".
DEFAULT_WINDOW = 6


@dataclass(frozen=True)
class IncidentGroup:
    """Per-series incidents that form one event: rows ``start`` to ``end`` (inclusive)."""

    start: int
    end: int
    members: tuple[Any, ...]  #: the per-series incidents (``series``, ``start``, ``end``, ``peak``)
    entities: tuple[str, ...]  #: distinct entities, in order of first alert
    metrics: tuple[str, ...]  #: distinct metrics, the most alerted first
    scope: tuple[tuple[str, str], ...]  #: the label values the members share (``by`` keys)
    summary: str
    peak: float

    @property
    def series(self) -> tuple[int, ...]:
        """Output columns of the members."""
        return tuple(m.series for m in self.members)


def _scope(entity: str, entity_labels: Mapping[str, Mapping[str, str]] | None,
           by: Sequence[str]) -> tuple[tuple[str, str], ...]:
    labels = (entity_labels or {}).get(entity, {})
    return tuple((key, str(labels.get(key, ""))) for key in by)


def summarise(metrics: Sequence[str], entities: Sequence[str], n_scope: int,
              scope: Sequence[tuple[str, str]] = ()) -> str:
    """"cpu_util and fs_latency_ms on 24/24 nodes (rack=a)", or "... on node07".

    >>> summarise(["a", "b", "c", "d"], ["n1", "n2"], 4)
    'a, b, c and 1 more metric on 2/4 nodes'
    """
    shown = [m for m in metrics if m != "*"][:3]
    extra = len([m for m in metrics if m != "*"]) - len(shown)
    if extra:
        what = ", ".join(shown) + f" and {extra} more metric{'s' if extra > 1 else ''}"
    elif len(shown) > 1:
        what = ", ".join(shown[:-1]) + " and " + shown[-1]
    else:
        what = shown[0] if shown else "anomaly"
    total = max(n_scope, len(entities))
    where = entities[0] if len(entities) == 1 else f"{len(entities)}/{total} nodes"
    labels = ", ".join(f"{k}={v}" for k, v in scope if v)
    return f"{what} on {where}" + (f" ({labels})" if labels else "")


def group_incidents(incidents: Sequence[Any], entities: Sequence[str], metrics: Sequence[str],
                    *, entity_labels: Mapping[str, Mapping[str, str]] | None = None,
                    by: Sequence[str] = (), window: int = DEFAULT_WINDOW
                    ) -> list[IncidentGroup]:
    """Group per-series ``incidents`` (see the module docs), in order of start.

    ``entities``/``metrics`` name each output column (as in
    :class:`kizashi.engine.batch.FrameResult`); ``entity_labels`` maps an entity
    to its labels, and ``by`` lists the label keys whose values must match.
    """
    if window < 0:
        raise ValueError(f"group_incidents: window must be ≥ 0 steps, got {window}")
    missing = [key for key in by if entity_labels is None or
               not any(key in labels for labels in entity_labels.values())]
    if missing:
        raise ValueError(f"group_incidents: no entity has the label {missing[0]!r}; "
                         "give entity labels with that key or group by another")
    open_groups: dict[tuple, list[list[Any]]] = {}
    closed: list[list[Any]] = []
    for incident in sorted(incidents, key=lambda i: (i.start, i.series)):
        scope = _scope(entities[incident.series], entity_labels, by)
        candidates = open_groups.setdefault(scope, [])
        joined = False
        for group in candidates:
            first = group[0].start
            last = max(m.end for m in group)
            if incident.start <= last and incident.start - first <= window:
                group.append(incident)
                joined = True
                break
        if not joined:
            candidates.append([incident])
    for groups in open_groups.values():
        closed.extend(groups)
    scope_size = _scope_sizes(entities, metrics, entity_labels, by)
    out = [_make(group, entities, metrics, entity_labels, by, scope_size) for group in closed]
    return sorted(out, key=lambda g: (g.start, g.entities, g.metrics))


def _scope_sizes(entities: Sequence[str], metrics: Sequence[str],
                 entity_labels: Mapping[str, Mapping[str, str]] | None, by: Sequence[str]
                 ) -> dict[tuple, dict[str, set[str]]]:
    """For each label scope, which entities report each metric."""
    out: dict[tuple, dict[str, set[str]]] = {}
    for entity, metric in zip(entities, metrics, strict=True):
        out.setdefault(_scope(entity, entity_labels, by), {}).setdefault(metric, set()).add(entity)
    return out


def _make(group: list[Any], entities: Sequence[str], metrics: Sequence[str],
          entity_labels: Mapping[str, Mapping[str, str]] | None, by: Sequence[str],
          scope_size: dict[tuple, dict[str, set[str]]]) -> IncidentGroup:
    names = list(dict.fromkeys(entities[m.series] for m in group))
    counts = Counter(metrics[m.series] for m in group)
    ordered = [metric for metric, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    scope = _scope(names[0], entity_labels, by)
    reporting = set().union(*(scope_size.get(scope, {}).get(m, set()) for m in ordered))
    peaks = [m.peak for m in group if np.isfinite(m.peak)]
    return IncidentGroup(
        start=min(m.start for m in group), end=max(m.end for m in group),
        members=tuple(group), entities=tuple(names), metrics=tuple(ordered), scope=scope,
        summary=summarise(ordered, names, len(reporting), scope),
        peak=max(peaks) if peaks else float("nan"))
