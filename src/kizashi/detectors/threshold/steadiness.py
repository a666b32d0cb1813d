"""A value held above its level with far less jitter than usual: a pinned process.

A runaway process pins a node's CPU near 100 % for hours. Against the node's own
history that level is often only two or three spreads off — a node's CPU moves
with its jobs, and a busy office hour reaches 80–90 % anyway — so a z-score and
its likelihood see an ordinary busy afternoon. What they miss is the texture:
a pinned value barely moves from one step to the next, while the series usually
jitters. :class:`Steadiness` measures it per series and returns a **boost**, a
factor ≥ 1 for the z-scores of the ensemble's threshold member:

* the **jitter** of the last ``window`` steps is the median of the absolute
  step changes ``|x_t − x_{t−1}|`` (a median, so the jump into a new level does
  not count);
* the **usual jitter** is a discounted mean of that median (half-life
  ``halflife`` steps, a week of 5-minute samples), and the **level** a
  discounted mean of the values with the same half-life;
* while a value is **above the level** and the jitter is under ``ratio`` × the
  usual one, the boost is ``ratio × usual / jitter`` (at most ``max_boost``);
  else 1. A value steadily low (an idle node at night, an empty queue floored at
  0) is not boosted: quiet is ordinary in a centre, saturation is not.

The usual jitter and the level need ``ready`` steps (a day) before any boost;
a series whose usual jitter is 0 (a constant) is never boosted. Missing values
score 1 and teach nothing; the step change after a gap is taken from the last
value seen.

Examples
--------
A noisy series (jitter σ 4) around 50 pins at 98 for the last 60 steps: once the
window holds only pinned steps the boost is large; before, it is 1.

>>> rng = np.random.default_rng(0)
>>> values = np.r_[rng.normal(50, 4, 2000), rng.uniform(97, 99, 60)][:, None]
>>> member = Steadiness(window=24)
>>> boost = member.assess(member.initial_state(1), values)[:, 0]
>>> float(boost[:2000].max()) < 1.5, float(np.median(boost[-24:])) > 2
(True, True)
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import njit
from kizashi.state import State

__all__ = ["Steadiness"]


class Steadiness:
    """A boost ≥ 1 for a value held above its level with a fraction of its usual jitter.

    Parameters
    ----------
    window : int
        Steps whose absolute step changes give the current jitter (their median).
    ratio : float
        A value is steady when its jitter is under ``ratio`` × the usual one; its
        boost is then ``ratio × usual / jitter``.
    halflife : float
        Half-life, in steps, of the usual jitter and of the level.
    ready : int
        Steps of jitter learned before any boost.
    max_boost : float
        The largest boost (a perfectly flat value's).

    Examples
    --------
    A flat line above a jittery past gets the largest boost; below it, none.

    >>> past = np.tile([10.0, 12.0], 500)
    >>> member = Steadiness(window=8, ready=100)
    >>> state = member.initial_state(2)
    >>> _ = member.assess(state, np.c_[past, past])
    >>> member.assess(state, np.full((8, 2), [30.0, 0.0]))[-1].tolist()
    [10.0, 1.0]
    """

    def __init__(self, window: int = 36, ratio: float = 0.5, halflife: float = 2016.0,
                 ready: int = 288, max_boost: float = 10.0):
        self.window = window
        self.ratio = ratio
        self.halflife = halflife
        self.ready = ready
        self.max_boost = max_boost

    def _checked(self) -> tuple[int, float, float, int, float]:
        window, ratio, halflife = self.window, self.ratio, self.halflife
        if isinstance(window, bool) or int(window) != window or window < 2:
            raise ValueError(f"steadiness: window must be a whole number >= 2, got {window!r}")
        if not (isinstance(ratio, (int, float)) and 0 < float(ratio) <= 1):
            raise ValueError(f"steadiness: ratio must be in (0, 1], got {ratio!r}")
        if not (isinstance(halflife, (int, float)) and math.isfinite(halflife)
                and halflife > 0):
            raise ValueError(f"steadiness: halflife must be a number of steps > 0, got "
                             f"{halflife!r}")
        if isinstance(self.ready, bool) or int(self.ready) != self.ready or self.ready < 0:
            raise ValueError(f"steadiness: ready must be a whole number >= 0, got "
                             f"{self.ready!r}")
        if not (isinstance(self.max_boost, (int, float)) and 1 <= self.max_boost < math.inf):
            raise ValueError(f"steadiness: max_boost must be a number >= 1, got "
                             f"{self.max_boost!r}")
        return int(window), float(ratio), float(halflife), int(self.ready), \
            float(self.max_boost)

    def initial_state(self, n_series: int) -> State:
        """A state for ``n_series`` series that have seen nothing."""
        window = self._checked()[0]
        return {"changes": np.full((window, n_series), np.nan), "at": np.zeros(n_series),
                "previous": np.full(n_series, np.nan), "usual": np.zeros(n_series),
                "level": np.zeros(n_series), "learned": np.zeros(n_series)}

    def assess(self, state: State, values: np.ndarray) -> np.ndarray:
        """``(time, series)`` boosts of ``values`` (1: none), learning them."""
        window, ratio, halflife, ready, max_boost = self._checked()
        values = np.ascontiguousarray(values, dtype=np.float64)
        if values.ndim != 2:
            raise ValueError("steadiness: values must be (time, series)")
        changes = np.ascontiguousarray(state["changes"], dtype=np.float64)
        if changes.shape != (window, values.shape[1]):
            raise ValueError(f"steadiness: a state of {changes.shape[0]} steps for "
                             f"{changes.shape[1]} series does not fit window {window} and "
                             f"{values.shape[1]} series")
        arrays = {key: np.ascontiguousarray(state[key], dtype=np.float64)
                  for key in ("at", "previous", "usual", "level", "learned")}
        out = np.empty(values.shape)
        _steadiness_block(values, out, changes, arrays["at"], arrays["previous"],
                          arrays["usual"], arrays["level"], arrays["learned"],
                          np.array([ratio, 0.5 ** (1.0 / halflife), float(ready), max_boost]))
        state.update(arrays, changes=changes)
        return out


@njit(cache=True, error_model="numpy")
def _median_of_full(column: np.ndarray) -> float:
    """The median of ``column``; NaN if any entry is NaN (a window not yet full)."""
    for value in column:
        if math.isnan(value):
            return np.nan
    return float(np.median(column))


@njit(cache=True, error_model="numpy")
def _steadiness_block(values: np.ndarray, out: np.ndarray, changes: np.ndarray,
                      at: np.ndarray, previous: np.ndarray, usual: np.ndarray,
                      level: np.ndarray, learned: np.ndarray, params: np.ndarray) -> None:
    """Boost ``values`` into ``out`` and learn them, in place.

    ``changes`` is the ring of each series' last ``window`` absolute step changes
    (its next slot ``at``: a missing value takes no slot); ``previous`` the last
    value seen, ``usual`` and ``level`` the discounted means of the jitter and the
    values, ``learned`` how many jitters were learned. ``params``: ratio, the
    discount per step, the steps learned before a boost, the largest boost.
    """
    ratio, keep, ready, max_boost = params[0], params[1], params[2], params[3]
    window = changes.shape[0]
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            x = values[i, j]
            if math.isnan(x):
                out[i, j] = 1.0
                continue
            seen, slot = previous[j], int(at[j])
            changes[slot, j] = np.nan if math.isnan(seen) else abs(x - seen)
            at[j] = (slot + 1) % window
            previous[j] = x
            jitter = _median_of_full(changes[:, j].copy())
            boost = 1.0
            if (not math.isnan(jitter) and learned[j] >= ready and usual[j] > 0
                    and x > level[j] and jitter < ratio * usual[j]):
                boost = max_boost if jitter <= 0 else min(ratio * usual[j] / jitter, max_boost)
            out[i, j] = boost
            if not math.isnan(jitter):
                if learned[j] == 0:
                    usual[j], level[j] = jitter, x
                else:
                    usual[j] = keep * usual[j] + (1.0 - keep) * jitter
                    level[j] = keep * level[j] + (1.0 - keep) * x
                learned[j] += 1.0
