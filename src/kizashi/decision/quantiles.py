"""Quantile cutoffs of many series at once, exactly as ``np.quantile`` gives them per series.

A quantile cutoff (``q0.999``) is, per series, ``np.quantile`` (linear
interpolation) of that series' finite scores. A loop of ``np.quantile`` per
series costs tens of microseconds a series; here:

* :func:`column_quantiles` sorts a ``(time, series)`` block once along time
  and interpolates every column at once;
* :class:`ExtremeKeeper` streams over blocks of scores and keeps only the
  ``m`` largest (for ``q ≥ 0.5``) or smallest finite scores of each series,
  and their count: a quantile near an end needs only the order statistics near
  that end, so ``q0.999`` over 1,000 steps keeps 2 values a series
  (:func:`values_needed`), and the result is still exactly ``np.quantile``'s.

Both reproduce numpy's ``linear`` method bit for bit: the virtual index
``(n − 1)·q``, its floor and the two-sided interpolation of ``numpy._lerp``
(``tests/decision/test_quantiles.py`` compares them with ``np.quantile`` on
random families of inputs).

Examples
--------
>>> scores = np.array([[1.0, np.nan], [4.0, 2.0], [2.0, np.inf], [3.0, 5.0]])
>>> column_quantiles(scores, 0.5).tolist()     # per column: finite values only
[2.5, 3.5]
>>> keeper = ExtremeKeeper(2, 0.5, values_needed(0.5, 4))
>>> for row in scores:
...     _ = keeper.add(row)
>>> keeper.quantiles().tolist()
[2.5, 3.5]
"""

from __future__ import annotations

from typing import Self

import numpy as np

__all__ = ["ExtremeKeeper", "column_quantiles", "values_needed"]


