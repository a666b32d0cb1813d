"""A node against its peers at the same time step: robust z-score across a peer group.

Registered as ``peers``. A node whose own history looks normal can still be the
odd one out: one of 24 nodes of a job idles while the others compute, one
node's filesystem latency doubles while its rack's stays flat. At every step the
detector takes each peer group's median and its median absolute deviation (MAD,
scaled by 1.4826 to estimate σ for Gaussian data) and scores each series by how
many such σ it lies from its group's median — the MAD rule that Grafana's
outlier detection also uses over groups of three or more series (with the
small-sample correction of the MAD, so that 3 peers are not over-confident).

A cluster-wide change (every node slower at once) moves the median with it and
raises no peer alarm: that is a job for a detector of each series' own history,
and for incident grouping (:mod:`kizashi.engine.grouping`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.state import State
from kizashi.streaming.robust import FLOAT_MAX, ratio, spread_floor

__all__ = ["PeerDeviation"]

#: MAD → σ for Gaussian data.
MAD_TO_SIGMA = 1.4826
#: Small-sample corrections of the MAD (Croux & Rousseeuw 1992, "Time-efficient
#: algorithms for two highly robust estimators of scale", b_n; n/(n − 0.8) beyond 9): a
#: median of absolute deviations among 3 peers is about two thirds of σ on average.
SMALL_SAMPLE = {2: 1.196, 3: 1.495, 4: 1.363, 5: 1.206, 6: 1.200, 7: 1.140, 8: 1.129,
                9: 1.107}


def mad_factor(n: int) -> float:
    """The factor that turns the MAD of ``n`` Gaussian values into an estimate of σ."""
    return MAD_TO_SIGMA * SMALL_SAMPLE.get(n, n / (n - 0.8))


def members_of(keys: Sequence[Any]) -> list[np.ndarray]:
    """The positions of each peer group, in the order the groups first appear.

    >>> [m.tolist() for m in members_of(["a", "b", "a", "c"])]
    [[0, 2], [1], [3]]
    """
    out: dict[Any, list[int]] = {}
    for j, key in enumerate(keys):
        out.setdefault(key, []).append(j)
    return [np.asarray(v) for v in out.values()]


class PeerDeviation(Detector):
    """Robust z-score of each series against the median of its peer group, per time step.

    Parameters
    ----------
    groups : list of str or int, or None
        One peer-group key per series (e.g. ``"cpu_util/rack-a"``); ``None``: all
        series are peers. ``kizashi detect --detector peers`` fills it from the
        file (same metric, and the same ``--peers-by`` label).
    min_peers : int
        Groups with fewer observed series than this score 0 (no verdict): a
        median of two says nothing about which one is odd.
    halflife : float
        Half-life, in steps, of the running typical spread of each group. The
        score divides by the larger of this step's spread and the running one,
        so a step where the peers happen to agree closely does not make a small
        difference look huge.
    min_scale : float or None
        Floor under the spread, in the data's units; ``None``: 0.1 % of the
        group's median (:func:`kizashi.streaming.robust.spread_floor`).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> values = 50 + rng.normal(0, 1, (100, 6))
    >>> values[60:, 4] += 8.0            # node 4 drifts away from its 5 peers
    >>> scores = PeerDeviation().score(values)
    >>> int(np.argmax(scores[70])), bool(scores[70, 4] > 4), bool(scores[30].max() < 4)
    (4, True, True)
    """

    unit_params = ("min_scale",)

    default_threshold = 4.0
    cross_sectional = True
    conformance_params = {"halflife": 50.0}

    def __init__(self, groups: Sequence[str | int] | None = None, min_peers: int = 3,
                 halflife: float = 288.0, min_scale: float | None = None):
        self.groups = groups
        self.min_peers = min_peers
        self.halflife = halflife
        self.min_scale = min_scale
        self._assigned: list[np.ndarray] | None = None

    def assign_groups(self, keys: Sequence[str | int] | None) -> None:
        """Set the peer group of each series for the coming updates, outside the parameters.

        For a runner whose series come and go (``kizashi watch``): the groups follow
        the series' labels, so they are neither a parameter nor stored with the
        state. ``None`` goes back to the ``groups`` parameter. Each series' running
        spread stays with it.

        >>> values = np.array([[1.0, 1.1, 0.9, 50.0, 51.0, 49.0, 80.0]])
        >>> detector = PeerDeviation(halflife=10.0)
        >>> bool(detector.score(values).max() > 4)        # one group of 7: nothing stands out
        False
        >>> detector.assign_groups(["a", "a", "a", "b", "b", "b", "b"])
        >>> np.flatnonzero(detector.score(values)[0] > 4).tolist()   # 80 among 49, 50, 51
        [6]
        """
        self._assigned = None if keys is None else members_of(keys)

    def _members(self, n_series: int) -> list[np.ndarray]:
        if self._assigned is not None:
            if sum(m.size for m in self._assigned) != n_series:
                raise ValueError(f"peers: groups were assigned to "
                                 f"{sum(m.size for m in self._assigned)} series, the data "
                                 f"has {n_series}")
            return self._assigned
        if self.groups is None:
            return [np.arange(n_series)]
        keys = list(self.groups)
        if len(keys) != n_series:
            raise ValueError(f"peers: {len(keys)} group keys for {n_series} series; give one "
                             "per series (or none: all series are peers)")
        return members_of(keys)

    def _init_state(self, n_series: int) -> State:
        if int(self.min_peers) < 3:
            raise ValueError(f"peers: min_peers must be at least 3, got {self.min_peers}")
        if not float(self.halflife) > 0:
            raise ValueError(f"peers: halflife must be positive, got {self.halflife}")
        self._members(n_series)
        # the running spread of each series' group (the same number for every member)
        return {"n_series": n_series, "spread": np.full(n_series, np.nan)}

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        decay = 0.5 ** (1.0 / float(self.halflife))
        score = np.where(np.isnan(x), np.nan, 0.0)
        for members in self._members(x.size):
            values = x[members]
            seen = ~np.isnan(values)
            if seen.sum() < int(self.min_peers):
                continue
            median = float(np.median(values[seen]))
            spread = mad_factor(int(seen.sum())) * float(np.median(np.abs(values[seen] - median)))
            spread = min(spread, FLOAT_MAX)  # deviations near the float limit: no inf kept
            running = state["spread"][members[0]]
            scale = spread if np.isnan(running) else max(spread, float(running))
            scale = max(scale, float(spread_floor(np.asarray(median), self.min_scale)))
            with np.errstate(invalid="ignore"):
                score[members] = ratio(np.abs(values - median), np.asarray(scale))
            state["spread"][members] = spread if np.isnan(running) else \
                min(decay * running + (1.0 - decay) * spread, FLOAT_MAX)
        return score
