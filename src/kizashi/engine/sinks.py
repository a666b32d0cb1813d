"""Sinks: where the engine's results go.

Batch results (:class:`~kizashi.engine.batch.FrameResult`) go to score files;
the daemon's alert changes go to alert sinks (Alertmanager, a JSON webhook)
through its transactional outbox (:class:`~kizashi.watch.alerts.Notifier`, whose
``_targets`` table names each sink's URL and renderer). The engine, not a sink,
owns the alert lifecycle: sinks only render and send. Every processed step's
scores, thresholds, alert states and forecast bands go to a TSDB through the
daemon's ``remote_write`` sink (:mod:`kizashi.watch.remote_write`, with its own
durable queue, filled in the same tick).

``SCORE_WRITERS`` maps a file suffix to a writer; adding one is a function and a line.

>>> sorted(SCORE_WRITERS)
['.csv', '.parquet']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kizashi.lazy import import_target

__all__ = ["SCORE_WRITERS", "write_scores"]

SCORE_WRITERS: dict[str, str] = {
    ".csv": "kizashi.engine.sinks:write_csv",
    ".parquet": "kizashi.engine.sinks:write_parquet",
}


def write_scores(result: Any, path: str | Path) -> None:
    """Write ``timestamp,entity,metric,detector,score,is_anomaly`` rows to ``path``.

    The writer is chosen by the suffix (``.csv`` also for anything unknown).
    """
    suffix = Path(path).suffix.lower()
    import_target(SCORE_WRITERS.get(suffix, SCORE_WRITERS[".csv"]))(result, path)


def write_csv(result: Any, path: str | Path) -> None:
    """CSV: an empty ``score`` while a series trains or learns; times in UTC with ``Z``."""
    from kizashi.data.utc_text import utc_text

    table = result.to_long()
    table["timestamp"] = utc_text(table["timestamp"].to_numpy())
    table.to_csv(path, index=False)


def write_parquet(result: Any, path: str | Path) -> None:
    """Parquet, same columns."""
    result.to_long().to_parquet(path, index=False)
