"""Decisions: turning anomaly scores into anomalies and alerts.

Detectors only score. This layer, shared by the CLI, the daemon and the
benchmarks, decides: a cutoff per series (fixed, a quantile of reference
scores, or the detector's own convention) and an alert filter with a minimum
duration and hysteresis, so that one incident is one alert.
"""

from kizashi.decision.alert_filter import AlertFilter
from kizashi.decision.cutoffs import Cutoff, parse_cutoff

__all__ = ["AlertFilter", "Cutoff", "parse_cutoff"]
