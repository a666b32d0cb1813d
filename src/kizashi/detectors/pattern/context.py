"""A contextual anomaly detector: how new is the recent pattern of quantised values?"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.state import State

#: Constants of the pattern hash: patterns modulo a Mersenne prime, then a
#: multiplicative hash with each order offset by Knuth's constant.
_PRIME = 2147483647
#: The most one value may widen the learned range, in widths of the range so far.
RANGE_GROWTH = 0.25
_HASH = 2654435761


class ContextDetector(Detector):
    """Scores how rarely the last few quantised values have been seen in that order.

    In the spirit of Numenta's contextual anomaly detector (CAD OSE, Smirnov's
    "context" memory over quantised values) and of ARTime's categories of
    quantised windows, written afresh and without look-ahead:

    1. **Quantise** each value into one of ``levels`` bins of the range seen
       so far, or one of two more bins when it lies above or below that range
       by more than ``tolerance`` of it (the range is learned while streaming —
       NAB's reference implementations take the whole file's min/max in
       advance; this one never does). With
       ``range_halflife`` the range forgets, as :class:`RangeRule`'s does, so one
       old excursion does not squeeze every later value into one bin.
    2. **Contexts**: for every order ``k = 1 .. max_order``, the last ``k``
       bins, in order, form a pattern; patterns are hashed into a table of
       ``table_size`` counts per series.
    3. **Score**: the mean over orders of ``1 / (1 + count)`` of the current
       patterns (before they are counted): 1 when every pattern is new, near 0
       when all are familiar. Long patterns make the score contextual: a usual
       value at an unusual place in the rhythm forms a new order-``k`` pattern.
    4. **Learn**: once a series has ``min_periods`` values (before, its range
       still grows all the time), the current patterns' counts grow by one; with
       ``halflife`` the counts decay, so what has not been seen for long becomes
       new again.

    The score lives in [0, 1] but is not calibrated: the engine's decider (the
    anomaly likelihood by default) puts it on a scale.

    The defaults (8 levels, patterns of up to 2 steps) were chosen on NAB's
    tuning fold among the settings that also flag a level shift with
    ``kizashi detect``'s default decision (16 levels and order 3 scored 2.6
    points more there but missed it; ``docs/benchmarks.md``).

    Parameters
    ----------
    levels : int
        Bins of the value range (CAD OSE uses 2**3 = 8).
    max_order : int
        Longest pattern, in steps.
    table_size : int
        Counts per series (patterns are hashed into them; collisions make a
        pattern look familiar, never new).
    halflife : float or None
        Half-life of the counts, in observed values (None: counts never decay).
    range_halflife : float or None
        Half-life of the learned range's distance above and below the current
        value (None: Numenta's range, which never shrinks).
    tolerance : float
        A value is above (below) the range when it passes it by more than this
        fraction of the range (Numenta's range rule: 0.05).
    min_periods : int
        Observed values before a series is scored (scores 0 before).

    Examples
    --------
    >>> values = np.tile([0.0, 1.0, 2.0, 3.0], 60)
    >>> values[202] = 0.0                 # a usual value out of its place
    >>> scores = ContextDetector(min_periods=20).score(values)
    >>> bool(scores[202] > 0.5), bool(scores[199] < 0.05)
    (True, True)
    """

    conformance_params = {"table_size": 512, "min_periods": 10}
    #: Like the range rule, it must learn a new level (and its patterns) to stop alerting.
    protect_baseline = False

    def __init__(self, levels: int = 8, max_order: int = 2, table_size: int = 4096,
                 halflife: float | None = None, range_halflife: float | None = 5000.0,
                 tolerance: float = 0.05, min_periods: int = 50):
        self.levels = levels
        self.max_order = max_order
        self.table_size = table_size
        self.halflife = halflife
        self.range_halflife = range_halflife
        self.tolerance = tolerance
        self.min_periods = min_periods

    @property
    def n_warmup(self) -> int:
        return int(self.min_periods)

    def _check(self) -> None:
        for key, low in (("levels", 2), ("max_order", 1), ("table_size", 16),
                         ("min_periods", 0)):
            value = getattr(self, key)
            if isinstance(value, bool) or int(value) != value or value < low:
                raise ValueError(f"context: {key} must be a whole number >= {low}, got {value!r}")
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise ValueError(f"context: tolerance must be a number >= 0, got {self.tolerance!r}")
        for key in ("halflife", "range_halflife"):
            value = getattr(self, key)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"context: {key} must be > 0 or None, got {value!r}")

    def _init_state(self, n_series: int) -> State:
        self._check()
        return {"n_series": n_series,
                "low": np.full(n_series, np.nan), "high": np.full(n_series, np.nan),
                "recent": np.zeros((int(self.max_order), n_series), dtype=np.int64),
                "count": np.zeros(n_series, dtype=np.int64),
                "wild": np.zeros(n_series, dtype=bool),
                "table": np.zeros((int(self.table_size), n_series))}

    def _bins(self, x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Bin of ``x`` in the range so far; ``levels`` above it, ``levels + 1`` below it
        (by more than ``tolerance`` of the range)."""
        spread = high - low
        levels = int(self.levels)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            position = np.where(spread > 0, (x - low) / spread, 0.5)
            position = np.nan_to_num(position, nan=0.5, posinf=1.0, neginf=0.0)
            inside = np.clip(np.floor(position * levels), 0, levels - 1).astype(np.int64)
            margin = float(self.tolerance) * spread
            return np.where(x > high + margin, levels, np.where(x < low - margin, levels + 1,
                                                                inside))

    def _codes(self, recent: np.ndarray) -> np.ndarray:
        """``(max_order, n)`` table rows of the patterns ending with ``recent[0]``."""
        levels, size = int(self.levels) + 2, int(self.table_size)
        codes = np.empty(recent.shape, dtype=np.int64)
        exact = np.zeros(recent.shape[1], dtype=np.int64)
        for k in range(recent.shape[0]):
            exact = (exact * levels + recent[k]) % _PRIME
            codes[k] = ((exact * 40503 + (k + 1) * _HASH) % (1 << 32)) % size
        return codes

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        seen = ~np.isnan(x)
        low, high, count = state["low"], state["high"], state["count"]
        # a value beyond the range so far gets a bin of its own (above or below)
        bins = self._bins(x, low, high)
        recent = np.where(seen, np.vstack([bins[None, :], state["recent"][:-1]]),
                          state["recent"])
        codes = self._codes(recent)
        columns = np.arange(x.size)
        orders = np.minimum(count + 1, int(self.max_order))  # patterns this long exist
        found = state["table"][codes, columns]
        usable = np.arange(int(self.max_order))[:, None] < orders[None, :]
        novelty = np.where(usable, 1.0 / (1.0 + found), 0.0).sum(axis=0) / np.maximum(orders, 1)
        score = np.where(count >= int(self.min_periods), novelty, 0.0)
        score = np.where(seen, score, np.nan)
        # learn
        table = state["table"]
        if self.halflife is not None:
            table[:, seen] *= 0.5 ** (1.0 / float(self.halflife))
        # one wild value (1e308) widens the range at most RANGE_GROWTH of its width, as the
        # range rule's max_growth does, so it cannot squeeze every later value into a bin
        with np.errstate(invalid="ignore", over="ignore"):
            reach = RANGE_GROWTH * (high - low)
            limited = np.clip(x, low - reach, high + reach)
        wild = seen & (high > low) & np.isfinite(reach) & (limited != x)
        # once the series is past min_periods, a lone wild value leaves the range alone;
        # from the second in a row (a real change of level) the range grows towards them
        lone = wild & ~state["wild"] & (count >= int(self.min_periods))
        x = np.where(lone, np.clip(x, low, high),
                     np.where((high > low) & np.isfinite(reach), limited, x))
        new_low, new_high = np.fmin(low, x), np.fmax(high, x)
        # patterns are counted once the series is past min_periods (while it is young its
        # range grows all the time, and "above the range" would become a familiar pattern),
        # and a wild value (beyond the growth limit) teaches none: one 1e308 must not make
        # "above the range" familiar
        grown = seen & ~wild & (count >= int(self.min_periods))
        for k in range(int(self.max_order)):
            learn = grown & usable[k]
            table[codes[k, learn], columns[learn]] += 1.0
        if self.range_halflife is None:
            state["low"], state["high"] = np.where(seen, new_low, low), np.where(seen, new_high,
                                                                                   high)
        else:
            decay = 0.5 ** (1.0 / float(self.range_halflife))
            with np.errstate(invalid="ignore", over="ignore"):
                state["high"] = np.where(seen, x + decay * (new_high - x), high)
                state["low"] = np.where(seen, x + decay * (new_low - x), low)
        state["recent"] = recent
        state["wild"] = np.where(seen, wild, state["wild"])
        state["count"] = count + seen
        return score
