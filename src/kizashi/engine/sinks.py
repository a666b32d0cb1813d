"""Sinks: where the engine's results go.

Batch results (:class:`~kizashi.engine.batch.FrameResult`) go to score files;
the daemon's alert changes go to alert sinks (Alertmanager, a JSON webhook)
through its transactional outbox (:class:`~kizashi.watch.alerts.Notifier`, whose
``_targets`` table names each sink's URL and renderer). The engine, not a sink,
owns the alert lifecycle: sinks only render and send. Every processed step's
scores, thresholds, alert states and forecast bands go to a TSDB through the
daemon's ``remote_write`` sink (:mod:`kizashi.watch.remote_write`, with its own
durable queue, filled in the same tick).

Score files are written by suffix through :mod:`kizashi.engine.table_files` (CSV, gzip
CSV, Parquet, JSON, JSON Lines); any other suffix is refused there.

>>> sorted(SCORE_WRITERS)
['.csv', '.csv.gz', '.json', '.jsonl', '.parquet']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kizashi.engine.table_files import TABLE_FORMATS, write_table

__all__ = ["SCORE_WRITERS", "write_scores"]

#: The suffixes a score file may end in (→ what the file holds).
SCORE_WRITERS: dict[str, str] = TABLE_FORMATS


def write_scores(result: Any, path: str | Path) -> None:
    """Write ``timestamp,entity,metric,detector,score,is_anomaly`` rows to ``path``.

    The format is chosen by the suffix (:func:`~kizashi.engine.table_files.table_format`;
    an unknown one is a ``ValueError`` before anything is written).
    """
    write_table(result.to_long(), path)

