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
        shown = _drawable(top, values[:, j])
        top.plot(timestamps, shown, lw=0.7, color="#1f4e79")
        flagged = flags[:, j]
        top.scatter(timestamps[flagged], shown[flagged], s=12, color="#d62728",
                    zorder=3, label=f"flagged ({int(flagged.sum())})")
        if labels is not None and labels[:, j].any():
            _shade(top, timestamps, labels[:, j])
            _shade(bottom, timestamps, labels[:, j])
        top.set_title(titles[j], fontsize=9, loc="left")
        top.legend(loc="upper right", fontsize=7)
        score, factor = _drawable_with_factor(scores[:, j])
        bottom.plot(timestamps, score, lw=0.7, color="#555555")
        if np.isfinite(cutoffs[j]) and np.isfinite(cutoffs[j] * factor):
            bottom.axhline(cutoffs[j] * factor, color="#d62728", lw=0.8, ls="--",
                           label=f"cutoff {cutoffs[j]:.3g}")
            bottom.legend(loc="upper right", fontsize=7)
        bottom.set_ylabel(score_name + ("" if factor == 1.0 else f" × {1 / factor:.3g}"),
                          fontsize=8)
    if values.shape[1] > n:
        fig.suptitle(f"first {n} of {values.shape[1]} series", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _drawable_with_factor(column: np.ndarray) -> tuple[np.ndarray, float]:
    """``column`` times a power of two when its magnitude is so large (1e300) that the
    axis limits around it would overflow (matplotlib then fails: "arange: cannot compute
    length"), and that factor (1 for ordinary values).

    >>> _drawable_with_factor(np.array([1.7e308, 1.5e308]))[0].max() < 4
    np.True_
    >>> _drawable_with_factor(np.array([1.0, 2.0]))
    (array([1., 2.]), 1.0)
    """
    from kizashi.streaming.magnitudes import magnitude_factors

    column = np.asarray(column, dtype=np.float64)
    factor = float(magnitude_factors(column)[0])
    if factor >= 1.0:  # ordinary, or tiny (drawn as they are)
        return column, 1.0
    return column * factor, factor


def _drawable(axis, column: np.ndarray) -> np.ndarray:
    """The values of one panel as drawn (see :func:`_drawable_with_factor`), the factor
    written on the axis when there is one."""
    shown, factor = _drawable_with_factor(column)
    if factor != 1.0:
        axis.set_ylabel(f"value × {1 / factor:.3g}", fontsize=8)
    return shown


def _shade(axis, timestamps: np.ndarray, mask: np.ndarray) -> None:
    """Shade the runs of True in ``mask`` (ground-truth anomalies)."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        axis.axvspan(timestamps[start], timestamps[stop - 1], color="#ffbf00", alpha=0.25, lw=0)
