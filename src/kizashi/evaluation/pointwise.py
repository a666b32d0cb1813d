"""Point-wise metrics: every time step is one sample.

Precision, recall and F1 of binary predictions, the best F1 over all score
thresholds, AUC-ROC (the probability that a random anomalous point outscores a
random normal one, ties counting half) and AUC-PR as average precision
(``Σ (R_k - R_{k-1}) P_k`` over decreasing thresholds, as scikit-learn's
``average_precision_score``). Point-wise scores treat a long anomaly as many
samples; see :mod:`kizashi.evaluation.events` for event-wise counting and
:mod:`kizashi.evaluation.vus` for range-aware areas.

Examples
--------
>>> labels = np.array([0, 0, 1, 1, 0, 0, 0, 1])
>>> scores = np.array([0.1, 0.2, 0.9, 0.4, 0.3, 0.1, 0.5, 0.8])
>>> round(auc_roc(labels, scores), 4), round(auc_pr(labels, scores), 4)
(0.9333, 0.9167)
>>> precision_recall_f1(labels, scores >= 0.5)
PointScores(precision=0.6666666666666666, recall=0.6666666666666666, f1=0.6666666666666666)
>>> best_f1(labels, scores).threshold
0.4
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

__all__ = ["BestF1", "PointScores", "auc_pr", "auc_roc", "best_f1", "precision_recall_f1"]


class PointScores(NamedTuple):
    """Precision, recall and F1 (0 where undefined)."""

    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class BestF1:
    """The highest F1 over thresholds, and where it is reached (``score >= threshold``)."""

    f1: float
    precision: float
    recall: float
    threshold: float


def _check(labels: Any, scores: Any, what: str = "scores") -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels)
    s = np.asarray(scores)
    if y.ndim != 1 or s.shape != y.shape:
        raise ValueError(f"labels {y.shape} and {what} {s.shape} must be 1-D of equal length")
    if s.dtype.kind == "f" and np.isnan(s).any():
        raise ValueError(f"{what} contain NaN; fill or drop them first")
    return y.astype(bool), s


def _f1(precision: Any, recall: Any) -> Any:
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 2 * precision * recall / (precision + recall)
    return np.nan_to_num(f1, nan=0.0)


def precision_recall_f1(labels: Any, predictions: Any) -> PointScores:
    """Point-wise precision, recall and F1 of binary ``predictions``."""
    y, p = _check(labels, predictions, "predictions")
    p = p.astype(bool)
    tp = int((y & p).sum())
    precision = tp / int(p.sum()) if p.any() else 0.0
    recall = tp / int(y.sum()) if y.any() else 0.0
    return PointScores(precision, recall, float(_f1(np.float64(precision), np.float64(recall))))


def _curve(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thresholds (distinct scores, descending) with cumulative TP and FP counts."""
    y, s = _check(labels, scores)
    s = s.astype(np.float64)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    ends = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.shape[0] - 1]
    tp = np.cumsum(y)[ends]
    fp = (ends + 1) - tp
    return s[ends], tp.astype(np.float64), fp.astype(np.float64)


def auc_roc(labels: Any, scores: Any) -> float:
    """Area under the ROC curve (trapezoidal, so ties count half)."""
    _, tp, fp = _curve(labels, scores)
    if tp.size == 0 or tp[-1] == 0 or fp[-1] == 0:
        raise ValueError("auc_roc needs both anomalous and normal points")
    tpr = np.r_[0.0, tp / tp[-1]]
    fpr = np.r_[0.0, fp / fp[-1]]
    return float(np.dot(np.diff(fpr), (tpr[1:] + tpr[:-1]) / 2.0))


def auc_pr(labels: Any, scores: Any) -> float:
    """Area under the precision-recall curve as average precision."""
    _, tp, fp = _curve(labels, scores)
    if tp.size == 0 or tp[-1] == 0:
        raise ValueError("auc_pr needs at least one anomalous point")
    precision = tp / (tp + fp)
    recall = tp / tp[-1]
    return float(np.dot(np.diff(np.r_[0.0, recall]), precision))


def best_f1(labels: Any, scores: Any) -> BestF1:
    """The best point-wise F1 over every threshold (the highest threshold on ties)."""
    thresholds, tp, fp = _curve(labels, scores)
    if tp.size == 0 or tp[-1] == 0:
        raise ValueError("best_f1 needs at least one anomalous point")
    precision = tp / (tp + fp)
    recall = tp / tp[-1]
    f1 = _f1(precision, recall)
    k = int(np.argmax(f1))
    return BestF1(float(f1[k]), float(precision[k]), float(recall[k]), float(thresholds[k]))
