"""Plots of series with their anomaly scores and flagged points."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_scores(timestamps: np.ndarray, values: np.ndarray, scores: np.ndarray,
                flags: np.ndarray, cutoffs: Sequence[float], titles: Sequence[str],
                path: str | Path, *, labels: np.ndarray | None = None,
                max_series: int = 12, score_name: str = "score") -> Path:
    """One pair of panels per series: the values with flagged points, and the score.

    ``values``, ``scores``, ``flags`` (and ``labels``, shaded) have shape
    ``(time, series)``. At most ``max_series`` series are drawn; the title says
    when some were left out.
    """
    plt = _pyplot()
    n = min(values.shape[1], max_series)
    fig, axes = plt.subplots(2 * n, 1, figsize=(12, 2.6 * n + 0.6), sharex=True,
                             gridspec_kw={"height_ratios": [2, 1] * n}, squeeze=False)
    axes = axes[:, 0]
    for j in range(n):
        top, bottom = axes[2 * j], axes[2 * j + 1]
        top.plot(timestamps, values[:, j], lw=0.7, color="#1f4e79")
        flagged = flags[:, j]
        top.scatter(timestamps[flagged], values[flagged, j], s=12, color="#d62728",
                    zorder=3, label=f"flagged ({int(flagged.sum())})")
        if labels is not None and labels[:, j].any():
            _shade(top, timestamps, labels[:, j])
            _shade(bottom, timestamps, labels[:, j])
        top.set_title(titles[j], fontsize=9, loc="left")
        top.legend(loc="upper right", fontsize=7)
        bottom.plot(timestamps, scores[:, j], lw=0.7, color="#555555")
        if np.isfinite(cutoffs[j]):
            bottom.axhline(cutoffs[j], color="#d62728", lw=0.8, ls="--",
                           label=f"cutoff {cutoffs[j]:.3g}")
            bottom.legend(loc="upper right", fontsize=7)
        bottom.set_ylabel(score_name, fontsize=8)
    if values.shape[1] > n:
        fig.suptitle(f"first {n} of {values.shape[1]} series", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _shade(axis, timestamps: np.ndarray, mask: np.ndarray) -> None:
    """Shade the runs of True in ``mask`` (ground-truth anomalies)."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        axis.axvspan(timestamps[start], timestamps[stop - 1], color="#ffbf00", alpha=0.25, lw=0)
