"""Missing steps in a live feed, laid out as ``kizashi predict`` lays out a file's missing rows.

``kizashi predict`` places a file with stretches of no rows on its regular time grid and reads
each stretch as the straight line between its two ends
(:func:`~kizashi.prediction.predictor.fill_missing_stretches`); the forecasters count time in
steps, so a stretch left out would shift the daily rhythm after it. A daemon gets its rows on
the grid of its interval: a step at which *no* series has a value (a scrape outage, the
source down) is such a missing row, and so is a jump of the timestamps by more than one step.
:func:`lay_out_missing` turns a block of new rows into the rows to step through: empty rows
dropped, and before each row that follows a stretch of missing steps, the line between the
last row stepped and that row (NaN for a series missing at either end, as in the batch).
The line needs the row after the stretch, so nothing is predicted for the missing steps: they
are stepped through when the stretch ends (:class:`~kizashi.prediction.live.LivePredictor`).

>>> times = np.array([600.0, 900.0, 1200.0])
>>> values = np.array([[np.nan], [np.nan], [5.0]])   # two empty steps, then 5
>>> rows = lay_out_missing(times, values, last_time=300.0, previous=np.array([2.0]), step=300.0)
>>> rows.times.tolist(), rows.values[:, 0].tolist()
([600.0, 900.0, 1200.0], [3.0, 4.0, 5.0])
>>> rows.observed.tolist()
[False, False, True]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SteppedRows", "lay_out_missing"]


@dataclass(frozen=True, eq=False)
class SteppedRows:
    """The rows to step through: ``times`` (seconds), ``values`` ``(rows, series)``, and
    ``observed`` (False for a row filled in across a missing stretch)."""

    times: np.ndarray
    values: np.ndarray
    observed: np.ndarray


def lay_out_missing(times: np.ndarray, values: np.ndarray, last_time: float,
                    previous: np.ndarray, step: float,
                    max_missing: int | None = None) -> SteppedRows:
    """The rows of a new block to step through (see the module docs).

    ``last_time`` and ``previous`` are the time and the values of the last row stepped;
    ``last_time`` NaN: no value seen yet, and rows up to the first value are stepped as they
    come (a series joining a watch is one missing until then, whatever its neighbours). A
    row less than one step after the one before it is stepped as is, and so is one after a
    stretch of more than ``max_missing`` steps (the line is not laid out: it would cost as
    many steps as the stretch is long, and the forecasters remember less than that).
    """
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(values).any(axis=1) if values.shape[1] else np.ones(times.size, bool)
    if np.isnan(last_time):
        keep[:int(np.argmax(keep)) if keep.any() else keep.size] = True
    times, values = times[keep], values[keep]
    if times.size == 0:
        return SteppedRows(times, values, np.ones(0, dtype=bool))
    before_t = np.concatenate([[last_time], times[:-1]])
    with np.errstate(invalid="ignore"):
        missing = np.round((times - before_t) / step) - 1
    missing = np.where(np.isfinite(missing), np.maximum(missing, 0), 0).astype(np.int64)
    if max_missing is not None:
        missing[missing > max_missing] = 0
    if not missing.any():  # the steady tick: one row after the other
        return SteppedRows(times, values, np.ones(times.size, dtype=bool))
    before_v = np.vstack([np.asarray(previous, dtype=np.float64)[None, :], values[:-1]])
    out_t, out_v, out_o = [], [], []
    for i in range(times.size):  # once per stretch (each vectorised over series)
        k = int(missing[i])
        if k:
            lo, hi = before_v[i], values[i]
            share = np.arange(1, k + 1)[:, None] / (k + 1)
            out_v.append(lo + share * (hi - lo))
            out_t.append(before_t[i] + step * np.arange(1, k + 1))
            out_o.append(np.zeros(k, dtype=bool))
        out_v.append(values[i:i + 1])
        out_t.append(times[i:i + 1])
        out_o.append(np.ones(1, dtype=bool))
    return SteppedRows(np.concatenate(out_t), np.vstack(out_v), np.concatenate(out_o))
