"""Compiled online error normaliser of the deep detectors, one block of steps at a time.

A deep detector scores each network error against the running mean and spread of
the errors before it (:class:`kizashi.streaming.discounted.DiscountedMoments`,
time-discounted), then learns it, clipped to ``error_clip`` spreads above the mean
once ``errors_before_clip`` errors have been learnt. Every step depends on the one
before, so a block is a loop over steps; it is compiled with numba (plain Python
without it: the same numbers, slowly). Streaming (one step) and block scoring run
this same code, so they agree bit for bit; the arithmetic is written in the order
of ``DiscountedMoments.update`` (tested against it).
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import njit
from kizashi.streaming.discounted_kernel import discounted_update

__all__ = ["normalise_block"]


@njit(cache=True, error_model="numpy")
def normalise_block(error: np.ndarray, ready: np.ndarray, mean: np.ndarray, var: np.ndarray,
                    weight: np.ndarray, decay: float, error_clip: float,
                    errors_before_clip: float, max_score: float, out: np.ndarray) -> None:
    """Score ``error`` (time, series) into ``out`` and learn it into the moments in place.

    ``ready`` false → score 0 and nothing learnt; NaN error → NaN score, nothing learnt.
    A score is ``(error − mean) / max(σ, 1e-9 · (1 + |mean|))`` bounded to ±``max_score``.
    """
    n_time, n_series = error.shape
    for i in range(n_time):
        for s in range(n_series):
            e = error[i, s]
            m = mean[s]
            v = var[s]
            w = weight[s]
            floor = 1e-9 * (1.0 + abs(m))
            root = math.sqrt(v)
            spread = floor if root < floor else root
            if e != e:
                out[i, s] = np.nan
            elif ready[i, s]:
                q = (e - m) / spread
                out[i, s] = min(max(q, -max_score), max_score) if q == q else q
            else:
                out[i, s] = 0.0
            if not ready[i, s]:
                continue
            learn = e
            if w >= errors_before_clip:
                limit = m + error_clip * spread
                if limit != limit or limit < e:
                    learn = limit
            if learn != learn:
                continue
            discounted_update(mean, var, weight, s, learn, decay)
