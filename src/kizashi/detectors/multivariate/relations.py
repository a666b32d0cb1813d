"""How far each metric is from what the other metrics say it should be.

A metric can stay inside the range it had in training and still be the cause:
it stops following the metrics it usually follows (a service's request rate no
longer matches its CPU; a disk's writes no longer match the network's bytes
in). Its level and changes look normal; its *relation* to the others does not.

Each metric ``j`` is modelled as a linear function of all the other metrics,
fitted on the training rows by ridge regression on standardised metrics
(``x̃ = (x − mean) / sd``; the weights solve
``(X̃_{−j}ᵀ X̃_{−j} + α I) w_j = X̃_{−j}ᵀ x̃_j``); its **residual**
``r_j = x̃_j − X̃_{−j} w_j`` is in units of its own training spread. A residual
on the rows the weights were fitted on is too small (the fit absorbed part of
it), so the residual's training distribution is measured **cross-fitted**:
the training rows are split in two halves in time, the weights fitted on one
half give the residuals of the other (see :func:`held_out_residuals`); the
weights used afterwards are fitted on all the training rows.

A missing input counts as its training mean (``x̃ = 0``); a metric constant in
training has ``sd`` 1 (it cannot be predicted better than its mean).

Two guards keep a metric from being blamed for what its predictors did
(:func:`relation_z`, both on by default):

* **clip**: the inputs are clipped to the range they had in training before
  predicting (a linear model is not extrapolated: a metric 500 spreads out of
  its range would otherwise push a residual into every metric that leans on it);
* **soft**: the metric's relation ``z`` is lowered by how unusual its
  *prediction* is (the same two signals of ``ŷ_j`` standardised by their
  held-out training distribution): a residual that comes from the predictors
  moving is not the metric's doing; one where the prediction sits where it
  always does and the metric does not follow is.

Off by default in the attribution (``relation_alpha``, the ensemble's
``causes_relations``): on SMD it did not raise the HitRate (docs/diagnosis.md).

>>> rng = np.random.default_rng(0)
>>> x = rng.normal(0, 1, 500)
>>> train = np.c_[x, 2 * x + rng.normal(0, 0.1, 500)]
>>> model = fit_relations(train, alpha=1.0)
>>> test = np.array([[1.0, 2.0], [1.0, -2.0]])      # y = 2x, then y decoupled
>>> np.round(np.abs(residuals(model, test)[:, 1]), 1).tolist()   # 4 off: two of y's sd
[0.0, 2.0]
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import linalg

from kizashi.detectors.multivariate.trailing import trailing_means

__all__ = ["fit_relation_signal", "fit_relations", "held_out_residuals", "predictions",
           "relation_z", "residuals", "ridge_weights"]


def _standardise(values: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """``(values − mean) / sd`` with missing values at 0 (their training mean)."""
    return np.nan_to_num((np.asarray(values, dtype=np.float64) - mean) / sd, nan=0.0)


def ridge_weights(scaled: np.ndarray, alpha: float) -> np.ndarray:
    """``(m, m)``: row ``j`` predicts metric ``j`` from the others (its own weight 0).

    ``scaled`` are centred, standardised rows; for each ``j`` the ridge normal
    equations of the other columns are solved once from the shared Gram matrix.

    >>> ridge_weights(np.array([[1.0, 2.0], [-1.0, -2.0]]), alpha=0.0).tolist()
    [[0.0, 0.5], [2.0, 0.0]]
    """
    gram = scaled.T @ scaled
    m = gram.shape[0]
    weights = np.zeros((m, m))
    for j in range(m):
        others = np.r_[0:j, j + 1:m]
        if not others.size:
            continue
        system = gram[np.ix_(others, others)] + alpha * np.eye(others.size)
        weights[j, others] = linalg.lstsq(system, gram[others, j])[0]
    return weights


def held_out_residuals(values: np.ndarray, mean: np.ndarray, sd: np.ndarray,
                       alpha: float) -> np.ndarray:
    """The residuals of each half of ``values`` under the weights fitted on the other half.

    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(0, 1, 200)
    >>> rows = np.c_[x, x + rng.normal(0, 0.5, 200)]
    >>> held_out_residuals(rows, rows.mean(0), rows.std(0), alpha=1.0).shape
    (200, 2)
    """
    scaled = _standardise(values, mean, sd)
    half = scaled.shape[0] // 2
    first, second = scaled[:half], scaled[half:]
    out = np.empty_like(scaled)
    out[:half] = first - first @ ridge_weights(second, alpha).T
    out[half:] = second - second @ ridge_weights(first, alpha).T
    return out


def fit_relations(train: np.ndarray, alpha: float) -> dict[str, np.ndarray]:
    """The relation model of the training rows: scaling, range and weights (plain arrays)."""
    train = np.asarray(train, dtype=np.float64)
    if train.ndim != 2 or train.shape[0] < 4:
        raise ValueError("relations: need a (time, metrics) array of at least 4 rows")
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"relations: alpha must be a number >= 0, got {alpha!r}")
    seen = ~np.isnan(train)
    count = np.maximum(seen.sum(axis=0), 1)
    mean = np.where(seen, train, 0.0).sum(axis=0) / count
    sd = np.sqrt(np.where(seen, (train - mean) ** 2, 0.0).sum(axis=0) / count)
    sd = np.where(sd > 0, sd, 1.0)
    scaled = _standardise(train, mean, sd)
    return {"mean": mean, "sd": sd, "alpha": np.asarray([float(alpha)]),
            "low": scaled.min(axis=0), "high": scaled.max(axis=0),
            "weights": ridge_weights(scaled, float(alpha))}


def predictions(model: dict[str, Any], values: np.ndarray, clip: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
    """The standardised ``values`` and each metric's prediction from the others.

    ``clip``: the inputs are clipped to their training range first.
    """
    scaled = _standardise(values, model["mean"], model["sd"])
    inputs = np.clip(scaled, model["low"], model["high"]) if clip else scaled
    return scaled, inputs @ np.asarray(model["weights"]).T


def residuals(model: dict[str, Any], values: np.ndarray, clip: bool = False) -> np.ndarray:
    """``(time, metrics)``: each metric's standardised value minus its prediction.

    NaN where the metric itself is missing.
    """
    values = np.asarray(values, dtype=np.float64)
    scaled, predicted = predictions(model, values, clip)
    return np.where(np.isnan(values), np.nan, scaled - predicted)


def _signals(series: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Over the trailing ``window``: the mean of ``|s|`` and ``|the mean of s|``."""
    return trailing_means(np.abs(series), window), np.abs(trailing_means(series, window))


