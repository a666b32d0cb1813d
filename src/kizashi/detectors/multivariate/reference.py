"""A fixed reference for an entity's metrics: standardised distances from its training rows."""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.state import State
from kizashi.streaming.magnitudes import magnitude_factors

METHODS = ("zscore", "pca")
AGGREGATES = ("mean", "l2", "max", "power")


class ReferenceDetector(Detector):
    """How far a row of metrics lies from the training rows, metric by metric, then averaged.

    ``fit`` learns each metric's mean and standard deviation on the training
    rows (and, for ``method="pca"``, the principal axes of the standardised
    rows); nothing is learned while scoring, so a long incident is never taken
    as the new normal — what makes a fixed reference strong on SMD, whose
    anomalies are long multi-metric shifts.

    Per metric ``f`` the standardised value is ``z_f = (x_f − mean_f) / sd_f``
    (``sd_f`` floored at ``min_std`` and at a thousandth of ``|mean_f|``):

    * ``zscore``: the metric's distance is ``|z_f|``;
    * ``pca``: the part of ``z`` the training rows' top principal axes do not
      explain (``variance`` of their variance kept): ``|z − V Vᵀ z|_f``,
      the reconstruction error of PCA-based detectors (TSB-AD's ``PCA``),
      but fitted on training rows only.

    With ``window=w > 1`` (``pca`` only) the axes are those of the training
    rows' *windows*: each row is judged together with the ``w − 1`` rows
    before it (their standardised values side by side, ``w × metrics``
    columns), so a change in how the metrics move over a few rows counts,
    not only where they are. A row's per-metric distance is then its
    metric's mean residual over the window; the rows before the first are
    taken as equal to it. The stream keeps its last ``w − 1`` complete rows
    (a row with a missing metric scores NaN and is left out of the windows).

    The row's score aggregates the distances over metrics: ``mean`` (the
    default: one noisy metric does not decide), ``l2`` (root mean square),
    ``max``, or ``power``: the generalised mean ``(mean_f d_f^p)^(1/p)`` of
    exponent ``p = power`` (``p < 1`` weighs how many metrics moved more than
    how far the farthest did; 1 is the mean, 2 ``l2``). A row with a missing
    metric scores NaN (the multivariate contract).
    :meth:`explain` gives each metric's share of the row's standardised
    deviations ``|z_f|`` (attribution, summing to 1: which metric moved, for
    either method). Defaults (``pca``, ``variance=0.7``, ``mean``) were chosen
    on SMD's tuning machines (:mod:`kizashi.evaluation.splits`).

    Parameters
    ----------
    method : {"zscore", "pca"}
    aggregate : {"mean", "l2", "max", "power"}
    power : float
        Exponent of the ``power`` aggregate (a number > 0).
    variance : float
        Share of the training variance the principal axes keep (``pca``).
    min_std : float
        Floor under each metric's standard deviation, in standardised units
        of the data (a constant training metric would otherwise divide by 0).
    clip : float
        A metric's distance counts at most this many standard deviations, so
        one metric's absurd value (1e308) cannot outweigh all the others.
    window : int
        Rows per window of the ``pca`` method (1: each row on its own).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> train = rng.normal(0, 1, (500, 4))
    >>> test = rng.normal(0, 1, (50, 4))
    >>> test[40:, 2] += 8.0                      # one metric shifts
    >>> detector = ReferenceDetector().fit(train)
    >>> scores = detector.score(test)
    >>> bool(scores[40:].min() > scores[:40].max())
    True
    >>> out = detector.explain(test)
    >>> int(np.argmax(out.attribution[45]))     # metric 2 drove it
    2
    """

    unit_params = ("min_std",)

    multivariate = True
    requires_training = True
    #: Nothing is learned while scoring; protection would only freeze the windows' rows.
    protect_baseline = False
    model_keys = ("mean", "scale", "axes")
    conformance_params: dict = {"window": 3}  # the windowed path streams a tail

    def __init__(self, method: str = "pca", aggregate: str = "mean", variance: float = 0.7,
                 min_std: float = 1e-3, clip: float = 1e3, window: int = 1,
                 power: float = 0.7):
        self.method = method
        self.aggregate = aggregate
        self.variance = variance
        self.min_std = min_std
        self.clip = clip
        self.window = window
        self.power = power

    def _check(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"reference: method must be one of {', '.join(METHODS)}, "
                             f"got {self.method!r}")
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"reference: aggregate must be one of {', '.join(AGGREGATES)}, "
                             f"got {self.aggregate!r}")
        if not 0 < self.variance <= 1:
            raise ValueError(f"reference: variance must be in (0, 1], got {self.variance!r}")
        if isinstance(self.window, bool) or int(self.window) != self.window or self.window < 1:
            raise ValueError(f"reference: window must be a whole number >= 1, got "
                             f"{self.window!r}")
        for key in ("min_std", "clip", "power"):
            value = getattr(self, key)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"reference: {key} must be a number > 0, got {value!r}")

    def _init_state(self, n_series: int) -> State:
        self._check()
        return {"n_series": n_series, "trained": False, "mean": np.zeros(n_series),
                "scale": np.ones(n_series), "axes": np.zeros((0, n_series * int(self.window))),
                "recent": np.full((int(self.window) - 1, n_series), np.nan)}

    def _fit(self, values: np.ndarray, t: np.ndarray | None) -> None:
        state = self.state_
        rows = values[~np.isnan(values).all(axis=1)]
        if rows.shape[0] < 2:
            raise ValueError("reference: need at least 2 training rows with values")
        # moments of each metric at an ordinary magnitude (an exact power of two), so that
        # values of 1e300 have their spread instead of an overflowed infinite one
        factor = magnitude_factors(rows)
        with np.errstate(invalid="ignore", over="ignore"):
            mean = np.nanmean(rows * factor, axis=0) / factor
            std = np.nanstd(rows * factor, axis=0) / factor
        mean = np.nan_to_num(mean, nan=0.0)  # (and ±inf to the largest floats)
        std = np.nan_to_num(std, nan=0.0)
        state["mean"] = mean
        state["scale"] = np.maximum(std, np.maximum(float(self.min_std), 1e-3 * np.abs(mean)))
        if self.method == "pca":
            z = np.nan_to_num((rows - mean) / state["scale"], nan=0.0)
            z = self._windows(np.clip(z, -float(self.clip), float(self.clip)),
                              np.full((int(self.window) - 1, values.shape[1]), np.nan))
            _, singular, vt = np.linalg.svd(z - z.mean(axis=0), full_matrices=False)
            energy = singular ** 2
            total = energy.sum()
            keep = 0 if total <= 0 else int(np.searchsorted(np.cumsum(energy) / total,
                                                            float(self.variance)) + 1)
            state["axes"] = vt[:min(keep, vt.shape[0] - 1)].copy() if vt.shape[0] > 1 else \
                np.zeros((0, z.shape[1]))
        state["trained"] = True

    def _windows(self, z: np.ndarray, recent: np.ndarray) -> np.ndarray:
        """``(time, window × metrics)``: each row of ``z`` after the ``window − 1`` before it
        (``recent`` continues the stream; a row not seen yet is taken as the first row)."""
        width = int(self.window)
        if width == 1 or z.shape[0] == 0:
            return z.reshape(z.shape[0], -1) if width == 1 else np.zeros((0, width * z.shape[1]))
        chain = np.concatenate([recent, z])
        first = np.flatnonzero(~np.isnan(chain).all(axis=1))
        chain = np.where(np.isnan(chain).all(axis=1, keepdims=True),
                         chain[first[0]] if first.size else 0.0, chain)
        from numpy.lib.stride_tricks import sliding_window_view

        stacked = sliding_window_view(chain, (width, z.shape[1]))[:, 0]
        return np.nan_to_num(stacked.reshape(z.shape[0], -1), nan=0.0)

    def _distances(self, state: State, values: np.ndarray, method: str | None = None
                   ) -> np.ndarray:
        """``(time, metrics)`` per-metric distances (NaN where a metric is missing).

        With ``window > 1`` and ``pca`` this moves the stream on (its last rows)."""
        with np.errstate(invalid="ignore", over="ignore"):
            z = (values - state["mean"]) / state["scale"]
        missing = np.isnan(z)
        if (method or self.method) == "pca" and state["axes"].shape[0]:
            filled = np.where(missing, 0.0, np.clip(z, -float(self.clip), float(self.clip)))
            width = int(self.window)
            if width > 1:  # a row with a missing metric is as if it had never arrived
                complete = ~missing.any(axis=1)
                stacked = self._windows(filled[complete], state["recent"])
                state["recent"] = np.concatenate([state["recent"],
                                                  filled[complete]])[-(width - 1):]
                residual = stacked - (stacked @ state["axes"].T) @ state["axes"]
                z = np.full(values.shape, np.nan)
                z[complete] = np.abs(residual).reshape(-1, width, values.shape[1]).mean(axis=1)
                missing = missing | ~complete[:, None]
            else:
                z = filled - (filled @ state["axes"].T) @ state["axes"]
        distance = np.minimum(np.abs(z), float(self.clip))
        return np.where(missing, np.nan, distance)

    def _aggregate(self, distance: np.ndarray) -> np.ndarray:
        seen = ~np.isnan(distance)
        count = seen.sum(axis=1)
        filled = np.where(seen, distance, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.aggregate == "mean":
                score = filled.sum(axis=1) / count
            elif self.aggregate == "l2":
                score = np.sqrt((filled ** 2).sum(axis=1) / count)
            elif self.aggregate == "power":
                power = float(self.power)
                score = ((filled ** power).sum(axis=1) / count) ** (1.0 / power)
            else:
                score = filled.max(axis=1)
        return np.where(count > 0, score, np.nan)

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        return self._score_batch(state, x[None, :], None)[0]

    def _score_batch(self, state: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        score = self._aggregate(self._distances(state, values))
        return np.where(np.isnan(values).any(axis=1), np.nan, score)[:, None]

    def _explain(self, state: State, values: np.ndarray, t: np.ndarray | None
                 ) -> dict[str, np.ndarray]:
        score = self._aggregate(self._distances(state, values))[:, None]  # moves the stream
        distance = self._distances(state, values, "zscore")  # each metric's own deviation
        total = np.nansum(distance, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, distance / total, 1.0 / np.maximum(
                (~np.isnan(distance)).sum(axis=1, keepdims=True), 1))
        share = np.where(np.isnan(distance), np.nan, share)
        score = np.where(np.isnan(values).any(axis=1, keepdims=True), np.nan, score)
        return {"score": score, "attribution": share}
