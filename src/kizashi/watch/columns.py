"""Add and remove series (columns) of a vectorised detector state.

A univariate detector keeps one state for many series: arrays with one axis of
length ``n_series``. When a new series appears, or an old one ages out, the
daemon changes that axis without touching the other series. Which axis it is
is found by asking the detector for fresh states of 1 and 2 series and
comparing shapes, so this works for any detector that follows the interface.

Examples
--------
>>> import numpy as np
>>> from kizashi.detectors.registry import create
>>> detector = create("threshold", window=4, min_periods=2)
>>> _ = [detector.update(np.array([1.0, 2.0]) + i) for i in range(3)]
>>> layout = SeriesLayout(detector)
>>> state = layout.select(detector.state_dict()["state"], [1])       # keep series 1
>>> state = layout.append(state, 2)                                  # two new series
>>> state["n_series"], state["window"]["count"].tolist()
(3, [3, 0, 0])
>>> part = layout.select(state, [2])
>>> part["window"]["count"][:] = 7
>>> layout.put(state, [2], part)                                      # write series 2 back
>>> state["window"]["count"].tolist()
[3, 0, 7]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.state import State


class StateLayout:
    """Where the series axis lies in each array of a state made by ``fresh(n_series)``.

    ``fresh`` returns a fresh state tree for ``n_series`` series; the layout
    compares the states of 1 and 2 series to find the axis of each array.
    """

    def __init__(self, fresh: Callable[[int], State]):
        self._fresh = fresh
        self.axes = _axes(fresh(1), fresh(2), "state")

    def fresh(self, n_series: int) -> State:
        """A fresh state for ``n_series`` series."""
        return self._fresh(n_series)

    def select(self, state: State, keep: list[int] | np.ndarray) -> State:
        """The state of the series at positions ``keep`` (in that order)."""
        keep = np.asarray(keep, dtype=np.int64)
        out = _map(state, self.axes, lambda a, axis: np.take(a, keep, axis=axis))
        _set_n_series(out, int(keep.size))
        return out

    def put(self, state: State, keep: list[int] | np.ndarray | slice, part: State) -> None:
        """Write ``part`` (a state of the series at positions ``keep``) into ``state``.

        Arrays along the series axis are written in place; everything else
        (shared arrays, counters, ``n_series``) keeps ``state``'s value.
        """
        _put(state, part, self.axes,
             keep if isinstance(keep, slice) else np.asarray(keep, dtype=np.int64))

    def sliceable(self, state: State) -> bool:
        """Whether every array of ``state`` has a series axis and its only other leaf is
        ``n_series``: then the series can be stepped in slices (:meth:`view`)."""
        return _sliceable(state, self.axes)

    def view(self, state: State, start: int, stop: int) -> State:
        """The state of series ``start:stop`` as views into ``state``'s arrays (no copy)."""
        def cut(a: np.ndarray, axis: int) -> np.ndarray:
            index = [slice(None)] * a.ndim
            index[axis] = slice(start, stop)
            return a[tuple(index)]

        out = _map(state, self.axes, cut)
        _set_n_series(out, stop - start)
        return out

    def append(self, state: State, n_new: int) -> State:
        """The state with ``n_new`` fresh series added at the end."""
        if n_new <= 0:
            return state
        fresh = self.fresh(n_new)
        out = _zip(state, fresh, self.axes, lambda a, b, axis: np.concatenate([a, b], axis=axis))
        _set_n_series(out, int(state["n_series"]) + n_new)
        return out


class SeriesLayout(StateLayout):
    """Where the series axis lies in each array of a detector's state."""

    def __init__(self, detector: Detector):
        self.detector = detector.clone()
        super().__init__(lambda n: self.detector.clone().reset(n).state_)


def _set_n_series(state: Any, n: int) -> None:
    """Set every ``n_series`` entry of a state tree (nested states keep their own)."""
    if isinstance(state, dict):
        for key, value in state.items():
            if key == "n_series":
                state[key] = n
            else:
                _set_n_series(value, n)


def _axes(one: Any, two: Any, path: str) -> Any:
    if isinstance(one, dict):
        return {key: _axes(one[key], two[key], f"{path}.{key}") for key in one}
    if isinstance(one, np.ndarray):
        differ = [i for i, (a, b) in enumerate(zip(one.shape, two.shape, strict=True)) if a != b]
        if len(differ) > 1:
            raise ValueError(f"{path}: more than one axis grows with the number of series")
        return differ[0] if differ else None
    if isinstance(one, list):
        raise ValueError(f"{path}: lists in a detector state cannot be split by series")
    return None


def _map(state: Any, axes: Any, fn: Any) -> Any:
    if isinstance(state, dict):
        return {key: _map(value, axes.get(key) if isinstance(axes, dict) else None, fn)
                for key, value in state.items()}
    if isinstance(state, np.ndarray) and axes is not None:
        return fn(state, axes)
    return state.copy() if isinstance(state, np.ndarray) else state


def _sliceable(state: Any, axes: Any) -> bool:
    if isinstance(state, dict):
        return all(key == "n_series" or _sliceable(value, axes.get(key) if isinstance(
            axes, dict) else None) for key, value in state.items())
    return isinstance(state, np.ndarray) and axes is not None


def _put(state: Any, part: Any, axes: Any, keep: np.ndarray | slice) -> None:
    if isinstance(state, dict):
        for key, value in state.items():
            _put(value, part[key], axes.get(key) if isinstance(axes, dict) else None, keep)
    elif isinstance(state, np.ndarray) and axes is not None:
        index = [slice(None)] * state.ndim
        index[axes] = keep
        if isinstance(keep, slice) and part.base is state:   # the view itself: written
            return
        state[tuple(index)] = part


def _zip(state: Any, fresh: Any, axes: Any, fn: Any) -> Any:
    if isinstance(state, dict):
        return {key: _zip(value, fresh.get(key), axes.get(key) if isinstance(axes, dict) else None,
                          fn) for key, value in state.items()}
    if isinstance(state, np.ndarray) and axes is not None:
        return fn(state, fresh, axes)
    return state.copy() if isinstance(state, np.ndarray) else state
