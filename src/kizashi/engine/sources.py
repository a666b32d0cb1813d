"""Sources: where series come from, by name, for ``kizashi detect`` and ``kizashi watch``.

Two kinds, one registry (``type:`` in a watch config):

``prometheus``
    Prometheus' HTTP API: the daemon asks for the steps it has not seen yet
    (``instant``/``range``); ``kizashi detect --prometheus URL --query Q --since 7d``
    reads a range once.
``csv``
    a wide CSV file another program appends to: each read returns the rows
    after the last one processed.
``file``
    any file the validated reader takes (CSV or Parquet, long or wide, plain
    or gzip), re-read when it grows; series are labelled ``entity``/``metric``.
``logs``
    a log file tailed as it grows: lines per Drain3 template, host and step
    (:mod:`kizashi.engine.log_source`).

A source that follows the clock (``follows_clock = True``) is asked for the
steps between its last one and now; the others are asked for what came after
the last timestamp processed. Adding a source is one module with that
protocol, one line in :data:`SOURCES` and its tests.

>>> sorted(SOURCES)
['csv', 'file', 'logs', 'prometheus']
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from kizashi.lazy import import_target
from kizashi.watch.sources import Samples, SourceError

__all__ = ["SOURCES", "FileSource", "frame_from_samples", "make_source"]

SOURCES: dict[str, str] = {
    "prometheus": "kizashi.watch.sources:PrometheusSource",
    "csv": "kizashi.watch.sources:CsvSource",
    "file": "kizashi.engine.sources:FileSource",
    "logs": "kizashi.engine.log_source:LogSource",
}


def make_source(spec: Any) -> Any:
    """The source object for a :class:`~kizashi.watch.config.SourceConfig`."""
    try:
        cls = import_target(SOURCES[spec.type])
    except KeyError:
        raise ValueError(f"unknown source type {spec.type!r}; known: "
                         f"{', '.join(sorted(SOURCES))}") from None
    return cls.from_config(spec)


class FileSource:
    """A CSV or Parquet file (long or wide), read through the validated reader.

    Each series is labelled ``{"entity": ..., "metric": ...}``. ``read(since)``
    returns the rows after ``since`` (seconds since the epoch); the file is read
    again only when its size or modification time changed.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "m.csv")
    >>> _ = open(path, "w").write("timestamp,entity,metric,value\\n"
    ...                           "1970-01-01T00:00:10Z,n1,cpu,0.5\\n"
    ...                           "1970-01-01T00:00:20Z,n1,cpu,0.7\\n")
    >>> samples = FileSource(path).read(since=10.0)
    >>> samples.timestamps.tolist(), samples.labels, samples.values.tolist()
    ([20.0], [{'entity': 'n1', 'metric': 'cpu'}], [[0.7]])
    """

    follows_clock = False

    def __init__(self, path: str, format: str = "auto", name: str = "file"):
        self.path = path
        self.format = format
        self.name = name
        self._seen: tuple[float, int] | None = None
        self._cache: Samples | None = None

    @classmethod
    def from_config(cls, spec: Any) -> FileSource:
        """From a watch config's source entry."""
        return cls(spec.path or "", getattr(spec, "format", "auto") or "auto", spec.name)

    def check(self) -> str:
        """Whether the file is there."""
        if not os.path.exists(self.path):
            raise SourceError(f"source {self.name!r}: file {self.path} does not exist")
        return "file"

    def read(self, since: float | None) -> Samples:
        """Rows after ``since`` (all rows when None)."""
        import warnings

        from kizashi.data.readers import read_series

        try:
            stat = os.stat(self.path)
        except OSError as error:
            raise SourceError(f"source {self.name!r}: cannot read {self.path}: "
                              f"{error.strerror or error}") from None
        key = (stat.st_mtime, stat.st_size)
        if self._cache is None or key != self._seen:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    frame = read_series(self.path, format=self.format)
            except ValueError as error:
                raise SourceError(f"source {self.name!r}: {error}") from None
            self._cache = Samples(frame.epoch_seconds, [
                {"entity": e, "metric": m} for e, m in frame.keys], frame.values)
            self._seen = key
        samples = self._cache
        keep = np.ones(samples.timestamps.size, dtype=bool) if since is None else \
            samples.timestamps > since
        return Samples(samples.timestamps[keep], list(samples.labels), samples.values[keep])


def frame_from_samples(samples: Samples, name: str = "prometheus") -> Any:
    """A :class:`~kizashi.data.frame.SeriesFrame` of what a source returned.

    The entity is the ``instance`` label (else ``entity``, else all labels but
    ``__name__``), the metric the ``__name__`` label (else ``metric``, else
    ``value``). Series that would share an entity and a metric (``cpu="0"`` and
    ``cpu="1"`` of one node) keep apart: their other labels join the metric name.

    >>> s = Samples(np.array([0.0, 60.0]), [{"instance": "a:9100", "__name__": "up"}],
    ...             np.array([[1.0], [0.0]]))
    >>> frame = frame_from_samples(s)
    >>> frame.keys, frame.n_times
    ([('a:9100', 'up')], 2)
    >>> two = Samples(np.array([0.0]), [{"instance": "a", "cpu": "0"},
    ...                                 {"instance": "a", "cpu": "1"}], np.array([[1.0, 2.0]]))
    >>> frame_from_samples(two).keys
    [('a', 'value{"cpu":"0"}'), ('a', 'value{"cpu":"1"}')]
    """
    from collections import Counter

    from kizashi.data.frame import SeriesFrame
    from kizashi.watch.sources import series_key

    if not samples.labels:
        raise ValueError(f"{name}: the query returned no series")
    entities, metrics, rests = [], [], []
    for labels in samples.labels:
        rest = {k: v for k, v in labels.items() if k not in ("__name__", "metric")}
        entity = labels.get("instance") or labels.get("entity") or (
            series_key(rest) if rest else "*")
        entities.append(entity)
        metrics.append(labels.get("__name__") or labels.get("metric") or "value")
        rests.append({k: v for k, v in rest.items() if k not in ("instance", "entity")})
    counts = Counter(zip(entities, metrics, strict=True))
    metrics = [m + series_key(r) if counts[(e, m)] > 1 else m
               for e, m, r in zip(entities, metrics, rests, strict=True)]
    counts = Counter(zip(entities, metrics, strict=True))
    metrics = [series_key(labels) if counts[(e, m)] > 1 else m  # label sets are unique
               for e, m, labels in zip(entities, metrics, samples.labels, strict=True)]
    stamps = (np.asarray(samples.timestamps, dtype=np.float64) * 1e9).astype(np.int64).astype(
        "datetime64[ns]")
    return SeriesFrame(stamps, np.asarray(samples.values, dtype=np.float64), tuple(entities),
                       tuple(metrics), name=name)
