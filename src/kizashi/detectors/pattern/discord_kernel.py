"""The compiled batch path of :class:`~kizashi.detectors.pattern.discord.DiscordDetector`.

One numba kernel loops over series and steps: it keeps each series' running
range and moments (the *remembered* values: a lone wild value is scored but
forgotten) and, at each observed value, finds the nearest earlier
non-overlapping window.

* **In a batch** (:func:`_diagonals`) it slides the distance matrix's
  diagonals: the sum of squares between the window ending now and the one
  ``lag`` steps back gains the entering squared difference and loses the
  leaving one, O(``history``) per step as in STOMP, each lag with a rigorous
  bound on its accumulated rounding; then only the lags whose bounds could
  hold the minimum are summed afresh.
* **One step a call** (and a series holding values beyond 1e100, whose squares
  could overflow) it searches plainly (:func:`_nearest`), with early
  abandoning: a candidate's sum stops once it cannot beat the best so far.

Every sum that decides a score is added in numpy's own order (its pairwise
summation: eight running sums up to 128 terms, halves above), and a candidate
is passed over only when its bounds exceed the best by more than any rounding
could explain, so both paths give the floats of the earlier numpy
implementation bit for bit, and batch, steps and a restored state agree
exactly. A series holding ±inf (kept only while its range is a point) is
searched without abandoning, and a NaN distance (inf − inf) propagates as
numpy's ``min`` does.

Why not STOMP/MASS's dot products (``|a|² + |b|² − 2a·b``)? They cancel
catastrophically for near-identical windows (a repeating shape scores 1e-8
instead of 0) and for a level far from 0.

Why not stumpy? Its streaming ``stumpi`` (``aampi`` with ``normalize=False``)
keeps a growing series or, with ``egress``, a fixed-length one, and updates
the whole profile of it from sliding dot products at each point (the
cancellation above, not these floats); it scores a window holding a NaN as
inf rather than skipping missing values per series, and it streams one
series per object, with no batch over many series.
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import REORDER, njit

__all__ = ["discord_scores"]

#: Terms numpy sums with eight running sums before it splits a sum in halves.
_BLOCK = 128


@njit(cache=True, error_model="numpy")
def _squared(full: np.ndarray, q0: int, c0: int, n: int, best: float,
             margin: float) -> float:
    """Sum of ``(full[q0 + k] - full[c0 + k]) ** 2`` for ``k < n`` in numpy's pairwise
    order; ``inf`` as soon as a partial sum shows it exceeds ``best``."""
    if n > _BLOCK:
        half = n // 2
        half -= half % 8
        left = _squared(full, q0, c0, half, best, margin)
        if left * margin > best:
            return math.inf
        return left + _squared(full, q0 + half, c0 + half, n - half, best, margin)
    if n < 8:
        total = 0.0
        for k in range(n):
            d = full[q0 + k] - full[c0 + k]
            total += d * d
        return total
    d0 = full[q0] - full[c0]
    d1 = full[q0 + 1] - full[c0 + 1]
    d2 = full[q0 + 2] - full[c0 + 2]
    d3 = full[q0 + 3] - full[c0 + 3]
    d4 = full[q0 + 4] - full[c0 + 4]
    d5 = full[q0 + 5] - full[c0 + 5]
    d6 = full[q0 + 6] - full[c0 + 6]
    d7 = full[q0 + 7] - full[c0 + 7]
    r0, r1, r2, r3 = d0 * d0, d1 * d1, d2 * d2, d3 * d3
    r4, r5, r6, r7 = d4 * d4, d5 * d5, d6 * d6, d7 * d7
    k = 8
    whole = n - n % 8
    while k < whole:
        if (r0 + r1 + r2 + r3 + r4 + r5 + r6 + r7) * margin > best:
            return math.inf
        d0 = full[q0 + k] - full[c0 + k]
        d1 = full[q0 + k + 1] - full[c0 + k + 1]
        d2 = full[q0 + k + 2] - full[c0 + k + 2]
        d3 = full[q0 + k + 3] - full[c0 + k + 3]
        d4 = full[q0 + k + 4] - full[c0 + k + 4]
        d5 = full[q0 + k + 5] - full[c0 + k + 5]
        d6 = full[q0 + k + 6] - full[c0 + k + 6]
        d7 = full[q0 + k + 7] - full[c0 + k + 7]
        r0 += d0 * d0
        r1 += d1 * d1
        r2 += d2 * d2
        r3 += d3 * d3
        r4 += d4 * d4
        r5 += d5 * d5
        r6 += d6 * d6
        r7 += d7 * d7
        k += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while k < n:
        d = full[q0 + k] - full[c0 + k]
        total += d * d
        k += 1
    return total


@njit(cache=True, error_model="numpy")
def _nearest(full: np.ndarray, end: int, window: int, history: int, guess: int,
             abandon: bool, margin: float) -> tuple[float, int]:
    """RMS distance from the window ending at ``full[end]`` to its nearest candidate
    (ends ``end - window - history … end - window``, at least ``window - 1``), and the
    end of that candidate; the search starts at ``guess`` when it is a candidate."""
    lo = max(window - 1, end - window - history)
    hi = end - window
    q0 = end - window + 1
    best = math.inf
    at = -1
    if lo <= guess <= hi:
        best = _squared(full, q0, guess - window + 1, window, math.inf, margin)
        at = guess
        if math.isnan(best):
            return best, at
    bound = best if abandon else math.inf
    for candidate in range(lo, hi + 1):
        if candidate == guess:
            continue
        squared = _squared(full, q0, candidate - window + 1, window, bound, margin)
        if math.isnan(squared):
            return squared, candidate
        if squared < best:
            best = squared
            at = candidate
            if abandon:
                bound = best
    return math.sqrt(best / window), at


@njit(cache=True, error_model="numpy", fastmath=REORDER)
def _slide(sums: np.ndarray, errors: np.ndarray, entering_past: np.ndarray,
           leaving_past: np.ndarray, newest: float, leaving_value: float,
           eps8: float) -> None:
    """Slide ``sums[k]`` (lag ``window + k``) by one step and widen its error bound (by
    more than the rounding of any order of the additions); the pasts run backwards."""
    last = entering_past.size - 1
    for k in range(entering_past.size):
        entering = newest - entering_past[last - k]
        leaving = leaving_value - leaving_past[last - k]
        added = entering * entering
        removed = leaving * leaving
        before = sums[k]
        sums[k] = before + added - removed
        errors[k] += eps8 * (abs(before) + added + removed)


@njit(cache=True, error_model="numpy")
def _diagonals(full: np.ndarray, end: int, window: int, history: int, sums: np.ndarray,
               errors: np.ndarray, known: int, margin: float) -> tuple[float, int]:
    """:func:`_nearest` by the diagonals of the distance matrix: ``sums[lag - window]``
    holds the sum of squares between the windows ending at ``end`` and ``end - lag``
    within ``errors`` of it; the ``known`` first lags are those of the window ending at
    ``end - 1`` and are slid by one step, the others are summed afresh. Only the lags
    whose bounds could hold the minimum are summed exactly (numpy's order), so the
    result is :func:`_nearest`'s to the last bit. Returns the distance and the number of
    lags now known."""
    eps8 = 8.0 * 2.220446049250313e-16
    relative = 1.0 - margin  # pairwise sum vs the exact one
    lags = min(history, end - 2 * window + 1) + 1
    slid = min(known, lags)
    q0 = end - window + 1
    newest, leaving_value = full[end], full[end - window]
    _slide(sums, errors, full[end - window - slid + 1:end - window + 1],
           full[end - 2 * window - slid + 1:end - 2 * window + 1], newest, leaving_value,
           eps8)
    for k in range(slid, lags):
        total = _squared(full, q0, q0 - k - window, window, math.inf, margin)
        sums[k] = total
        errors[k] = relative * total
    top = math.inf
    for k in range(lags):
        top = min(top, sums[k] + errors[k])
    top *= 1.0 + relative
    best = math.inf
    for k in range(lags):
        if (sums[k] - errors[k]) * (1.0 - relative) <= top:
            total = _squared(full, q0, q0 - k - window, window, best, margin)
            if total < math.inf:
                sums[k] = total
                errors[k] = relative * total
            if total < best:
                best = total
    return math.sqrt(best / window), lags


#: Values beyond which a series is searched plainly (their squares could overflow).
_TAME = 1e100


@njit(cache=True, error_model="numpy")
def discord_scores(values: np.ndarray, tail: np.ndarray, count: np.ndarray,
                   mean: np.ndarray, m2: np.ndarray, low: np.ndarray, high: np.ndarray,
                   wild: np.ndarray, window: int, history: int,
                   max_growth: float) -> np.ndarray:
    """Scores of ``values`` (steps × series) and the state brought forward in place:
    ``tail`` (the last remembered values of each series, right-aligned, NaN before),
    the remembered values' ``count``, ``mean``, ``m2``, range ``low``/``high`` and
    whether the last observed value was ``wild``.

    >>> tail = np.full((4, 1), np.nan)
    >>> state = (np.zeros(1, np.int64), np.zeros(1), np.zeros(1), np.full(1, np.nan),
    ...          np.full(1, np.nan), np.zeros(1, np.bool_))
    >>> out = discord_scores(np.array([[0.0], [1.0], [3.0]]), tail, *state, 1, 2, 10.0)
    >>> [round(float(v), 5) for v in out[:, 0]]
    [0.0, 1.41421, 1.30931]
    """
    steps, n_series = values.shape
    kept = tail.shape[0]
    warmup = 2 * window - 1
    margin = 1.0 - 4.0 * (window + 16) * 2.220446049250313e-16
    out = np.full((steps, n_series), np.nan)
    full = np.empty(kept + steps + 1)
    sums = np.empty(history + 1)
    errors = np.empty(history + 1)
    for j in range(n_series):
        size = 0
        abandon = True
        tame = True
        known = 0  # lags in ``sums`` for the window ending at full[size - 1]
        for i in range(kept):
            value = tail[i, j]
            if not math.isnan(value):
                full[size] = value
                size += 1
                if math.isinf(value):
                    abandon = False
                if not abs(value) <= _TAME:
                    tame = False
        offset = count[j] - size  # values remembered before full[0]
        c, mu, s2 = count[j], mean[j], m2[j]
        lo_, hi_, was_wild = low[j], high[j], wild[j]
        guess = -1
        for i in range(steps):
            x = values[i, j]
            if math.isnan(x):
                continue
            reach = max_growth * (hi_ - lo_)
            limited = x
            if hi_ > lo_ and math.isfinite(reach):
                limited = min(max(x, lo_ - reach), hi_ + reach)
            now_wild = limited != x
            lone = now_wild and not was_wild and c >= warmup
            was_wild = now_wild
            if lone:  # scored as if remembered, then forgotten
                sigma = math.sqrt(s2 / max(c - 1, 1)) if c > 1 else math.nan
                full[size] = limited
                end = size
            else:
                c += 1
                delta = limited - mu
                mu = mu + delta / c
                s2 = s2 + delta * (limited - mu)
                lo_ = limited if math.isnan(lo_) else min(lo_, limited)
                hi_ = limited if math.isnan(hi_) else max(hi_, limited)
                sigma = math.sqrt(s2 / (c - 1)) if c > 1 else math.nan
                full[size] = limited
                if math.isinf(limited):
                    abandon = False
                if not abs(limited) <= _TAME:
                    tame = False
                end = size
                size += 1
            distance = 0.0
            if offset + end >= warmup:
                if tame and not lone and steps > 1:
                    distance, known = _diagonals(full, end, window, history, sums, errors,
                                                 known, margin)
                else:
                    distance, at = _nearest(full, end, window, history, guess, abandon,
                                            margin)
                    if not lone:
                        guess = at + 1
                        known = 0
            out[i, j] = distance / sigma if sigma > 0 else 0.0
        count[j], mean[j], m2[j] = c, mu, s2
        low[j], high[j], wild[j] = lo_, hi_, was_wild
        last = min(size, kept)
        for i in range(kept - last):
            tail[i, j] = math.nan
        for i in range(last):
            tail[kept - last + i, j] = full[size - last + i]
    return out
