"""A watch's status as columns: one array per field, one entry per series.

The daemon publishes, after each tick, one :class:`SeriesTable` per watch:
arrays of ids, last values, last-seen times and, per detector, the last
level, threshold, firing flag and warm-up progress, plus the series' labels.
Building it costs a few array copies, not a Python object per series, and the
dashboard and ``/metrics`` read what they show from it: the most anomalous
series first (:meth:`SeriesTable.ranking`), those matching a label search
(:meth:`SeriesTable.matching`), one page of rows (:meth:`SeriesTable.row`) and
the entities × metrics heatmap (:meth:`SeriesTable.heatmap`).

Examples
--------
>>> import numpy as np
>>> table = SeriesTable(
...     ids=np.array([1, 2, 3]),
...     labels=[{"instance": "a", "__name__": "load"}, {"instance": "b", "__name__": "load"},
...             {"instance": "a", "__name__": "mem"}],
...     value=np.array([0.5, 9.0, 1.0]), last_seen=np.array([10.0, 10.0, 10.0]),
...     detectors={"sigma": DetectorColumns(
...         score=np.array([1.0, 8.0, np.nan]), threshold=np.array([4.0, 4.0, 4.0]),
...         firing=np.array([False, True, False]), seen=np.array([40, 40, 3]), needed=30)})
>>> table.ranking().tolist()          # firing first, then by score over threshold
[1, 0, 2]
>>> table.matching("instance=a").tolist(), table.matching("mem").tolist()
([0, 2], [2])
>>> table.row(2)["detectors"]["sigma"]["learning"]
{'seen': 3, 'needed': 30}
>>> rows, columns, cells, ids = table.heatmap()
>>> rows, columns, cells.tolist(), ids.tolist()
(['a', 'b'], ['load', 'mem'], [[0.25, nan], [2.0, nan]], [[1, 3], [2, 0]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["DetectorColumns", "SeriesTable"]

#: Labels that name the entity of a series (the heatmap's rows), first found wins.
ENTITY_LABELS = ("instance", "node", "host", "hostname", "entity", "pod", "job")
#: Labels that name the metric of a series (the heatmap's columns), first found wins.
METRIC_LABELS = ("__name__", "metric", "series")


#: NUL in label values and search words, for numpy's fixed-width text, which takes a
#: trailing NUL for padding: a value "a\x00" would be "a", and a word "\x00" empty, found in
#: every value (a search for it listed every series). A noncharacter no label holds.
NUL = "\U0010ffff"


@dataclass
class DetectorColumns:
    """One detector's last level, threshold, firing flag and warm-up, per series."""

    score: np.ndarray
    threshold: np.ndarray
    firing: np.ndarray
    seen: np.ndarray            #: steps seen by the decider
    needed: int                 #: steps needed before a series is scored

    def learning(self, j: int) -> dict[str, int] | None:
        """``{"seen": n, "needed": m}`` while series ``j`` warms up, else None."""
        seen = int(self.seen[j]) if j < self.seen.size else 0
        if seen >= self.needed or (j < self.score.size and math.isfinite(self.score[j])):
            return None
        return {"seen": seen, "needed": int(self.needed)}

    def ratio(self) -> np.ndarray:
        """Score over threshold (NaN where either is missing)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            out = self.score / np.where(self.threshold > 0, self.threshold, np.nan)
        return np.where(np.isfinite(out), out, np.nan)


@dataclass
class SeriesTable:
    """The series of one watch, as columns (see the module docs)."""

    ids: np.ndarray
    labels: list[dict[str, str]]
    value: np.ndarray
    last_seen: np.ndarray
    detectors: dict[str, DetectorColumns] = field(default_factory=dict)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def memo(self, key: Any, compute: Any) -> Any:
        """``compute()``, once per table and ``key`` (a table never changes once published;
        the few last results are kept)."""
        if key not in self._memo:
            if len(self._memo) >= 32:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = compute()
        return self._memo[key]

    def __len__(self) -> int:
        return int(self.ids.size)

    @property
    def firing(self) -> np.ndarray:
        """Per series: any detector's alert fires."""
        out = np.zeros(len(self), dtype=bool)
        for d in self.detectors.values():
            out |= d.firing[:len(self)]
        return out

    def anomaly(self) -> np.ndarray:
        """Per series, the largest score over threshold of its detectors (NaN: none)."""
        out = np.full(len(self), np.nan)
        for d in self.detectors.values():
            out = np.fmax(out, d.ratio()[:len(self)])
        return out

    def ranking(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Positions, most anomalous first: firing, then by score over threshold."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows)
        anomaly = np.nan_to_num(self.anomaly()[rows], nan=-np.inf)
        order = np.lexsort((rows, -anomaly, ~self.firing[rows]))
        return rows[order]

    def matching(self, query: str) -> np.ndarray:
        """Positions of series whose labels match every word of ``query``.

        A word ``key=value`` wants that label to contain ``value``; ``key!=value``
        not to; a bare word matches any label's value (case-insensitive substrings).
        """
        words = query.lower().split()
        keep = np.ones(len(self), dtype=bool)
        for word in words:
            if "!=" in word:
                key, value = word.split("!=", 1)
                keep &= ~self._contains(key, value)
            elif "=" in word:
                key, value = word.split("=", 1)
                keep &= self._present(key) & self._contains(key, value)
            else:
                hit = np.zeros(len(self), dtype=bool)
                for key in self._label_names():
                    hit |= self._contains(key, word)
                keep &= hit
        return np.flatnonzero(keep)

    def _label_names(self) -> list[str]:
        """Every label name (lower case) some series has."""
        return self.memo("names", lambda: sorted({k.lower() for lab in self.labels
                                                   for k in lab}))

    def _column(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """``(present, values)`` of the label ``key`` (any case), values in lower case."""
        def build() -> tuple[np.ndarray, np.ndarray]:
            names = {k for lab in self.labels[:1] for k in lab if k.lower() == key} or {
                k for lab in self.labels for k in lab if k.lower() == key}
            values = []
            for lab in self.labels:
                found = next((lab[k] for k in names if k in lab), None)
                values.append(None if found is None else str(found).lower().replace("\x00", NUL))
            present = np.array([v is not None for v in values], dtype=bool)
            text = np.array([v or "" for v in values], dtype=str)
            return present, text

        return self.memo(("column", key), build)

    def _present(self, key: str) -> np.ndarray:
        return self._column(key)[0]

    def _contains(self, key: str, value: str) -> np.ndarray:
        present, text = self._column(key)
        if not len(self):
            return present
        return np.char.find(text, value.replace("\x00", NUL)) >= 0

    def row(self, j: int) -> dict[str, Any]:
        """Series ``j`` as the status' ``series`` entry."""
        return {
            "id": int(self.ids[j]),
            "labels": self.labels[j],
            "value": _f(self.value[j]) if j < self.value.size else None,
            "last_seen": _f(self.last_seen[j]) if j < self.last_seen.size else None,
            "detectors": {name: {
                "score": _f(d.score[j]) if j < d.score.size else None,
                "threshold": _f(d.threshold[j]) if j < d.threshold.size else None,
                "firing": bool(d.firing[j]) if j < d.firing.size else False,
                "learning": d.learning(j),
            } for name, d in self.detectors.items()},
        }

    def heatmap(self, rows: np.ndarray | None = None, entity: str | None = None,
                metric: str | None = None
                ) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
        """``(entities, metrics, cells, ids)``: per entity and metric the series' largest
        score over threshold (NaN where there is no series or no score yet), and the id
        of that series (0: none)."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows)
        entity = entity or _first_label(self.labels, rows, ENTITY_LABELS)
        metric = metric or _first_label(self.labels, rows, METRIC_LABELS)
        names = [(self.labels[j].get(entity, "") if entity else "",
                  self.labels[j].get(metric, "") if metric else str(self.ids[j]))
                 for j in rows.tolist()]
        entities = sorted({e for e, _ in names})
        metrics = sorted({m for _, m in names})
        e_index = {e: i for i, e in enumerate(entities)}
        m_index = {m: i for i, m in enumerate(metrics)}
        cells = np.full((len(entities), len(metrics)), np.nan)
        ids = np.zeros((len(entities), len(metrics)), dtype=np.int64)
        if rows.size:
            anomaly = self.anomaly()[rows]
            r = np.fromiter((e_index[e] for e, _ in names), np.int64, len(names))
            c = np.fromiter((m_index[m] for _, m in names), np.int64, len(names))
            # in rising order of anomaly: where series share a cell, the largest comes last
            order = np.argsort(np.nan_to_num(anomaly, nan=-np.inf), kind="stable")
            cells[r[order], c[order]] = anomaly[order]
            ids[r[order], c[order]] = self.ids[rows][order]
        return entities, metrics, cells, ids


def _matches(labels: dict[str, str], word: str) -> bool:
    if "!=" in word:
        key, value = word.split("!=", 1)
        return value not in labels.get(key, "")
    if "=" in word:
        key, value = word.split("=", 1)
        return key in labels and value in labels[key]
    return any(word in v for v in labels.values())


def _first_label(labels: list[dict[str, str]], rows: np.ndarray,
                 candidates: tuple[str, ...]) -> str | None:
    """The first candidate label that some of these series carry."""
    sample = [labels[j] for j in rows[:1000].tolist()]
    for name in candidates:
        if any(name in item for item in sample):
            return name
    return None


def _f(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