def _distribution(series: np.ndarray, windows: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per signal and window (rows), the mean and deviation of ``series``' signals."""
    means, stds = [], []
    for window in windows:
        for signal in _signals(series, window):
            averages = signal[min(window, series.shape[0]) - 1:]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a metric never seen
                means.append(np.nan_to_num(np.nanmean(averages, axis=0), nan=0.0))
                stds.append(np.nan_to_num(np.nanstd(averages, axis=0), nan=0.0))
    return np.stack(means), np.stack(stds)


def _largest_z(series: np.ndarray, first: int, windows: np.ndarray, mean: np.ndarray,
               std: np.ndarray) -> np.ndarray:
    """The largest standardised signal of ``series[first:]`` over signals and windows."""
    best = np.full((series.shape[0] - first, series.shape[1]), -np.inf)
    k = 0
    for window in windows:
        for signal in _signals(series, int(window)):
            with np.errstate(invalid="ignore"):
                best = np.fmax(best, (signal[first:] - mean[k]) / std[k])
            k += 1
    return best


def fit_relation_signal(train: np.ndarray, alpha: float, windows: tuple[int, ...],
                        min_std: float, clip: bool = True, soft: bool = True
                        ) -> dict[str, np.ndarray]:
    """The relation model and, per signal and window, the held-out distribution.

    Two signals per window, like the level and the change of
    :class:`~kizashi.detectors.multivariate.deviation.DeviationAttribution`:
    the trailing mean of ``|r|`` (the metric follows the others more loosely)
    and ``|trailing mean of r|`` (it sits off what the others say, steadily);
    with ``soft`` the same two of the prediction. The keys (all plain arrays,
    prefixed ``relation_``) go into the attribution's state; :func:`relation_z`
    reads them back.
    """
    train = np.asarray(train, dtype=np.float64)
    model = fit_relations(train, alpha)
    held = held_out_residuals(train, model["mean"], model["sd"], alpha)
    predicted = _standardise(train, model["mean"], model["sd"]) - held  # held out too
    held = np.where(np.isnan(train), np.nan, held)
    mean, std = _distribution(held, windows)
    state = {"relation_mean": model["mean"], "relation_sd": model["sd"],
             "relation_low": model["low"], "relation_high": model["high"],
             "relation_weights": model["weights"], "relation_alpha": model["alpha"],
             "relation_windows": np.asarray(windows, dtype=np.int64),
             "relation_options": np.asarray([float(clip), float(soft)]),
             "relation_zmean": mean, "relation_zstd": np.maximum(std, float(min_std))}
    if soft:
        mean, std = _distribution(predicted, windows)
        state["relation_pmean"], state["relation_pstd"] = mean, np.maximum(std, float(min_std))
    return state


def relation_z(state: dict[str, Any], rows: np.ndarray, first: int) -> np.ndarray:
    """``(rows − first, metrics)``: the largest standardised relation signal.

    ``rows`` holds the rows the windows read before ``first``, then the rows to
    judge. With the state's ``soft``, lowered by the prediction's own largest
    standardised signal (when positive).
    """
    model = {"mean": state["relation_mean"], "sd": state["relation_sd"],
             "low": state["relation_low"], "high": state["relation_high"],
             "weights": state["relation_weights"]}
    clip, soft = (bool(v) for v in np.asarray(state["relation_options"]).reshape(-1))
    windows = np.asarray(state["relation_windows"]).reshape(-1)
    scaled, predicted = predictions(model, rows, clip)
    residual = np.where(np.isnan(rows), np.nan, scaled - predicted)
    best = _largest_z(residual, first, windows, state["relation_zmean"], state["relation_zstd"])
    if soft:
        moved = _largest_z(predicted, first, windows, state["relation_pmean"],
                           state["relation_pstd"])
        best = best - np.maximum(moved, 0.0)
    return best
