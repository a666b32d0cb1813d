"""A limit on a counter's rate: the rate is Prometheus' (resets, gaps), and a counter whose
rate climbs towards a rate limit is warned ahead of the crossing, with its ETA."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.prediction.predictor import predict_frame
from kizashi.prediction.rates import counter_rate, rate_of, with_rates

STEP = 300.0


def test_the_rate_reads_a_fall_as_a_reset_and_spans_a_gap():
    seconds = np.array([0.0, 300, 600, 900, 1200, 1500])
    values = np.array([[100.0, np.nan], [400, 7], [np.nan, 7], [1000, 10], [60, 4], [360, 4]])
    rate = counter_rate(values, seconds)
    # by hand: 300/300; gap: (1000 − 400)/600; reset: 60 counted since, /300; 300/300
    np.testing.assert_allclose(rate[:, 0], [np.nan, 1.0, np.nan, 1.0, 0.2, 1.0])
    np.testing.assert_allclose(rate[:, 1], [np.nan, np.nan, 0.0, 0.01, 4 / 300, 0.0])


@pytest.mark.parametrize("text, metric", [("rate(a_total)", "a_total"),
                                          (" rate( b_count ) ", "b_count"),
                                          ("a_total", None), ("rate()", None)])
def test_rate_limits_are_named_rate_of_a_metric(text, metric):
    assert rate_of(text) == metric


@pytest.mark.parametrize("seed", range(3))
def test_a_counter_whose_rate_climbs_is_warned_ahead_of_its_rate_limit(seed):
    """Requests at a rate of 2/s for 3 days, then climbing by 0.5/s per hour (noise 3 %):
    the rate reaches 5/s 6 h into the climb, by hand. The rate series warns 1–6 h before
    that, and over the last hour before it every warning's ETA is within 45 minutes of it
    (the median within 15); the counter itself gets no anomaly-ahead prediction, and
    nothing warns during the flat days."""
    rng = np.random.default_rng(seed)
    n = 4 * 288
    hours = np.arange(n) * STEP / 3600
    climb = 72.0
    rate = 2.0 + 0.5 * np.clip(hours - climb, 0, None)
    counter = np.cumsum(rate * STEP * rng.normal(1.0, 0.03, n))
    frame = SeriesFrame.from_arrays(np.arange(n) * STEP, counter[:, None], ["web1"],
                                    ["http_requests_total"])
    limits = {"rate(http_requests_total)": 5.0}
    both = with_rates(frame, limits)
    assert both.metrics == ("http_requests_total", "rate(http_requests_total)")
    result = predict_frame(both, "6h", limits)
    assert np.isnan(result.probability[:, 0]).all()  # the counter: no band
    crossing = round((climb + 6.0) * 12)
    warned = np.flatnonzero(result.warning[:, 1])
    assert warned.size and warned[0] > climb * 12, warned[:3]
    lead = (crossing - warned[0]) * STEP / 3600
    assert 1.0 <= lead <= 6.0, lead
    last_hour = warned[(warned >= crossing - 12) & (warned < crossing)]
    assert last_hour.size == 12  # warned at every step of it
    eta = (result.eta[last_hour, 1] - both.timestamps[crossing]) / np.timedelta64(3600, "s")
    assert np.abs(eta).max() <= 0.75 and np.median(np.abs(eta)) <= 0.25, eta


def test_the_rate_series_keeps_the_frame_report_meta_and_labels():
    labels = np.array([[False, False], [True, False], [False, True]])
    frame = SeriesFrame.from_arrays([0, 60, 120], [[0.0, 5.0], [60.0, 6.0], [180.0, 7.0]],
                                    ["a", "a"], ["errors_total", "load"], labels=labels,
                                    meta={"source": "x"})
    frame.report.add("note", "kept")
    both = with_rates(frame, {"rate(errors_total)": 5.0})
    assert both.report is frame.report and both.meta == {"source": "x"}
    assert both.labels[:, 2].tolist() == labels[:, 0].tolist()  # the counter's own labels
