"""Series of extreme magnitude brought to an ordinary one before they are forecast or typed.

The forecasters square their errors and sum them over windows: a series near the float
limit (values of 1e300, a broken exporter's) overflows to ``inf`` and ends with no
probability at all, and one of 1e-300 underflows to zero. A prediction does not depend on
the unit of a series (the probability and the ETA are the same in bytes or in exabytes),
so such a series is multiplied by a power of two, exactly and reversibly, before it is
forecast, and its limit with it. Series of ordinary magnitude keep a factor of 1 and their
answers unchanged.

>>> import numpy as np
>>> values = np.array([[50.0, 3e300, 2e-300], [51.0, 4e300, np.nan]])
>>> factor = magnitude_factors(values)
>>> factor[0], bool(1.0 <= np.nanmax(values[:, 1] * factor[1]) < 2.0)
(np.float64(1.0), True)
>>> bool(1.0 <= values[0, 2] * factor[2] < 2.0)
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["DETECT_SMALLEST", "ORDINARY", "magnitude_factors", "typical_factors",
           "unit_scaled"]

#: Series whose largest magnitude lies in ``[1 / ORDINARY, ORDINARY]`` are left as they are:
#: 2⁴⁰⁰ ≈ 2.6e120, so squares and sums of squares over any window stay far from overflow
#: and underflow.
ORDINARY = 2.0 ** 400
#: The smallest largest-magnitude a series is *detected* at in its own unit (``kizashi
#: detect``): 2⁻²⁰ ≈ 9.5e-7. Below it the detectors' absolute floors (σ ≥ 1e-9 in the
#: data's units) can exceed the series' whole spread and hide its anomalies, so such a
#: series is scored at an ordinary magnitude. The series of NAB and SMD all lie above it
#: (the smallest, an SMD metric, peaks at 0.0042), so their scores do not change.
DETECT_SMALLEST = 2.0 ** -20


def magnitude_factors(values: np.ndarray, smallest: float = 1.0 / ORDINARY,
                      largest_kept: float = ORDINARY) -> np.ndarray:
    """A power of two per series (column of ``values``) that brings its largest finite
    magnitude to about 1 (``[1, 2)``, or ``[1, 4)`` near the float limit) where it lies
    outside ``[smallest, largest_kept]`` (by default ``[1/ORDINARY, ORDINARY]``); 1
    elsewhere (and for series without a non-zero finite value).

    >>> factor = magnitude_factors(np.array([[3e-7, 0.004, 5e-300]]), smallest=DETECT_SMALLEST)
    >>> np.log2(factor).tolist(), (3e-7 * factor[0]).item()
    ([22.0, 0.0, 995.0], 1.2582912)
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    # the common case first, in one pass: every series ordinary (NaN ignored; an inf
    # is not ordinary, and goes the long way, where it is ignored)
    quick = np.fmax.reduce(np.abs(values), axis=0, initial=0.0)
    if ((quick <= largest_kept) & ((quick >= smallest) | (quick == 0.0))).all():
        return np.ones(values.shape[1])
    magnitude = np.where(np.isfinite(values), np.abs(values), 0.0)
    largest = magnitude.max(axis=0, initial=0.0)
    extreme = (largest > largest_kept) | ((largest > 0.0) & (largest < smallest))
    _, exponent = np.frexp(np.where(extreme, largest, 1.0))  # largest = m·2^e, m in [½, 1)
    # 2^(1-e), within the normal floats (the largest magnitudes then land in [1, 4), a
    # subnormal one above 2^-52)
    return np.where(extreme, np.ldexp(1.0, np.clip(1 - exponent, -1022, 1023)), 1.0)


def typical_factors(values: np.ndarray, smallest: float = DETECT_SMALLEST) -> np.ndarray:
    """A power of two per series (column) for scoring it at an ordinary magnitude, 1 for a
    series whose largest finite ``|x|`` lies in ``[smallest, ORDINARY]`` (or is 0):

    * every value below ``smallest`` (a unit of 1e-300): the largest brought to ``[1, 2)``,
      as :func:`magnitude_factors` does;
    * the largest above :data:`ORDINARY`: the *typical* magnitude (the median of the
      non-zero finite ``|x|``) brought to ``[1, 2)`` when it lies above too (a unit of
      1e300); 1 when it does not — one glitch (a 1e300 sentinel among values of 50) must
      not shrink the whole series under the detectors' floors.

    >>> glitch = np.r_[np.full(99, 50.0), 1e300]
    >>> tiny = np.r_[np.full(99, 3e-12), 5e-12]
    >>> huge = np.r_[np.full(99, 3e200), 1e300]
    >>> f = typical_factors(np.column_stack([glitch, tiny, huge]))
    >>> f[0], bool(1.0 <= 5e-12 * f[1] < 2.0), bool(1.0 <= 3e200 * f[2] < 2.0)
    (np.float64(1.0), True, True)
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    factor = magnitude_factors(values, smallest=smallest)  # from the largest value
    if (factor == 1.0).all():  # no series extreme (a huge one has a factor from its largest)
        return factor
    magnitude = np.abs(values)
    largest = np.where(np.isfinite(magnitude), magnitude, 0.0).max(axis=0, initial=0.0)
    huge = largest > ORDINARY
    if huge.any():
        block = magnitude[:, huge]
        with np.errstate(all="ignore"):
            typical = np.nanmedian(np.where(np.isfinite(block) & (block > 0.0), block, np.nan),
                                    axis=0)
        typical = np.nan_to_num(typical, nan=0.0)
        factor[huge] = np.where(typical > ORDINARY, magnitude_factors(typical[None, :]), 1.0)
    return factor


def unit_scaled(state: dict, values: np.ndarray) -> np.ndarray:
    """``values`` (time, series) of a streaming detector whose score does not depend on the
    unit, each series multiplied by its power of two (:func:`magnitude_factors` of its first
    non-zero finite value, kept in ``state["factor"]``: NaN until then, 1 for an ordinary
    series and for a state saved before the factor was kept). Scaling by a power of two is
    exact, so a series of ordinary magnitude is scored bit for bit as before, and one of
    1e300 as its shape at about 1 instead of through squares that overflow; step by step
    and in one batch the factor is the same (the first value's).

    >>> state = {"n_series": 2, "factor": np.full(2, np.nan)}
    >>> scaled = unit_scaled(state, np.array([[0.0, 50.0], [3e300, 51.0]]))
    >>> scaled[0, 0], bool(1.0 <= scaled[1, 0] < 2.0), scaled[:, 1].tolist()
    (np.float64(0.0), True, [50.0, 51.0])
    """
    factor = state.get("factor")
    if factor is None:  # saved before extreme magnitudes were scaled: its unit kept
        factor = state["factor"] = np.ones(values.shape[1])
    unset = np.isnan(factor)
    if unset.any():
        block = values[:, unset]
        seen = np.isfinite(block) & (block != 0.0)
        found = seen.any(axis=0)
        if found.any():
            first = block[seen.argmax(axis=0), np.arange(block.shape[1])][found]
            columns = np.flatnonzero(unset)[found]
            factor[columns] = magnitude_factors(first[None, :])
    scale = np.where(np.isnan(factor), 1.0, factor)
    if (scale == 1.0).all():
        return values
    return values * scale
