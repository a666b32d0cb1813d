"""VUS-ROC / VUS-PR against TSB-AD's reference implementation (to 1e-6)."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.evaluation.vus import anomaly_ranges, vus


def random_case(rng, n, n_events, edges=False, ties=False):
    labels = np.zeros(n, dtype=int)
    for _ in range(n_events):
        start = int(rng.integers(0, n - 5))
        labels[start:start + int(rng.integers(1, 60))] = 1
    if edges:
        labels[:7] = 1
        labels[-3:] = 1
    scores = rng.random(n) + labels * rng.random() * 2
    return labels, np.round(scores, 1) if ties else scores


@pytest.fixture(scope="module")
def tsb():
    metrics = pytest.importorskip(
        "TSB_AD.evaluation.metrics",
        reason="tsb-ad is not installed: `pip install --no-deps tsb-ad` (needs scikit-learn) "
        "to compare VUS with the reference implementation")
    from TSB_AD.evaluation.basic_metrics import generate_curve

    return metrics.get_metrics, generate_curve


@pytest.mark.filterwarnings("ignore::UserWarning")  # sklearn's ill-defined-precision notes
def test_matches_get_metrics_on_random_inputs(tsb):
    get_metrics, _ = tsb
    rng = np.random.default_rng(0)
    for n, events, window, kw in [(400, 3, 20, {"edges": True}), (600, 2, 100, {"ties": True})]:
        labels, scores = random_case(rng, n, events, **kw)
        ref = get_metrics(scores, labels, slidingWindow=window)
        mine = vus(labels, scores, sliding_window=window)
        assert mine.roc == pytest.approx(ref["VUS-ROC"], abs=1e-6)
        assert mine.pr == pytest.approx(ref["VUS-PR"], abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_matches_reference_curves_on_random_inputs(tsb, seed):
    _, generate_curve = tsb
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(200, 2500))
    labels, scores = random_case(rng, n, int(rng.integers(1, 6)), edges=seed == 0,
                                 ties=seed == 1)
    window = int(rng.integers(0, 120))
    *_, ref_roc, ref_pr = generate_curve(labels, scores, window)
    mine = vus(labels, scores, sliding_window=window)
    assert mine.roc == pytest.approx(ref_roc, abs=1e-6)
    assert mine.pr == pytest.approx(ref_pr, abs=1e-6)


def test_matches_reference_on_real_nab_series(tsb, nab_corpus, nab_shipped_results):
    _, generate_curve = tsb
    from kizashi.evaluation.nab_runner import window_labels

    results = nab_shipped_results["windowedGaussian"]
    checked = 0
    for name in ("realKnownCause/nyc_taxi.csv", "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv",
                 "realTweets/Twitter_volume_AAPL.csv"):
        result = results[name]
        series = next(s for s in nab_corpus if s.name == name)
        labels = window_labels(result.timestamps, series.windows)
        scores = result.scores + 1e-3 * np.abs(np.sin(np.arange(len(labels))))  # few ties
        for window in (0, 50):
            *_, ref_roc, ref_pr = generate_curve(labels, scores, window)
            mine = vus(labels, scores, sliding_window=window)
            assert mine.roc == pytest.approx(ref_roc, abs=1e-6), name
            assert mine.pr == pytest.approx(ref_pr, abs=1e-6), name
            checked += 1
    assert checked == 6


def test_perfect_scores_and_errors():
    labels = np.zeros(100, dtype=int)
    labels[40:50] = 1
    assert vus(labels, labels.astype(float), sliding_window=0).pr == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no anomaly"):
        vus(np.zeros(10), np.zeros(10))
    with pytest.raises(ValueError, match="NaN"):
        vus(labels, np.full(100, np.nan))


def test_anomaly_ranges():
    assert anomaly_ranges([1, 1, 0, 1]).tolist() == [[0, 1], [3, 3]]
    assert anomaly_ranges([0, 0]).shape == (0, 2)
