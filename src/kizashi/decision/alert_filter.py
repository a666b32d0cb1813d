"""Minimum duration and hysteresis: from points above a cutoff to alerts that fire and resolve."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kizashi.state import State


@dataclass(frozen=True)
class AlertChange:
    """An alert of one series starting (``"firing"``) or ending (``"resolved"``) at a step."""

    series: int
    status: str
    #: when the run of steps above the cutoff that fired the alert began (firing only)
    start: float | None = None


class AlertFilter:
    """Turn per-step "above cutoff" flags into alerts, one per incident, vectorised over series.

    An alert fires when a series has been above its cutoff for ``min_steps``
    consecutive steps, and resolves after ``resolve_steps`` consecutive steps
    below it. Missing steps (NaN scores) neither extend nor end a run. State is
    plain arrays, so the daemon stores it with the detectors' state.

    Examples
    --------
    >>> alert_filter = AlertFilter(min_steps=2, resolve_steps=2)
    >>> state = alert_filter.init(1)
    >>> flags = [0, 1, 1, 1, 0, 1, 0, 0]
    >>> [[c.status for c in alert_filter.update(state, np.array([f]))] for f in flags]
    [[], [], ['firing'], [], [], [], [], ['resolved']]
    """

    def __init__(self, min_steps: int = 1, resolve_steps: int = 1):
        if min_steps < 1 or resolve_steps < 1:
            raise ValueError("min_steps and resolve_steps must be at least 1")
        self.min_steps = int(min_steps)
        self.resolve_steps = int(resolve_steps)

    def init(self, n_series: int) -> State:
        return {
            "above_run": np.zeros(n_series, dtype=np.int64),
            "below_run": np.zeros(n_series, dtype=np.int64),
            "active": np.zeros(n_series, dtype=bool),
        }

    def update(self, state: State, above: np.ndarray, observed: np.ndarray | None = None,
               ) -> list[AlertChange]:
        """Advance one step; ``above`` is a boolean per series, ``observed`` False skips one."""
        above = np.asarray(above, dtype=bool)
        seen = np.ones_like(above) if observed is None else np.asarray(observed, dtype=bool)
        up = seen & above
        down = seen & ~above
        state["above_run"] = np.where(up, state["above_run"] + 1,
                                      np.where(down, 0, state["above_run"]))
        state["below_run"] = np.where(down, state["below_run"] + 1,
                                      np.where(up, 0, state["below_run"]))
        fire = ~state["active"] & (state["above_run"] >= self.min_steps)
        resolve = state["active"] & (state["below_run"] >= self.resolve_steps)
        state["active"] = (state["active"] | fire) & ~resolve
        changes = [AlertChange(int(j), "firing") for j in np.flatnonzero(fire)]
        changes += [AlertChange(int(j), "resolved") for j in np.flatnonzero(resolve)]
        return changes

    def apply(self, above: np.ndarray) -> np.ndarray:
        """Batch form: for a ``(time, series)`` array of flags, True where an alert is active."""
        above = np.asarray(above, dtype=bool)
        matrix = above.reshape(len(above), -1)
        state = self.init(matrix.shape[1])
        active = np.zeros_like(matrix)
        for i, row in enumerate(matrix):
            self.update(state, row)
            active[i] = state["active"]
        return active.reshape(above.shape)
