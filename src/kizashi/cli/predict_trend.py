"""``kizashi predict``'s word on series that rise to their limit while still learning.

:mod:`kizashi.prediction.warmup_trend` draws the straight line; here it becomes either
warnings (``--warmup-trend``, the default) or, with ``--no-warmup-trend``, one note per
such series in the summary, so a disk filling in its first hours is said before it is
full either way.
"""

from __future__ import annotations

from typing import Any

import click
import numpy as np

__all__ = ["OPTION", "apply_trend", "trend_notes"]

OPTION = click.option(
    "--warmup-trend/--no-warmup-trend", default=True, show_default=True,
    help="While a series with a limit still learns (~42 h), warn when the straight line "
         "through its last 6 h (at least 2 h) reaches the limit within the horizon (ETA from "
         "the line, no probability; a series seen to fill and be emptied warns only when a "
         "cycle goes further). Off: such series are only noted in the summary (a fill that "
         "is emptied every night looks the same until it has been emptied twice).")


def apply_trend(result: Any, values: np.ndarray, warn: bool) -> tuple[Any, np.ndarray]:
    """``result`` with the trend line's warnings when ``warn`` (else unchanged), and the
    learning rows ``(T, S)`` whose line reaches the limit."""
    from kizashi.prediction.warmup_trend import with_trend

    trended, early = with_trend(result, values)
    return (trended if warn else result), early


def trend_notes(result: Any, early: np.ndarray, limit: int = 20) -> None:
    """One summary line per series whose trend line crosses while it learns, before any
    warning of its own (with ``--no-warmup-trend``, often the one at the limit)."""
    warned = np.where(result.warning.any(axis=0), np.argmax(result.warning, axis=0),
                      len(result.warning))
    series = [j for j in np.flatnonzero(early.any(axis=0))
              if np.argmax(early[:, j]) < warned[j]]
    for shown, j in enumerate(series):
        if shown == limit:
            click.echo(f"  ... and {len(series) - limit} more series rising while learning")
            break
        first = int(np.argmax(early[:, j]))
        at = np.datetime_as_string(result.timestamps[first], unit="m")
        click.echo(f"  {result.entities[j]}/{result.metrics[j]}: still learning, but the line "
                   f"through its last hours reaches {result.limits[j]:g} within the horizon "
                   f"from {at}Z (not a warning: --no-warmup-trend was given)")
