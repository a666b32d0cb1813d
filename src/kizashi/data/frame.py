"""Many metric series on one time axis: the one in-memory form kizashi's layers share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kizashi.data.validation import ValidationReport


@dataclass(frozen=True, eq=False)
class SeriesFrame:
    """Values of many series (entity × metric) at shared timestamps.

    ``values[i, j]`` is series ``j`` at ``timestamps[i]``; NaN means the series
    has no observation there (missing or a gap), never an invented value.
    Timestamps are UTC ``datetime64[ns]``, strictly increasing.

    Parameters
    ----------
    timestamps : ndarray of datetime64[ns], shape (T,)
    values : ndarray of float64, shape (T, S)
    entities, metrics : tuple of str, length S
        Series ``j`` is metric ``metrics[j]`` of entity (node) ``entities[j]``.
    labels : ndarray of bool, shape (T, S), optional
        Ground-truth anomaly labels, when the source has them.
    name : str
        Where the data came from (a file name), for messages.
    report : ValidationReport
        What was checked and repaired when the data was read.
    meta : dict
        Source-specific extras (e.g. NAB windows, SMD interpretation labels).

    Examples
    --------
    >>> frame = SeriesFrame.from_arrays(
    ...     np.arange(3) * 60.0, [[1.0, 5.0], [2.0, np.nan], [3.0, 7.0]],
    ...     entities=["node1", "node2"], metrics=["cpu", "cpu"])
    >>> frame.n_times, frame.n_series, frame.keys[1]
    (3, 2, ('node2', 'cpu'))
    >>> frame.select(entities=["node2"]).values[:, 0].tolist()
    [5.0, nan, 7.0]
    """

    timestamps: np.ndarray
    values: np.ndarray
    entities: tuple[str, ...]
    metrics: tuple[str, ...]
    labels: np.ndarray | None = None
    name: str = ""
    report: ValidationReport = field(default_factory=ValidationReport)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t, v = self.timestamps, self.values
        if t.ndim != 1 or not np.issubdtype(t.dtype, np.datetime64):
            raise ValueError("timestamps must be a 1-D datetime64 array")
        if v.ndim != 2 or v.shape[0] != t.shape[0]:
            raise ValueError(f"values must have shape (time, series) = ({t.shape[0]}, S)")
        if not (len(self.entities) == len(self.metrics) == v.shape[1]):
            raise ValueError("need one entity and one metric name per series")
        if t.size > 1 and not np.all(np.diff(t.astype(np.int64)) > 0):
            raise ValueError("timestamps must be strictly increasing")
        if self.labels is not None and self.labels.shape != v.shape:
            raise ValueError("labels must have the same shape as values")

    # ---------------------------------------------------------------- build
    @classmethod
    def from_arrays(cls, timestamps: Any, values: Any, entities: Any = None,
                    metrics: Any = None, **kwargs: Any) -> SeriesFrame:
        """Build from plain arrays; numeric timestamps are seconds since 1970 (UTC)."""
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        t = np.asarray(timestamps)
        if not np.issubdtype(t.dtype, np.datetime64):
            t = (np.asarray(t, dtype=np.float64) * 1e9).round().astype("datetime64[ns]")
        n = values.shape[1]
        entities = tuple(entities) if entities is not None else tuple(
            f"series{j}" for j in range(n))
        metrics = tuple(metrics) if metrics is not None else ("value",) * n
        return cls(t.astype("datetime64[ns]"), values, entities, metrics, **kwargs)

    # ------------------------------------------------------------ accessors
    @property
    def n_times(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_series(self) -> int:
        return int(self.values.shape[1])

    @property
    def keys(self) -> list[tuple[str, str]]:
        """``(entity, metric)`` of each series."""
        return list(zip(self.entities, self.metrics, strict=True))

    @property
    def epoch_seconds(self) -> np.ndarray:
        """Timestamps as float seconds since 1970-01-01 UTC."""
        t = self.timestamps
        nanoseconds = t.view(np.int64) if t.dtype == np.dtype("datetime64[ns]") else \
            t.astype(np.int64)  # a view: no copy of a long index
        return nanoseconds / 1e9

    def step(self) -> float | None:
        """The usual sampling interval in seconds (the median gap), or None for < 2 rows."""
        if self.n_times < 2:
            return None
        return float(np.median(np.diff(self.timestamps.astype(np.int64)))) / 1e9

    def gap_after(self, factor: float = 1.5) -> np.ndarray:
        """True at row ``i`` when the next row comes more than ``factor`` usual steps later."""
        step = self.step()
        out = np.zeros(self.n_times, dtype=bool)
        if step is None:
            return out
        out[:-1] = np.diff(self.timestamps.astype(np.int64)) / 1e9 > factor * step
        return out

    def column(self, entity: str, metric: str) -> np.ndarray:
        """The values of one series."""
        for j, key in enumerate(self.keys):
            if key == (entity, metric):
                return self.values[:, j]
        raise KeyError(f"{self.name or 'frame'} has no series {entity}/{metric}")

    def select(self, entities: Any = None, metrics: Any = None) -> SeriesFrame:
        """The series whose entity and metric are in the given lists (all when None)."""
        keep = [
            j for j, (e, m) in enumerate(self.keys)
            if (entities is None or e in entities) and (metrics is None or m in metrics)
        ]
        return self.take(keep)

    def take(self, columns: list[int]) -> SeriesFrame:
        """The series at the given column positions."""
        return SeriesFrame(
            self.timestamps, self.values[:, columns],
            tuple(self.entities[j] for j in columns), tuple(self.metrics[j] for j in columns),
            None if self.labels is None else self.labels[:, columns],
            self.name, self.report, self.meta,
        )

    def unique_entities(self) -> list[str]:
        return list(dict.fromkeys(self.entities))

    def unique_metrics(self) -> list[str]:
        return list(dict.fromkeys(self.metrics))

    # ---------------------------------------------------------------- edges
    def to_long(self):
        """A pandas DataFrame in long form: ``timestamp, entity, metric, value``."""
        import pandas as pd

        n_t, n_s = self.values.shape
        return pd.DataFrame({
            "timestamp": np.repeat(self.timestamps, n_s),
            "entity": np.tile(np.asarray(self.entities, dtype=object), n_t),
            "metric": np.tile(np.asarray(self.metrics, dtype=object), n_t),
            "value": self.values.reshape(-1),
        })
