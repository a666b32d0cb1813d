"""Point-wise metrics, checked against scikit-learn where it has the same metric."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.evaluation.pointwise import auc_pr, auc_roc, best_f1, precision_recall_f1


@pytest.mark.parametrize("seed", range(4))
def test_auc_matches_scikit_learn(seed):
    metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn not installed")
    rng = np.random.default_rng(seed)
    labels = (rng.random(500) < 0.1).astype(int)
    scores = rng.random(500) + labels * 0.5
    if seed % 2:
        scores = np.round(scores, 1)  # ties
    assert auc_roc(labels, scores) == pytest.approx(metrics.roc_auc_score(labels, scores),
                                                    abs=1e-12)
    assert auc_pr(labels, scores) == pytest.approx(
        metrics.average_precision_score(labels, scores), abs=1e-12)


def test_best_f1_is_the_best_over_all_thresholds():
    rng = np.random.default_rng(3)
    labels = (rng.random(300) < 0.2).astype(int)
    scores = np.round(rng.random(300) + labels * 0.3, 2)
    best = best_f1(labels, scores)
    brute = max(precision_recall_f1(labels, scores >= t).f1 for t in np.unique(scores))
    assert best.f1 == pytest.approx(brute)
    assert precision_recall_f1(labels, scores >= best.threshold).f1 == pytest.approx(best.f1)


def test_precision_recall_f1_edge_cases():
    assert precision_recall_f1([0, 1], [0, 0]) == (0.0, 0.0, 0.0)
    assert precision_recall_f1([0, 1], [1, 1]) == pytest.approx((0.5, 1.0, 2 / 3))
    with pytest.raises(ValueError, match="equal length"):
        precision_recall_f1([0, 1], [1])
    with pytest.raises(ValueError, match="both anomalous and normal"):
        auc_roc([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        auc_pr([0, 1], [np.nan, 1.0])
