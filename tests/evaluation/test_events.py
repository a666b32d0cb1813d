"""Event-wise metrics, detection delay and lead time on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.evaluation.events import (
    best_event_f1,
    detection_delays,
    event_scores,
    lead_times,
)

LABELS = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0])


def test_a_long_event_counts_once():
    alarms = np.array([0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    result = event_scores(LABELS, alarms)
    assert (result.precision, result.recall, result.n_events, result.n_false_alarms) == (
        1.0, 0.5, 2, 0)
    assert result.f1 == pytest.approx(2 / 3)


def test_false_alarm_runs_count_once_each():
    alarms = np.array([0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0])
    result = event_scores(LABELS, alarms)
    assert (result.precision, result.recall) == (2 / 3, 1.0)


def test_one_alarm_over_everything_is_not_precise():
    result = event_scores(LABELS, np.ones(12))
    assert (result.recall, result.n_false_alarms) == (1.0, 3)
    assert result.precision == pytest.approx(2 / 5)


def test_no_alarms_or_no_events():
    assert event_scores(LABELS, np.zeros(12)).f1 == 0.0
    assert event_scores(np.zeros(12), LABELS).precision == 0.0


def test_best_event_f1():
    scores = np.array([0.1, 0.2, 0.9, 0.1, 0.1, 0.8, 0.1, 0.7, 0.1, 0.1, 0.1, 0.1])
    best = best_event_f1(LABELS, scores)
    assert best.f1 == pytest.approx(0.8) and best.threshold == 0.7
    assert (best.precision, best.recall) == (2 / 3, 1.0)


def test_detection_delays_in_rows_and_seconds():
    alarms = np.array([0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    assert detection_delays(LABELS, alarms).tolist() == [2.0, 0.0]
    stamps = np.datetime64("2024-01-01", "ns") + np.arange(12) * np.timedelta64(5, "m")
    assert detection_delays(LABELS, alarms, stamps).tolist() == [600.0, 0.0]
    assert np.isnan(detection_delays(LABELS, np.zeros(12))).all()


def test_lead_times():
    warnings = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    got = lead_times(LABELS, warnings, horizon=2)
    assert got[0] == 1.0 and got[1] == 2.0
    got = lead_times(LABELS, warnings, horizon=1)
    assert got[0] == 1.0 and np.isnan(got[1])
    assert lead_times(LABELS, np.array([0, 1] + [0] * 10), horizon=3)[0] == 0.0
