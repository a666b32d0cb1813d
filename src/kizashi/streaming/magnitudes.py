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

__all__ = ["DETECT_SMALLEST", "ORDINARY", "PROVISIONAL", "magnitude_factors",
           "typical_factors", "unit_scaled"]

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
#: The non-zero values over which a streaming detector's factor (:func:`unit_scaled`) may
#: still be chosen again: a glitch among a series' first values does not fix its unit.
PROVISIONAL = 8


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
    unit, each series multiplied by its power of two, kept in ``state["factor"]`` (NaN
    until its first non-zero finite value; 1 for an ordinary series and for a state saved
    before the factor was kept). Scaling by a power of two is exact, so a series of
    ordinary magnitude is scored bit for bit as before, and one of 1e300 as its shape at
    about 1 instead of through squares that overflow.

    **How the factor is chosen.** From the series' first non-zero finite value
    (:func:`magnitude_factors`: 1 when it lies within ``[2⁻⁴⁰⁰, 2⁴⁰⁰]``). The factor stays
    *provisional* over the first :data:`PROVISIONAL` non-zero values (counted in
    ``state["unit_seen"]``), and while it is, the values vote on it (a majority vote,
    Boyer–Moore's, with its votes in ``state["unit_votes"]``): a value that the factor
    keeps within ``[2⁻⁴⁰⁰, 2⁴⁰⁰]`` adds a vote; one it would take out of that range
    takes a vote away, or, when the factor has only its own vote left, chooses it again
    from itself (one vote). So a first value that is a glitch (1e-200, or 1e200, before
    values of 1 to 100) does not fix a unit that squares the rest into ``inf`` or 0: the
    next ordinary value brings the factor back to 1; and a glitch among the first values
    of an ordinary series (1e308 as its fifth value) is outvoted, an outlier in the
    series' unit, as it would be later. The state is not rescaled when the factor changes:
    the few values learned before stay as they were scaled (a glitch is remembered at the
    magnitude its own factor gave it, about 1). After :data:`PROVISIONAL` non-zero values
    the factor is final: a later jump to 1e300 is scored in the series' unit, as the
    detector's own guards score it (a huge outlier), not taken for a new unit. A value
    the factor takes beyond the float range is held at ±the largest float. The factor of
    a value depends only on the values before it, so step by step and in one batch the
    factors are the same.

    >>> state = {"n_series": 2, "factor": np.full(2, np.nan)}
    >>> scaled = unit_scaled(state, np.array([[0.0, 50.0], [3e300, 51.0]]))
    >>> scaled[0, 0], bool(1.0 <= scaled[1, 0] < 2.0), scaled[:, 1].tolist()
    (np.float64(0.0), True, [50.0, 51.0])

    A first value of 1e-200 among values of 50: the second value sets the factor back to 1.
    A 1e300 as the fourth value of an ordinary series is outvoted (held at the float limit).

    >>> state = {"n_series": 1, "factor": np.full(1, np.nan)}
    >>> scaled = unit_scaled(state, np.array([[1e-200], [50.0], [51.0]]))
    >>> bool(0.5 <= scaled[0, 0] < 2.0), scaled[1:, 0].tolist(), state["factor"].tolist()
    (True, [50.0, 51.0], [1.0])
    >>> unit_scaled(state, np.array([[1e300], [52.0]]))[:, 0].tolist(), state["factor"].tolist()
    ([1e+300, 52.0], [1.0])
    """
    factor = state.get("factor")
    if factor is None:  # saved before extreme magnitudes were scaled: its unit kept
        factor = state["factor"] = np.ones(values.shape[1])
    seen = state.get("unit_seen")
    if seen is None:  # saved before the factor was provisional: a chosen factor is final
        seen = state["unit_seen"] = np.where(np.isnan(factor), 0, PROVISIONAL).astype(np.int64)
    votes = state.get("unit_votes")
    if votes is None:  # (saved before the vote: each value seen counted for the factor)
        votes = state["unit_votes"] = seen.astype(np.int64)
    unsettled = np.flatnonzero(seen < PROVISIONAL)
    steps = None  # the factors of the unsettled series, row by row
    if unsettled.size and values.shape[0]:
        steps = _provisional(values[:, unsettled], factor, seen, votes, unsettled)
    scale = np.where(np.isnan(factor), 1.0, factor)
    if steps is None or (steps == scale[unsettled]).all():
        if (scale == 1.0).all():
            return values
        return _times(values, scale)
    scaled = _times(values, scale)
    scaled[:, unsettled] = _times(values[:, unsettled], steps)
    return scaled


def _times(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``values * scale``, a product beyond the float range held at ±the largest float (a
    value of 1e300 in a series whose unit is 1e-200: a huge outlier, not an overflow)."""
    with np.errstate(over="ignore"):
        out = values * scale
    beyond = np.isinf(out) & np.isfinite(values)
    if beyond.any():
        out[beyond] = np.copysign(np.finfo(np.float64).max, out[beyond])
    return out


def _provisional(block: np.ndarray, factor: np.ndarray, seen: np.ndarray, votes: np.ndarray,
                 columns: np.ndarray) -> np.ndarray:
    """The factors of the series ``columns`` (whose factor is provisional, see
    :func:`unit_scaled`) at each row of their ``block``, 1 where none is chosen yet;
    ``factor``, ``seen`` and ``votes`` updated. Vectorised over the series: one pass per rank of a
    non-zero value (at most :data:`PROVISIONAL`)."""
    before = factor[columns]
    current = before.copy()
    ballots = votes[columns].copy()
    need = PROVISIONAL - seen[columns]
    nonzero = np.isfinite(block) & (block != 0.0)
    rank = np.cumsum(nonzero, axis=0)  # how many non-zero values up to each row
    settled = (rank >= need).all(axis=1)  # rows from which no factor changes any more
    head = int(settled.argmax()) + 1 if settled.any() else block.shape[0]
    block, rank = block[:head], rank[:head]
    marks = np.full(block.shape, np.nan)  # a series' factor from this row on
    for k in range(1, PROVISIONAL + 1):
        cols = np.flatnonzero((need >= k) & (rank[-1] >= k))
        if cols.size == 0:
            break
        row = np.argmax(rank[:, cols] >= k, axis=0)  # the row of each one's k-th value
        value = block[row, cols]
        unit = current[cols]
        with np.errstate(over="ignore", under="ignore"):  # beyond the range: not ordinary
            product = np.abs(value * np.where(np.isnan(unit), 1.0, unit))
        agrees = ~np.isnan(unit) & (product >= 1.0 / ORDINARY) & (product <= ORDINARY)
        again = ~agrees & (ballots[cols] <= 1)  # against a factor with its own vote only
        chosen = np.where(again, magnitude_factors(value[None, :]), unit)
        ballots[cols] = np.where(again, 1, ballots[cols] + np.where(agrees, 1, -1))
        current[cols] = chosen
        marks[row, cols] = np.where(again, chosen, np.nan)
    factor[columns] = current
    votes[columns] = ballots
    seen[columns] += np.minimum(rank[-1], need)
    # each row takes the factor of the latest mark at or above it (before the block: its own)
    latest = np.where(np.isnan(marks), -1, np.arange(head)[:, None])
    np.maximum.accumulate(latest, axis=0, out=latest)
    marked = marks[np.maximum(latest, 0), np.arange(block.shape[1])]
    out = np.empty((nonzero.shape[0], block.shape[1]))
    out[:head] = np.where(latest >= 0, marked, np.where(np.isnan(before), 1.0, before))
    out[head:] = np.where(np.isnan(current), 1.0, current)
    return out
