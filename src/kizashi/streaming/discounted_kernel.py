"""One step of :class:`~kizashi.streaming.discounted.DiscountedMoments` for one series,
compiled with numba: the building block of the compiled kernels that learn
time-discounted moments (the seasonal baseline, the deep detectors' error
normaliser), written in the order of ``DiscountedMoments.update`` so they agree
with it bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import njit
from kizashi.streaming.robust import FLOAT_MAX

__all__ = ["discounted_update"]


@njit(cache=True, error_model="numpy")
def discounted_update(mean: np.ndarray, var: np.ndarray, weight: np.ndarray, j: int, x: float,
             decay: float) -> None:
    """:meth:`DiscountedMoments.update` of series ``j``, in place (a NaN ``x`` changes
    nothing); near the float limit the mean and variance stay finite, as there.

    >>> mean, var, weight = np.zeros(1), np.zeros(1), np.zeros(1)
    >>> for x in (1.0, 3.0):
    ...     discounted_update(mean, var, weight, 0, x, 1.0)
    >>> float(mean[0]), float(var[0]), float(weight[0])
    (2.0, 1.0, 2.0)
    """
    if math.isnan(x):
        return
    old_mean, old_var = mean[j], var[j]
    new_weight = weight[j] * decay + 1.0
    gain = 1.0 / new_weight
    delta = x - old_mean
    new_mean = old_mean + gain * delta
    new_var = (1.0 - gain) * (old_var + gain * delta * delta)
    if not (math.isfinite(new_mean) and math.isfinite(new_var)):
        half = x / 2.0 - old_mean / 2.0
        new_mean = min(max(old_mean + 2.0 * (gain * half), -FLOAT_MAX), FLOAT_MAX)
        added = min(old_var + min(4.0 * gain * half * half, FLOAT_MAX), FLOAT_MAX)
        new_var = (1.0 - gain) * added
    mean[j] = new_mean
    var[j] = new_var
    weight[j] = new_weight
