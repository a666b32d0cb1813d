"""Running a registered detector over NAB-like series, streaming and without peeking."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from kizashi.evaluation.nab import NabScorer
from kizashi.evaluation.nab_files import read_results
from kizashi.evaluation.nab_runner import run_detector, window_labels


def make_series(name="t/a.csv", n=600, spike=450, seed=0):
    rng = np.random.default_rng(seed)
    stamps = np.datetime64("2024-01-01", "ns") + np.arange(n) * np.timedelta64(5, "m")
    values = rng.normal(size=n)
    values[spike] += 12.0
    return SimpleNamespace(name=name, timestamps=stamps, values=values,
                           windows=[(stamps[spike - 10], stamps[spike + 10])])


def test_scores_in_unit_interval_and_written_in_nab_format(tmp_path):
    corpus = [make_series(), make_series("t/b.csv", spike=300, seed=1)]
    scores = run_detector(corpus, "threshold", {"window": 100}, out_dir=tmp_path,
                          result_name="thr", progress=False)
    for series in corpus:
        s = scores[series.name]
        assert s.shape == series.values.shape and s.min() >= 0 and s.max() <= 1
    files = read_results(tmp_path)["thr"]
    assert set(files) == {"t/a.csv", "t/b.csv"}
    np.testing.assert_allclose(files["t/a.csv"].scores, scores["t/a.csv"], rtol=1e-11)
    result = NabScorer(corpus).score(scores)["standard"]
    assert result.normalized == pytest.approx(100 * (result.raw_score + 2) / 4)
    assert result.raw_score > 1.5  # both spikes found early in their windows


def test_no_peeking_at_the_future():
    series = make_series()
    future = make_series()
    future.values = series.values.copy()
    future.values[500:] = 1e6
    a = run_detector([series], "threshold", progress=False)["t/a.csv"]
    b = run_detector([future], "threshold", progress=False)["t/a.csv"]
    assert np.array_equal(a[:500], b[:500])


def test_unknown_detector_or_parameter():
    with pytest.raises(ValueError, match="unknown detector"):
        run_detector([make_series()], "nope", progress=False)
    with pytest.raises(ValueError, match="has no parameter"):
        run_detector([make_series()], "threshold", {"nope": 1}, progress=False)


def test_window_labels():
    series = make_series(n=50, spike=20)
    labels = window_labels(series.timestamps, series.windows)
    assert labels.sum() == 21 and labels[10] == 1 and labels[31] == 0


@pytest.mark.slow
def test_the_default_on_nab_is_the_ensemble_with_the_documented_settings():
    # 2000 rows: a probationary period of 300 (15 %): likelihoods learn on 150 + 150,
    # a rest of 60 steps from a tail of 1e-4; shape and context members on, the threshold
    # member weighted 0.85 and the context member 0.95, likelihoods averaging 20 scores (the
    # discord member's 10), the pattern members' likelihoods one-sided, a window of 1000 and
    # uncapped z-scores; neither the centre's floor under the threshold likelihood's spread
    # nor its four-week window nor its steadiness boost
    from kizashi.detectors.registry import create

    series = make_series(n=2000, spike=1500)
    series.values[1700:1760] = 0.0  # a flat stretch: a new shape, no new value
    got = run_detector([series], "ensemble", calibration="auto", progress=False)["t/a.csv"]
    expected = create("ensemble", learning_period=150, estimation_samples=150,
                      suppress_red_zone=True, hold=1, window=1000, z_cap=None, rest=60,
                      averaging_window=20, alert_tail=1e-5, seasonal=False,
                      discord_weight=1.0, context_weight=0.95, rest_tail=1e-4,
                      threshold_weight=0.85, discord_averaging_window=10,
                      likelihood_min_std=None, long_window=None,
                      pattern_two_sided=False, steady_window=None).score(series.values)
    np.testing.assert_allclose(got[300:], np.nan_to_num(expected[300:], nan=0.0),
                               rtol=1e-9, atol=1e-12)
    assert got[1500] == 1.0  # the spike leaves the range seen so far


def test_no_peeking_at_the_future_for_the_default():
    series = make_series(n=1200, spike=900)
    future = make_series(n=1200, spike=900)
    future.values[1000:] = 1e6
    a = run_detector([series], "ensemble", calibration="auto", progress=False)["t/a.csv"]
    b = run_detector([future], "ensemble", calibration="auto", progress=False)["t/a.csv"]
    assert np.array_equal(a[:1000], b[:1000])
