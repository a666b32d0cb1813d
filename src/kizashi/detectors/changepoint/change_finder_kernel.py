"""Compiled batch loop of :class:`~kizashi.detectors.changepoint.change_finder.ChangeFinder`.

Used by ``ChangeFinder.score`` when numba is installed: the same arithmetic as
the streaming ``update`` (which stays numpy, vectorised over series), written
per series and per step so it compiles to a tight loop. Operations are done
in the same order as the numpy code, so the scores agree to the last bits
(logarithms may differ by an ulp). Without numba, ``score`` uses its numpy
block path instead.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["HAVE_NUMBA", "change_finder_block"]

from kizashi.detectors.changepoint.jit import HAVE_NUMBA, njit

_LOG_2PI = math.log(2.0 * math.pi)
_VAR_FLOOR = 1e-12


@njit(cache=True, inline="always")
def _predict(mean: float, coef: np.ndarray, history: np.ndarray, b: int, k: int) -> float:
    acc = coef[0] * (history[0, b] - mean)
    for i in range(1, k):
        acc = acc + coef[i] * (history[i, b] - mean)
    return mean + acc


@njit(cache=True, inline="always")
def _predict_state(mean: float, coef: np.ndarray, history: np.ndarray, b: int, k: int) -> float:
    acc = coef[0, b] * (history[0, b] - mean)
    for i in range(1, k):
        acc = acc + coef[i, b] * (history[i, b] - mean)
    return mean + acc


@njit(cache=True, inline="always")
def _log_loss(x: float, xhat: float, var: float, mean: float) -> float:
    v = max(var, _VAR_FLOOR * (1.0 + mean * mean))
    d = x - xhat
    return 0.5 * (_LOG_2PI + math.log(v)) + d * d / (2.0 * v)


@njit(cache=True, inline="always")
def _levinson_durbin(cov: np.ndarray, coef: np.ndarray, prev: np.ndarray, k: int,
                     stop_at_nonpositive: bool) -> None:
    for i in range(k):
        coef[i] = 0.0
    err = cov[0]
    for m in range(1, k + 1):
        acc = cov[m]
        for i in range(1, m):
            acc = acc - coef[i - 1] * cov[m - i]
        good = err > 0.0 if stop_at_nonpositive else err != 0.0
        kappa = acc / err if good else 0.0
        if not math.isfinite(kappa):
            kappa = 0.0
        for i in range(k):
            prev[i] = coef[i]
        for i in range(1, m):
            coef[i - 1] = prev[i - 1] - kappa * prev[m - i - 1]
        coef[m - 1] = kappa
        err = err * (1.0 - kappa * kappa)


@njit(cache=True, inline="always")
def _sdar_step(x: float, b: int, mean: np.ndarray, cov: np.ndarray, coef: np.ndarray,
               var: np.ndarray, history: np.ndarray, count: np.ndarray, k: int, r: float,
               compat: bool, start: int, new_cov: np.ndarray, new_coef: np.ndarray,
               prev: np.ndarray) -> tuple[float, bool]:
    keep = 1.0 - r
    c = count[b]
    if compat:
        active = c >= k
    else:
        if c == 0:
            mean[b] = x
            for i in range(k):
                history[i, b] = x
        active = c >= start
    m = mean[b]
    score = np.nan
    if not compat and active:
        predicted = _predict_state(m, coef, history, b, k)
        score = _log_loss(x, predicted, var[b], m)
    if active or not compat:
        new_mean = keep * m + r * x
        top = k if compat else k + 1
        for j in range(k + 1):
            if j < top:
                lagged = x if j == 0 else history[j - 1, b]
                dev = (x - new_mean) * (lagged - new_mean)
                new_cov[j] = keep * cov[j, b] + r * dev
            else:
                new_cov[j] = cov[j, b]
        _levinson_durbin(new_cov, new_coef, prev, k, not compat)
        xhat = _predict(new_mean, new_coef, history, b, k)
        d = x - xhat
        new_var = keep * var[b] + r * (d * d)
        if compat:
            score = _log_loss(x, xhat, new_var, new_mean)
        mean[b] = new_mean
        for j in range(k + 1):
            cov[j, b] = new_cov[j]
        for j in range(k):
            coef[j, b] = new_coef[j]
        var[b] = new_var
    for i in range(k - 1, 0, -1):
        history[i, b] = history[i - 1, b]
    history[0, b] = x
    count[b] = c + 1
    return score, active


@njit(cache=True, inline="always")
def _push(values: np.ndarray, count: np.ndarray, b: int, x: float) -> float:
    size = values.shape[0]
    for i in range(size - 1):
        values[i, b] = values[i + 1, b]
    values[size - 1, b] = x
    count[b] = min(count[b] + 1, size)
    total = values[0, b]
    for i in range(1, size):
        total = total + values[i, b]
    return total


@njit(cache=True)
def change_finder_block(values: np.ndarray, out: np.ndarray, count: np.ndarray,
                        m1: np.ndarray, c1: np.ndarray, w1: np.ndarray, v1: np.ndarray,
                        h1: np.ndarray, n1: np.ndarray, window1: np.ndarray, wc1: np.ndarray,
                        m2: np.ndarray, c2: np.ndarray, w2: np.ndarray, v2: np.ndarray,
                        h2: np.ndarray, n2: np.ndarray, window2: np.ndarray, wc2: np.ndarray,
                        k: int, r: float, compat: bool, start: int, n_warmup: int) -> None:
    """Score ``values`` (time, series; NaN skips) into ``out``, updating the state arrays."""
    n_time, n_series = values.shape
    new_cov = np.empty(k + 1)
    new_coef = np.empty(k)
    prev = np.empty(k)
    size1 = window1.shape[0]
    size2 = window2.shape[0]
    for b in range(n_series):
        for t in range(n_time):
            x = values[t, b]
            if math.isnan(x):
                out[t, b] = np.nan
                continue
            s1, valid1 = _sdar_step(x, b, m1, c1, w1, v1, h1, n1, k, r, compat, start,
                                    new_cov, new_coef, prev)
            ready1 = False
            target = 0.0
            if valid1:
                total1 = _push(window1, wc1, b, s1)
                if compat:
                    ready1 = wc1[b] >= size1
                    target = total1
                else:
                    ready1 = True
                    target = total1 / max(wc1[b], 1)
            result = 0.0
            if ready1:
                s2, valid2 = _sdar_step(target, b, m2, c2, w2, v2, h2, n2, k, r, compat,
                                        start, new_cov, new_coef, prev)
                if valid2:
                    total2 = _push(window2, wc2, b, s2)
                    if compat:
                        if wc2[b] >= size2:
                            result = total2
                    else:
                        result = total2 / max(wc2[b], 1)
            count[b] += 1
            if not compat and count[b] <= n_warmup:
                result = 0.0
            out[t, b] = result
