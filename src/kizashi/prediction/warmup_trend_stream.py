"""``kizashi predict --warmup-trend`` for a daemon: the trend line of each newest step.

:mod:`kizashi.prediction.warmup_trend` draws, at every row of a file, the straight line
through a series' last 6 h and warns while the series still learns when the line's lower
90 % band passes the limit within the horizon. :class:`WarmupTrendStream` keeps what that
needs of a live feed: a ring of the rows of the last :data:`WINDOW_SECONDS` (times shared,
values per series), when each series was first stepped, and whether it has had a
probability yet (then the forecasters speak and the line steps aside for good, as in
:func:`~kizashi.prediction.warmup_trend.learning_rows`). The line itself is the batch one
(:func:`~kizashi.prediction.warmup_trend.trend_crossings`, run over the ring for the
series still learning), judged at the newest row only: that is all a daemon reports.

>>> import numpy as np
>>> stream = WarmupTrendStream(step_seconds=300.0, horizon_seconds=6 * 3600.0)
>>> state = stream.fresh(1)
>>> seconds = np.arange(0, 2 * 3600 + 1, 300.0)          # 2 h of 5-minute rows
>>> disk = (20 + 12 * seconds / 3600)[:, None]           # +12 %/h: full at 6 h 40 min
>>> stream.push(state, seconds, disk, np.ones(seconds.size, bool))
>>> warn, eta = stream.decide(state, np.array([100.0]), np.zeros(1, bool))
>>> bool(warn[0]), round(float(eta[0] - seconds[-1]) / 3600, 2)   # at 2 h: full 4.67 h on
(True, 4.67)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kizashi.prediction.warmup_trend import MIN_SECONDS, WINDOW_SECONDS, trend_crossings

__all__ = ["WarmupTrendStream"]


class WarmupTrendStream:
    """The warm-up trend line of series fed row by row (module docs).

    Parameters
    ----------
    step_seconds : float
        The feed's step: the ring holds ``WINDOW_SECONDS / step_seconds + 2`` rows.
    horizon_seconds : float
        How far ahead the line must reach the limit.
    """

    def __init__(self, step_seconds: float, horizon_seconds: float):
        self.step_seconds = float(step_seconds)
        self.horizon_seconds = float(horizon_seconds)
        self.rows = int(WINDOW_SECONDS // self.step_seconds) + 2

    def fresh(self, n_series: int) -> dict[str, Any]:
        """The state of ``n_series`` series that have seen nothing: the ring's times ``t``
        and next slot ``at`` (shared), its values ``y`` ``(rows, series)``, each series'
        first time ``start``, whether it had a probability (``probed``), and the newest
        row's warning and ETA (seconds since the epoch)."""
        s = int(n_series)
        return {"t": np.full(self.rows, np.nan), "at": np.zeros(1, dtype=np.int64),
                "y": np.full((self.rows, s), np.nan), "start": np.full(s, np.nan),
                "probed": np.zeros(s, dtype=bool), "warn": np.zeros(s, dtype=bool),
                "eta": np.full(s, np.nan)}

    def upgrade(self, predictor_state: dict[str, Any]) -> dict[str, Any]:
        """A state for a predictor saved without one: an empty ring whose series start now
        (a line again after :data:`MIN_SECONDS`), and ``probed`` where the predictor's last
        probability is known (those have left their warm-up)."""
        n = int(predictor_state["n_series"])
        state = self.fresh(n)
        now = float(np.asarray(predictor_state["time"], dtype=np.float64)[0])
        state["start"][:] = now
        state["probed"] = np.isfinite(np.asarray(predictor_state["probability"],
                                                 dtype=np.float64)).reshape(n)
        return state

    def learn(self, state: dict[str, Any], probability: np.ndarray) -> None:
        """Note one row's probabilities ``(S,)``: a series with one has left its warm-up."""
        state["probed"] |= np.isfinite(probability)

    def push(self, state: dict[str, Any], times: np.ndarray, values: np.ndarray,
             observed: np.ndarray) -> None:
        """Add rows (``times`` in seconds, ``values`` ``(n, S)``; rows not ``observed`` —
        laid out across a missing stretch — as missing, like the file's absent rows)."""
        times = np.asarray(times, dtype=np.float64)
        if times.size == 0:
            return
        state["start"] = np.where(np.isnan(state["start"]), times[0], state["start"])
        values = np.where(np.asarray(observed, dtype=bool)[:, None], values, np.nan)
        times, values = times[-self.rows:], values[-self.rows:]
        slots = (int(state["at"][0]) + np.arange(times.size)) % self.rows
        state["t"][slots] = times
        state["y"][slots] = values
        state["at"][0] = (int(state["at"][0]) + times.size) % self.rows

    def decide(self, state: dict[str, Any], limits: np.ndarray, warning: np.ndarray,
               cycle_open: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """At the newest row: which series warn from the line (with a limit, still
        learning, not warned by the forecasters: ``warning``, and where given, let through
        by the cycle gate at that row: ``cycle_open``), and their ETA (seconds since the
        epoch, NaN where none); also kept in ``state`` (``warn``, ``eta``)."""
        n = state["probed"].size
        warn, eta = np.zeros(n, dtype=bool), np.full(n, np.nan)
        order = (int(state["at"][0]) + np.arange(self.rows)) % self.rows
        t = state["t"][order]
        kept = np.isfinite(t)
        if kept.any():
            now = t[kept][-1]
            with np.errstate(invalid="ignore"):
                learning = (np.isfinite(limits) & ~state["probed"] & ~warning
                            & (now - state["start"] >= MIN_SECONDS - 1e-9))
            if cycle_open is not None:
                learning &= cycle_open
            if learning.any():
                ring = state["y"][np.ix_(order[kept], np.flatnonzero(learning))]
                crosses, ahead = trend_crossings(t[kept], ring, limits[learning],
                                                 self.horizon_seconds)
                warn[learning] = crosses[-1]
                eta[learning] = now + ahead[-1]
        state["warn"], state["eta"] = warn, eta
        return warn.copy(), eta.copy()