def _interpolate(low: np.ndarray, high: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """numpy's ``_lerp``: from ``low`` for ``gamma < 0.5``, from ``high`` otherwise."""
    diff = high - low
    out = low + diff * gamma
    upper = gamma >= 0.5
    out[upper] = (high - diff * (1 - gamma))[upper]
    return out


def _from_sorted(ordered: np.ndarray, counts: np.ndarray, q: float,
                 first: np.ndarray) -> np.ndarray:
    """Quantiles of columns whose order statistic ``i`` (0 = smallest of ``counts``
    values) sits at row ``i − first`` of ``ordered``; NaN where a count is 0."""
    n = counts.astype(np.int64)
    virtual = (n - 1) * float(q)
    floor = np.floor(virtual)
    gamma = virtual - floor
    last = np.maximum(n - 1, 0)
    previous = np.minimum(floor.astype(np.int64), last)
    following = np.minimum(previous + 1, last)
    columns = np.arange(ordered.shape[1])
    rows = ordered.shape[0] - 1
    low = ordered[np.clip(previous - first, 0, rows), columns]
    high = ordered[np.clip(following - first, 0, rows), columns]
    with np.errstate(invalid="ignore"):
        out = _interpolate(low, high, gamma)
    out[n == 0] = np.nan
    return out


def column_quantiles(scores: np.ndarray, q: float, missing: float = np.inf) -> np.ndarray:
    """``np.quantile(column[np.isfinite(column)], q)`` of every column of ``scores``
    ``(time, series)``; ``missing`` where a column has no finite score."""
    matrix = np.asarray(scores, dtype=np.float64)
    matrix = matrix.reshape(matrix.shape[0], -1)
    finite = np.isfinite(matrix)
    ordered = np.sort(np.where(finite, matrix, np.nan), axis=0)  # NaN sorts last
    counts = finite.sum(axis=0)
    if not matrix.shape[0]:
        return np.full(matrix.shape[1], float(missing))
    out = _from_sorted(ordered, counts, q, np.zeros(matrix.shape[1], dtype=np.int64))
    out[counts == 0] = missing
    return out


def values_needed(q: float, most: int) -> int:
    """How many of the largest (``q ≥ 0.5``) or smallest values of a series give its
    ``q`` quantile exactly, for any count of values up to ``most``."""
    n = np.arange(1, max(int(most), 1) + 1)
    floor = np.floor((n - 1) * float(q)).astype(np.int64)
    if q >= 0.5:   # order statistics floor .. floor + 1 of n, counted from the top
        return int(np.max(n - floor))
    return int(np.max(np.minimum(floor + 2, n)))


class ExtremeKeeper:
    """The ``m`` largest (``q ≥ 0.5``) or smallest finite scores of each series, and how
    many finite scores were seen: enough for the ``q`` quantile of up to the number of
    scores :func:`values_needed` was given.

    >>> keeper = ExtremeKeeper(1, 0.9, values_needed(0.9, 5))
    >>> for value in [5.0, 1.0, np.nan, 4.0, 2.0, 3.0]:
    ...     _ = keeper.add(np.array([value]))
    >>> keeper.quantiles().tolist(), float(np.quantile([5.0, 1.0, 4.0, 2.0, 3.0], 0.9))
    ([4.6], 4.6)
    """

    def __init__(self, n_series: int, q: float, keep: int):
        self.q = float(q)
        self.top = self.q >= 0.5
        self.keep = max(int(keep), 1)
        self.empty = -np.inf if self.top else np.inf
        self.kept = np.full((self.keep, int(n_series)), self.empty)  # sorted ascending
        self.counts = np.zeros(int(n_series), dtype=np.int64)

    def add(self, row: np.ndarray, columns: np.ndarray | None = None) -> Self:
        """Take one score per series (NaN/inf: none); ``columns`` places ``row``'s
        entries among the series (all series, in order, when None)."""
        values = np.asarray(row, dtype=np.float64)
        if columns is not None:
            full = np.full(self.counts.size, np.nan)
            full[columns] = values
            values = full
        finite = np.isfinite(values)
        self.counts += finite
        carry = np.where(finite, values, self.empty)
        # insert into the sorted kept rows (ascending), the most extreme end first; what
        # falls off the other end is dropped: 2 elementwise operations per kept row
        rows = range(self.keep - 1, -1, -1) if self.top else range(self.keep)
        keep_side, drop_side = (np.maximum, np.minimum) if self.top else (np.minimum, np.maximum)
        for r in rows:
            kept = self.kept[r]
            dropped = drop_side(kept, carry)
            keep_side(kept, carry, out=kept)
            carry = dropped
        return self

    def add_many(self, series: np.ndarray, scores: np.ndarray) -> Self:
        """Take scores of any series in any order (``series[i]`` got ``scores[i]``)."""
        series = np.asarray(series, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float64)
        finite = np.isfinite(scores)
        series, scores = series[finite], scores[finite]
        if not series.size:
            return self
        np.add.at(self.counts, series, 1)
        # rank each series' scores from its extreme end, keep the first `keep` of each
        order = np.lexsort((-scores if self.top else scores, series))
        series, scores = series[order], scores[order]
        starts = np.r_[0, np.flatnonzero(np.diff(series)) + 1]
        rank = np.arange(series.size) - np.repeat(starts, np.diff(np.r_[starts, series.size]))
        chosen = rank < self.keep
        extra = np.full((self.keep, self.counts.size), self.empty)
        extra[rank[chosen], series[chosen]] = scores[chosen]
        stack = np.vstack([self.kept, extra])
        stack.sort(axis=0)
        self.kept = np.ascontiguousarray(stack[self.keep:] if self.top else stack[:self.keep])
        return self

    def quantiles(self, min_count: int = 1, missing: float = np.inf) -> np.ndarray:
        """The ``q`` quantile of each series' finite scores (``missing`` below
        ``min_count`` scores)."""
        ordered = np.sort(self.kept, axis=0)
        n = self.counts
        # the kept rows hold order statistics n − keep .. n − 1 (top) or 0 .. keep − 1
        first = n - self.keep if self.top else np.zeros_like(n)
        out = _from_sorted(ordered, n, self.q, first)
        out[n < max(int(min_count), 1)] = missing
        return out
