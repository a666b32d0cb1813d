"""A streaming discord detector: how far is the latest stretch of values from every past one?"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.detectors.pattern.discord_kernel import discord_scores
from kizashi.state import State
from kizashi.streaming.magnitudes import unit_scaled


class DiscordDetector(Detector):
    """Distance from the last ``window`` values to their nearest neighbour in the past.

    A *discord* (Keogh et al., "HOT SAX", 2005; the matrix profile of Yeh et
    al., 2016) is a subsequence far from every other one. Here it is streamed
    and never looks ahead: at each step the window of the last ``window``
    observed values is compared with every earlier window that ends at least
    ``window`` steps before it (so they do not overlap) and at most
    ``history`` windows back; the score is the root-mean-square difference to
    the nearest one, divided by the standard deviation of all values seen so
    far (including the latest), so it is in standard deviations of the series.
    Until a window has a candidate (``2 * window - 1`` values) the score is 0.

    It finds what a value-by-value rule cannot: a usual value in an unusual
    shape (a day with a flat middle, a missing daily peak, a holiday's
    demand) — the contextual anomalies ARTime's adaptive-resonance categories
    of windows and CAD OSE's contexts are built for — without quantising, and
    with the series' own range learned while streaming. Its score is not
    calibrated; the engine's decider (the anomaly likelihood) or the
    ensemble puts it on a scale.

    Values are compared as they are (a change of level is a new shape). A
    value beyond the range seen so far by more than ``max_growth`` of its
    width is *wild*: it is scored at that reach, and a lone wild value (1e308
    between usual ones) is then forgotten, so it neither overflows the
    distances, nor inflates the scale, nor makes a later spike look familiar;
    from the second wild value in a row (a real change of level) they are
    remembered at that reach, so the range grows towards them. Missing values
    are skipped: a window is the last ``window`` *observed* values.

    Parameters
    ----------
    window : int
        Values per window (the shape's length).
    history : int
        Past windows a window is compared with (memory and time per step grow
        with it).
    max_growth : float
        The most one value may widen the remembered range, in widths of it.

    Examples
    --------
    >>> values = np.sin(2 * np.pi * np.arange(600) / 50.0)
    >>> values[500:520] = 0.0              # a flat stretch in the middle of a wave
    >>> scores = DiscordDetector(window=16).score(values)
    >>> bool((scores[:31] == 0).all()), round(float(scores[100:500].max()), 6)
    (True, 0.0)
    >>> bool(scores[510] > 0.5)
    True
    """

    conformance_params = {"window": 4, "history": 50}
    #: Like the context detector, it must see a new shape to stop calling it new.
    protect_baseline = False

    def __init__(self, window: int = 32, history: int = 2000, max_growth: float = 10.0):
        self.window = window
        self.history = history
        self.max_growth = max_growth

    @property
    def n_warmup(self) -> int:
        return 2 * int(self.window) - 1

    def _check(self) -> None:
        for key, low in (("window", 1), ("history", 1)):
            value = getattr(self, key)
            if isinstance(value, bool) or int(value) != value or value < low:
                raise ValueError(f"discord: {key} must be a whole number >= {low}, "
                                 f"got {value!r}")
        if not (math.isfinite(self.max_growth) and self.max_growth > 0):
            raise ValueError(f"discord: max_growth must be a number > 0, got "
                             f"{self.max_growth!r}")

    @property
    def _kept(self) -> int:
        """Values a series must remember: the oldest candidate's first value onwards."""
        return int(self.history) + 2 * int(self.window) - 1

    def _init_state(self, n_series: int) -> State:
        self._check()
        return {"n_series": n_series,
                "tail": np.full((self._kept, n_series), np.nan),
                "count": np.zeros(n_series, dtype=np.int64),
                "mean": np.zeros(n_series), "m2": np.zeros(n_series),
                "low": np.full(n_series, np.nan), "high": np.full(n_series, np.nan),
                "wild": np.zeros(n_series, dtype=bool),
                # each series' unit, chosen from its first non-zero values (unit_scaled)
                "factor": np.full(n_series, np.nan),
                "unit_seen": np.zeros(n_series, dtype=np.int64),
                "unit_votes": np.zeros(n_series, dtype=np.int64)}

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        return self._score_batch(state, x[None, :], None)[0]

    def _score_batch(self, state: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        values = unit_scaled(state, np.asarray(values, dtype=float))  # 1e300: as at 1
        return discord_scores(np.ascontiguousarray(values, dtype=float), state["tail"],
                              state["count"], state["mean"], state["m2"], state["low"],
                              state["high"], state["wild"], int(self.window),
                              int(self.history), float(self.max_growth))
