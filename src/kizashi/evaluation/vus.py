"""VUS-ROC and VUS-PR: the volume under range-based ROC and PR surfaces.

Paparrizos, Boniol, Palpanas, Tsay, Elmore & Franklin (VLDB 2022), "Volume
Under the Surface: a new accuracy evaluation measure for time-series anomaly
detection", as computed by the TSB-AD benchmark (Liu & Paparrizos, NeurIPS
2024; ``TSB_AD.evaluation.metrics.get_metrics``, version ``opt``).

For every buffer length ``w = 0 .. L`` (``L`` = ``sliding_window``) each labelled
anomaly ``[s, e]`` gets soft margins: a point ``d`` rows before ``s`` or after
``e`` (``d <= w // 2``) has label weight ``sqrt(1 - d / w)``. At ``n_thresholds``
thresholds taken from the sorted scores (``linspace(0, n - 1, k)`` ranks, a
point is predicted when ``score >= threshold``):

* ``TP`` = predicted anomaly points + the weights of predicted margin points;
* ``P' = (P + N_labels) / 2`` with ``P`` the anomaly points and ``N_labels = P``
  + the weights of predicted margin points;
* existence = the share of (margin-widened, merged) anomaly ranges with at least
  one predicted point;
* ``TPR = min(TP / P', 1) * existence``, ``FPR = (N_pred - TP) / (n - P')``,
  ``precision = TP / N_pred``.

The ROC curve ``(0, 0) → thresholds → (1, 1)`` is integrated with the trapezoid
rule, the PR curve as a step sum ``Σ ΔTPR · precision``; VUS averages both over
``w``. The computation here is vectorised (one sort per buffer length instead of
a pass over the series per threshold) and equals TSB-AD's to rounding.

Examples
--------
>>> labels = np.zeros(200, dtype=int)
>>> labels[100:110] = 1
>>> scores = np.zeros(200)
>>> scores[98:112] = 1.0
>>> result = vus(labels, scores, sliding_window=10)
>>> round(result.roc, 4), round(result.pr, 4)
(0.996, 0.8927)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["VusResult", "anomaly_ranges", "vus", "vus_pr", "vus_roc"]


@dataclass(frozen=True)
class VusResult:
    """VUS-ROC and VUS-PR, with the per-buffer-length areas they average."""

    roc: float
    pr: float
    roc_by_window: np.ndarray
    pr_by_window: np.ndarray


def anomaly_ranges(labels: Any) -> np.ndarray:
    """Inclusive ``(start, end)`` rows of each run of positive labels, shape ``(k, 2)``.

    >>> anomaly_ranges([0, 1, 1, 0, 0, 1]).tolist()
    [[1, 2], [5, 5]]
    """
    flags = np.asarray(labels).astype(bool).astype(np.int8)
    padded = np.r_[0, flags, 0]
    change = np.diff(padded)
    starts = np.flatnonzero(change == 1)
    ends = np.flatnonzero(change == -1) - 1
    return np.stack([starts, ends], axis=1) if starts.size else np.zeros((0, 2), dtype=np.int64)


def _merged(ranges: np.ndarray, pad: int, n: int) -> np.ndarray:
    """Ranges widened by ``pad`` on both sides, merged where they meet (TSB-AD's rule)."""
    out = []
    start = max(int(ranges[0, 0]) - pad, 0)
    for k in range(len(ranges) - 1):
        if ranges[k, 1] + pad < ranges[k + 1, 0] - pad:
            out.append((start, int(ranges[k, 1]) + pad))
            start = int(ranges[k + 1, 0]) - pad
    out.append((start, min(int(ranges[-1, 1]) + pad, n - 1)))
    return np.asarray(out, dtype=np.int64)


def _margin_weights(ranges: np.ndarray, anomalous: np.ndarray, window: int) -> np.ndarray:
    """Soft label weights of the margin points for buffer length ``window`` (0 on anomalies)."""
    n = anomalous.shape[0]
    weight = np.zeros(n)
    half = window // 2
    for s, e in ranges:
        after = np.arange(e + 1, min(e + half + 1, n))
        weight[after] += np.sqrt(1.0 - (after - e) / window)
        before = np.arange(max(s - half, 0), s)
        weight[before] += np.sqrt(1.0 - (s - before) / window)
    return np.where(anomalous, 0.0, np.minimum(weight, 1.0))


def vus(labels: Any, scores: Any, sliding_window: int = 100,
        n_thresholds: int = 250) -> VusResult:
    """VUS-ROC and VUS-PR of ``scores`` against binary ``labels``.

    Parameters
    ----------
    labels : array-like of 0/1
        Ground truth per time step; needs at least one anomaly.
    scores : array-like of float
        Anomaly scores (higher = more anomalous), same length, no NaN.
    sliding_window : int
        The largest buffer length ``L``; TSB-AD's ``get_metrics`` default is 100
        (its benchmark passes a period estimated from the data).
    n_thresholds : int
        Thresholds taken from the sorted scores (TSB-AD: 250).
    """
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=np.float64)
    if y.ndim != 1 or s.shape != y.shape:
        raise ValueError(f"vus: labels {y.shape} and scores {s.shape} must be 1-D and equal")
    if np.isnan(s).any():
        raise ValueError("vus: scores contain NaN; fill or drop them first")
    if sliding_window < 0 or n_thresholds < 1:
        raise ValueError("vus: sliding_window must be >= 0 and n_thresholds >= 1")
    anomalous = y.astype(np.int64) == 1
    ranges = anomaly_ranges(anomalous)
    if ranges.shape[0] == 0:
        raise ValueError("vus: the labels hold no anomaly; VUS is undefined")
    n = s.shape[0]
    ascending = np.sort(s)
    thresholds = ascending[::-1][np.linspace(0, n - 1, n_thresholds).astype(int)]
    n_pred = n - np.searchsorted(ascending, thresholds, side="left")
    positives = float(anomalous.sum())
    anomaly_scores = np.sort(s[anomalous])
    tp_points = anomaly_scores.shape[0] - np.searchsorted(anomaly_scores, thresholds, "left")

    windows = np.arange(sliding_window + 1)
    roc = np.empty(windows.shape[0])
    pr = np.empty(windows.shape[0])
    for w in windows:
        weight = _margin_weights(ranges, anomalous, int(w)) if w > 0 else np.zeros(n)
        support = np.flatnonzero(weight > 0)
        if support.size:
            order = np.argsort(-s[support], kind="stable")
            desc = s[support][order]
            cum = np.cumsum(weight[support][order])
            count = np.searchsorted(-desc, -thresholds, side="right")
            margin = np.where(count > 0, cum[np.maximum(count - 1, 0)], 0.0)
        else:
            margin = np.zeros(thresholds.shape[0])
        tp = tp_points + margin
        p_new = (positives + positives + margin) / 2.0
        merged = _merged(ranges, int(w) // 2, n)
        peaks = np.array([s[a:b + 1].max() for a, b in merged])
        existence = (peaks[None, :] >= thresholds[:, None]).sum(axis=1) / merged.shape[0]
        tpr = np.minimum(tp / p_new, 1.0) * existence
        fpr = (n_pred - tp) / (n - p_new)
        precision = tp / n_pred
        tpr_curve = np.r_[0.0, tpr, 1.0]
        fpr_curve = np.r_[0.0, fpr, 1.0]
        roc[w] = np.dot(np.diff(fpr_curve), (tpr_curve[1:] + tpr_curve[:-1]) / 2.0)
        pr[w] = np.dot(np.diff(tpr_curve[:-1]), precision)
    return VusResult(float(roc.mean()), float(pr.mean()), roc, pr)


def vus_roc(labels: Any, scores: Any, sliding_window: int = 100) -> float:
    """VUS-ROC (see :func:`vus`)."""
    return vus(labels, scores, sliding_window).roc


def vus_pr(labels: Any, scores: Any, sliding_window: int = 100) -> float:
    """VUS-PR (see :func:`vus`)."""
    return vus(labels, scores, sliding_window).pr
