"""Event-wise metrics: an anomaly event counts once, however long it lasts.

An *event* is a run of consecutive positive labels; an *alarm* is a run of
consecutive positive predictions.

* event recall = labelled events touched by at least one prediction / events;
* event precision = detected events / (detected events + false alarms), where a
  false alarm is a run of positive predictions outside every labelled event
  (so one alarm that covers the whole series cannot score a perfect precision:
  each stretch of it between events is a false alarm);
* event F1 = their harmonic mean, and :func:`best_event_f1` its best value over
  score thresholds;
* detection delay = time from an event's start to the first prediction inside
  it (missed events give NaN);
* lead time (for forecasts) = time from the first prediction in the ``horizon``
  before an event to the event's start (0 when the first warning is at the
  start itself; NaN when there is none).

Point-adjusted F1 (every point of an event counts as detected once any point is)
inflates scores and is deliberately not offered as a headline metric.

Examples
--------
>>> labels = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0, 0])
>>> alarms = np.array([0, 0, 1, 0, 0, 0, 0, 0, 1, 0])
>>> event_scores(labels, alarms)
EventScores(precision=0.5, recall=0.5, f1=0.5, n_events=2, n_false_alarms=1)
>>> detection_delays(labels, alarms).tolist()
[1.0, nan]
>>> lead_times(labels, np.array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0]), horizon=2).tolist()
[1.0, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from kizashi.evaluation.vus import anomaly_ranges

__all__ = ["BestEventF1", "EventScores", "best_event_f1", "detection_delays", "event_scores",
           "lead_times"]


class EventScores(NamedTuple):
    """Event-wise precision, recall and F1 (0 where undefined), with the counts."""

    precision: float
    recall: float
    f1: float
    n_events: int
    n_false_alarms: int


@dataclass(frozen=True)
class BestEventF1:
    """The best event-wise F1 over thresholds, and where it is reached."""

    f1: float
    precision: float
    recall: float
    threshold: float


def _binary(labels: Any, predictions: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels)
    p = np.asarray(predictions)
    if y.ndim != 1 or p.shape != y.shape:
        raise ValueError(f"labels {y.shape} and predictions {p.shape} must be 1-D of equal "
                         "length")
    return y.astype(bool), p.astype(bool)


def _touched(ranges: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """For each inclusive range, whether any flag inside it is set."""
    if ranges.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    cum = np.r_[0, np.cumsum(flags)]
    return cum[ranges[:, 1] + 1] - cum[ranges[:, 0]] > 0


def event_scores(labels: Any, predictions: Any) -> EventScores:
    """Event-wise precision, recall and F1 of binary ``predictions``."""
    y, p = _binary(labels, predictions)
    events = anomaly_ranges(y)
    detected = int(_touched(events, p).sum())
    false_alarms = int(anomaly_ranges(p & ~y).shape[0])
    recall = detected / events.shape[0] if events.shape[0] else 0.0
    precision = detected / (detected + false_alarms) if detected + false_alarms else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return EventScores(precision, recall, f1, int(events.shape[0]), false_alarms)


def best_event_f1(labels: Any, scores: Any, max_thresholds: int = 1000) -> BestEventF1:
    """The best event-wise F1 over thresholds (``score >= threshold``).

    Every distinct score is tried when there are at most ``max_thresholds``;
    otherwise that many evenly spaced quantiles of the scores.
    """
    s = np.asarray(scores, dtype=np.float64)
    if np.isnan(s).any():
        raise ValueError("best_event_f1: scores contain NaN; fill or drop them first")
    candidates = np.unique(s)
    if candidates.size > max_thresholds:
        candidates = np.unique(np.quantile(s, np.linspace(0.0, 1.0, max_thresholds)))
    best = BestEventF1(0.0, 0.0, 0.0, float(candidates[-1]) if candidates.size else np.inf)
    for threshold in candidates[::-1]:
        result = event_scores(labels, s >= threshold)
        if result.f1 > best.f1:
            best = BestEventF1(result.f1, result.precision, result.recall, float(threshold))
    return best


def _times(timestamps: Any, n: int) -> np.ndarray:
    if timestamps is None:
        return np.arange(n, dtype=np.float64)
    t = np.asarray(timestamps)
    if t.shape != (n,):
        raise ValueError(f"got {t.shape} timestamps for {n} time steps")
    if np.issubdtype(t.dtype, np.datetime64):
        return t.astype("datetime64[ns]").astype(np.int64) / 1e9
    return t.astype(np.float64)


def detection_delays(labels: Any, predictions: Any, timestamps: Any = None) -> np.ndarray:
    """Per event: time from its start to the first prediction inside it (NaN if missed).

    In rows without ``timestamps``; in seconds with datetime64 timestamps.
    """
    y, p = _binary(labels, predictions)
    t = _times(timestamps, y.shape[0])
    out = []
    for start, end in anomaly_ranges(y):
        hits = np.flatnonzero(p[start:end + 1])
        out.append(t[start + hits[0]] - t[start] if hits.size else np.nan)
    return np.asarray(out, dtype=np.float64)


def lead_times(labels: Any, predictions: Any, horizon: float, timestamps: Any = None) -> np.ndarray:
    """Per event: how long before its start the first warning came (NaN if none).

    Warnings count when they lie within ``horizon`` (rows, or seconds with
    datetime64 timestamps) before the event's start, the start included.
    """
    y, p = _binary(labels, predictions)
    t = _times(timestamps, y.shape[0])
    alarm_times = t[p]
    out = []
    for start, _ in anomaly_ranges(y):
        lo = np.searchsorted(alarm_times, t[start] - horizon, side="left")
        hi = np.searchsorted(alarm_times, t[start], side="right")
        out.append(t[start] - alarm_times[lo] if hi > lo else np.nan)
    return np.asarray(out, dtype=np.float64)
