"""A count-aware calibration: how unlikely the recent number of events of a sparse count series is.

A series of event counts per step (restarts of a daemon, errors, OOM kills)
is mostly 0 with an occasional 1. A Gaussian tail over averaged z-scores (the
anomaly likelihood) is the wrong model for it: a single event after days of
zeros is an enormous z-score, although a daemon that restarts twice a day
restarting once is nothing. :class:`CountTail` asks the right question
instead — *how unlikely is it to see this many events in the last*
``window`` *steps?* — with a count model learned from the series' past:

* **rate** — a Gamma–Poisson (Bayesian) rate per step: after ``n`` steps with
  ``S`` events the rate is ``(S + prior_events) / n`` and its uncertainty is a
  Gamma of shape ``S + prior_events`` (``prior_events = 0.5`` is Jeffreys'
  prior), so a series that has never had an event does not make its first
  one infinitely unlikely;
* **dispersion** — events that come in bursts (overdispersion) are learned
  from the past window counts: their variance over their mean ``D`` (at least
  1, Poisson) widens the tail;
* **tail** — the window's count ``s`` (the current step and the
  ``window - 1`` observed steps before it) is judged against a negative
  binomial of mean ``μ = w · rate`` and variance
  ``μ + μ² / (S + prior_events) + μ (D − 1)`` (the Gamma–Poisson predictive
  plus the learned extra spread): ``q = P(N ≥ s)``;
* **level** — ``q`` on Numenta's log scale
  (:func:`kizashi.decision.likelihood.log_scale`), so 0.5 is the same red line
  (``q = 1e-5``) as the anomaly likelihood's and the two can be mixed.

Which series are counts is a property of the data, not of the name:
:func:`sparse_counts` says a series is one while every value it has shown
is a whole number ≥ 0, at least ``SPARSE_ZEROS`` of them are 0 (events are
rare) and the smallest positive one is 1 (it counts single events).

Nothing is forgotten: the rate and the dispersion are running totals (a
change of rate is learned as the totals grow). NaN leaves a series untouched.

Examples
--------
A daemon that restarts about once in 600 steps: one restart is ordinary, three
in ten steps are not.

>>> rng = np.random.default_rng(0)
>>> restarts = (rng.random(5000) < 1 / 600).astype(float)
>>> tail = CountTail(window=10)
>>> tail.reset(1).transform(restarts[:, None]).shape
(5000, 1)
>>> later = np.zeros((12, 1)); later[2] = 1; later[8:11] = 1
>>> [round(float(v), 2) for v in tail.transform(later)[[2, 8, 9, 10], 0]]
[0.16, 0.35, 0.56, 0.77]
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from kizashi.decision.likelihood import log_scale
from kizashi.state import State

__all__ = ["SPARSE_ZEROS", "CountTail", "sparse_counts"]

#: Share of zeros (at least) that makes a series of whole numbers a sparse count series.
SPARSE_ZEROS = 0.9


def sparse_counts(seen: np.ndarray, zeros: np.ndarray, not_counts: np.ndarray,
                  smallest: np.ndarray) -> np.ndarray:
    """Whether series with ``seen`` values, ``zeros`` of them 0, ``not_counts`` of them not
    whole numbers ≥ 0 and ``smallest`` the smallest positive one (inf: none) count events.

    A count of events goes up one event at a time: a series of whole numbers whose
    smallest positive value is not 1 (a 0/20 square wave) is a measurement, not a count.

    >>> sparse_counts(np.array([10, 10, 10, 10, 0]), np.array([9, 3, 9, 9, 0]),
    ...               np.array([0, 0, 1, 0, 0]), np.array([1, 1, 1, 20, np.inf]))
    array([ True, False, False, False, False])
    """
    seen = np.asarray(seen)
    smallest = np.asarray(smallest)
    return ((seen > 0) & (np.asarray(not_counts) == 0) & (np.asarray(zeros) >= SPARSE_ZEROS * seen)
            & ((smallest == 1) | np.isinf(smallest)))


#: The state of the count model proper (what a measurement series no longer needs).
COUNT_MODEL = ("total", "learned", "windows", "window_sum", "window_squares", "recent",
               "recent_sums", "recent_full")


class CountTail:
    """The tail probability of a series' recent count of events, on the likelihood's scale.

    See the module documentation for the model. Vectorised over series.

    Parameters
    ----------
    window : int
        Steps whose counts are summed (the current one and the observed ones
        before it); the anomaly likelihood's ``averaging_window``.
    prior_events : float
        Events of the Gamma prior on the rate (0.5: Jeffreys').

    Examples
    --------
    Ten thousand steps with 20 events (rate 0.002): the chance of two or
    more events in ten steps is about ``1 − e^{−μ}(1 + μ)`` with ``μ ≈ 0.0205``:

    >>> tail = CountTail(window=10).reset(1)
    >>> history = np.zeros((10000, 1)); history[::500] = 1
    >>> _ = tail.transform(history)
    >>> step = np.zeros((10, 1)); step[[0, 9]] = 1
    >>> level = tail.transform(step)[-1, 0]
    >>> bool(abs(level - float(log_scale(1 - 2.1e-4))) < 0.01)
    True
    """

    def __init__(self, window: int = 10, prior_events: float = 0.5):
        self.window = window
        self.prior_events = prior_events

    state_: State | None = None

    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments."""
        return {"window": self.window, "prior_events": self.prior_events}

    def _check(self) -> None:
        if isinstance(self.window, bool) or int(self.window) != self.window or self.window < 1:
            raise ValueError(f"CountTail: window must be a whole number >= 1, got "
                             f"{self.window!r}")
        if not (np.isfinite(self.prior_events) and self.prior_events > 0):
            raise ValueError(f"CountTail: prior_events must be a number > 0, got "
                             f"{self.prior_events!r}")

    def reset(self, n_series: int) -> Self:
        """Start afresh for ``n_series`` series."""
        self.state_ = self.initial_state(n_series)
        return self

    def initial_state(self, n_series: int) -> State:
        """A fresh state (plain data) for ``n_series`` series."""
        self._check()
        n = int(n_series)
        return {"seen": np.zeros(n, dtype=np.int64), "zeros": np.zeros(n, dtype=np.int64),
                "not_counts": np.zeros(n, dtype=np.int64), "smallest": np.full(n, np.inf),
                "total": np.zeros(n),
                "learned": np.zeros(n), "windows": np.zeros(n), "window_sum": np.zeros(n),
                "window_squares": np.zeros(n),
                "recent": np.full((int(self.window) - 1, n), np.nan),
                "recent_sums": np.full((int(self.window) - 1, n), np.nan),
                "recent_full": np.full((int(self.window) - 1, n), np.nan)}

    def transform(self, block: np.ndarray) -> np.ndarray:
        """Levels of a ``(time, series)`` block, learning each row after scoring it."""
        if self.state_ is None:
            self.reset(np.asarray(block).shape[1])
        return self.assess(self.state_, block)[0]

    def assess(self, state: State, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(levels, sparse)``: each row's level and whether its series is a sparse count
        series at that row (its values so far, this one included); learns the block.

        A level is NaN where the value is, and where the series is not a count series.
        """
        self._check()
        values = np.asarray(block, dtype=np.float64)
        levels = np.full(values.shape, np.nan)
        sparse = np.zeros(values.shape, dtype=bool)
        observed = ~np.isnan(values)
        # a count goes up one event at a time: beyond 2**53 a float holds no exact count
        whole = observed & (values >= 0) & (values <= 2.0 ** 53) & (values == np.round(values))
        seen = state["seen"] + np.cumsum(observed, axis=0)
        zeros = state["zeros"] + np.cumsum(observed & (values == 0), axis=0)
        not_counts = state["not_counts"] + np.cumsum(observed & ~whole, axis=0)
        positive = np.where(observed & (values > 0), values, np.inf)
        smallest = np.fmin.accumulate(np.vstack([state["smallest"][None, :], positive]),
                                      axis=0)[1:]
        sparse[:] = sparse_counts(seen, zeros, not_counts, smallest) & observed
        # a series with a value that is no count is a measurement for good (never sparse
        # again): its count model is never read, so it learns nothing more and is emptied
        # (a measurement of 1e300 would square past the float range and keep inf in the state)
        counting = state["not_counts"] == 0
        for j in np.flatnonzero(observed.any(axis=0) & counting):
            rows = np.flatnonzero(observed[:, j])
            with np.errstate(over="ignore", invalid="ignore"):
                counted = self._column(state, j, values[rows, j],
                                       score=bool(sparse[:, j].any()))
            if counted is not None:
                levels[rows, j] = counted
        if len(values):  # (and what a state saved before this kept of a measurement)
            stale = counting | (state["learned"] != 0) | (state["total"] != 0)
            self._forget(state, np.flatnonzero(stale & (not_counts[-1] > 0)))
        levels = np.where(sparse, levels, np.nan)
        state["seen"] = seen[-1] if len(values) else state["seen"]
        state["zeros"] = zeros[-1] if len(values) else state["zeros"]
        state["not_counts"] = not_counts[-1] if len(values) else state["not_counts"]
        state["smallest"] = smallest[-1] if len(values) else state["smallest"]
        return levels, sparse

    def _forget(self, state: State, columns: np.ndarray) -> None:
        """Empty the count model of ``columns`` (series that turned out to be measurements)."""
        if columns.size == 0:
            return
        fresh = self.initial_state(1)
        for key in COUNT_MODEL:
            state[key][..., columns] = fresh[key][..., :1]

    # ---------------------------------------------------------------- one column
    def _column(self, state: State, j: int, counts: np.ndarray, score: bool = True
                ) -> np.ndarray | None:
        """Levels of one series' new observed values (if ``score``), then learn them.

        The values of the window being judged are never part of the model it is judged
        against: a value enters the totals only when it leaves the ``window - 1`` values
        kept in ``recent`` (a burst's first steps are judged against the time before it).
        """
        width = int(self.window)
        held = ~np.isnan(state["recent"][:, j])
        chain = np.concatenate([state["recent"][held, j], counts])
        size = int(held.sum())
        cumulative = np.concatenate([[0.0], np.cumsum(chain)])
        ends = size + np.arange(counts.size) + 1
        sums = cumulative[ends] - cumulative[np.maximum(ends - width, 0)]
        lengths = np.minimum(int(state["seen"][j]) + np.arange(counts.size) + 1, width)
        full = (lengths >= width).astype(np.float64)
        chain_sums = np.concatenate([state["recent_sums"][held, j], sums * full])
        chain_full = np.concatenate([state["recent_full"][held, j], full])
        # chain elements in the totals before each new value is judged, and at the end
        committed = np.maximum(size + np.arange(counts.size) - (width - 1), 0)
        final = max(size + counts.size - (width - 1), 0)
        running = {key: np.concatenate([[0.0], np.cumsum(part)]) for key, part in
                   (("total", chain), ("windows", chain_full), ("window_sum", chain_sums),
                    ("window_squares", chain_sums ** 2))}
        levels = None
        if score:
            learned = state["learned"][j] + committed
            get = {key: state[key][j] + running[key][committed] for key in running}
            levels = self._levels(sums, lengths.astype(np.float64), learned, get)
        for key in running:
            state[key][j] += running[key][final]
        state["learned"][j] += final
        if width > 1:
            for key, part in (("recent", chain), ("recent_sums", chain_sums),
                              ("recent_full", chain_full)):
                kept = part[final:]
                state[key][:, j] = np.concatenate([np.full(width - 1 - kept.size, np.nan), kept])
        return levels

    def _levels(self, sums: np.ndarray, lengths: np.ndarray, learned: np.ndarray,
                totals: dict[str, np.ndarray]) -> np.ndarray:
        """The log-scale tail level of each window count ``sums`` (see the module docs)."""
        from scipy.stats import nbinom

        events = totals["total"] + float(self.prior_events)
        mean = lengths * events / np.maximum(learned, 1)
        windows = totals["windows"]
        with np.errstate(invalid="ignore", divide="ignore"):
            past_mean = totals["window_sum"] / windows
            past_var = totals["window_squares"] / windows - past_mean ** 2
            dispersion = np.where((windows > 1) & (past_mean > 0),
                                  np.maximum(past_var / past_mean, 1.0), 1.0)
            # the Gamma-Poisson predictive's variance plus the learned extra spread
            extra = np.maximum(mean * mean / events + mean * (dispersion - 1.0), mean * 1e-12)
            size = mean * mean / extra
            q = nbinom.sf(sums - 1.0, size, size / (size + mean))
        q = np.where(sums <= 0, 1.0, np.clip(q, 0.0, 1.0))
        levels = np.maximum(log_scale(1.0 - q), 0.0)
        return np.where(learned >= 1, levels, np.nan)
