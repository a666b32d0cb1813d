"""Which metrics moved: each metric's recent level and changes against its training rows.

An attribution that does not depend on which detector fired. For every metric
``j`` two signals are followed, both measured against the training rows:

* its **level**: ``|x_j − median_j|`` (``median_j`` of the training rows);
* its **changes**: ``|x_j(t) − x_j(t−1)|`` (a metric that starts to jump about,
  or stops, without leaving its usual range).

Each signal is averaged over trailing windows of several lengths (``windows``:
one step, then longer ones, so a single spike and a metric that misbehaves for
hours on end are both seen), and each average is standardised by its own
distribution over the training rows: ``z = (S − mean_train(S)) / sd_train(S)``.
A metric's deviation is its largest ``z`` over signals and windows. Because
every ``z`` is measured against the metric's own training behaviour, a metric
that is always noisy does not outrank one that is always quiet and now moves
(the quiet one's ``sd_train`` is small), and a metric that is quiet most of
the time but now spikes every few minutes ranks high even on the steps
between its spikes (its long-window average is far above anything seen in
training).

With enough training rows (``2 × (lag + max(baseline, recent windows) + 1)``),
six more signals per metric compare it with **its own recent past** rather
than with the training rows (:mod:`kizashi.detectors.multivariate.recent_change`:
the ratio of its step-to-step changes to those of the day before, and the
offset of its level from the same window a day earlier, over trailing windows
of 8, 64 and 512 steps), each
standardised by its own distribution over the training rows in the same way:
a metric that stays inside its training range but now behaves unlike the day
before is blamed too.

Metrics that move as one (training rows correlated at least ``clone_corr``)
share the blame: per row, each such group's most deviating member keeps its
deviation and the next ones are discounted (:mod:`kizashi.detectors.multivariate.clones`),
so copies of one signal do not push the other causes out of the first places.
With ``relation_alpha`` (off by default), one more signal per metric: how far
it is from what the other metrics predict
(:mod:`kizashi.detectors.multivariate.relations`), for a metric that keeps its
range but stops following the others.
With ``memory`` > 1, a metric's deviation also remembers (a fraction of) its
largest over the last ``memory`` rows (off by default: see docs/diagnosis.md).

>>> rng = np.random.default_rng(0)
>>> train = rng.normal(0, 1, (2000, 3))
>>> test = rng.normal(0, 1, (300, 3))
>>> test[200:, 1] += 6.0                          # metric 1 shifts
>>> attribution = DeviationAttribution().fit(train)
>>> deviation = attribution.deviation(test)
>>> int(np.argmax(deviation[250])), deviation.shape
(1, (300, 3))
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from kizashi.detectors.multivariate.clones import clone_groups, discount_clones
from kizashi.detectors.multivariate.recent_change import recent_signals
from kizashi.detectors.multivariate.relations import fit_relation_signal, relation_z
from kizashi.detectors.multivariate.trailing import trailing_max, trailing_means

__all__ = ["WINDOWS", "DeviationAttribution", "shares_of", "trailing_means"]

#: Trailing windows (steps): a single step, powers of four up to 64, and 512 (8.5 hours of
#: one-minute samples: a metric that spikes every few minutes for hours). Chosen on SMD's
#: tuning machines among ladders reaching 512 (docs/diagnosis.md).
WINDOWS: tuple[int, ...] = (1, 4, 16, 64, 512)
#: The recent-past signals: windows, and the baseline (``baseline`` rows ending ``lag``
#: rows before: the day that ended a day ago). Chosen on SMD's tuning machines.
RECENT_WINDOWS: tuple[int, ...] = (8, 64, 512)
LAG, BASELINE = 1440, 1440
#: Rows a metric's largest deviation is remembered (the incident so far: a metric that
#: moved at its start stays a cause while it lasts), and the fraction of it that counts
#: (below 1: a metric moving now outranks the peaks that noise leaves in the memory).
#: Off by default: it lowered the HitRate on SMD's tuning machines (docs/diagnosis.md).
MEMORY, RECALL = 1, 0.5
#: Metrics correlated at least this much on the training rows are clones, and the
#: factor on the deviation of each next clone in a row's ranking
#: (:mod:`kizashi.detectors.multivariate.clones`). Chosen on SMD's tuning machines.
CLONE_CORR, CLONE_FACTOR = 0.95, 0.3
#: The relation signal (:mod:`kizashi.detectors.multivariate.relations`): the ridge
#: strength of each metric's model from the others (None: off), and the factor on its
#: standardised residual before it joins the other signals' maximum. Off by default:
#: the variant SMD's tuning machines chose dropped machine-3-4 (docs/diagnosis.md).
RELATION_ALPHA: float | None = None
RELATION_WEIGHT = 1.0
#: The factor for a group of exactly two (two real causes that move together are common;
#: three or more copies are one signal). Chosen on SMD's tuning machines (docs/diagnosis.md).
CLONE_PAIR_FACTOR = 0.8


class DeviationAttribution:
    """Per metric, how unusual its recent level and changes are against training rows.

    :meth:`fit` learns, per metric, the training median and, for each signal
    and window, the mean and standard deviation of the trailing average over
    the training rows; :meth:`deviation` gives the ``(time, metrics)`` largest
    standardised average (higher = more to blame; NaN where the metric is
    missing). The trailing windows at the first rows reach back into
    ``history`` (the rows just before; by default the end of the training rows).

    Parameters
    ----------
    windows : sequence of int
        Trailing window lengths in steps (1 is the step itself).
    min_std : float
        Floor under each standardising deviation, as a fraction of the metric's
        own training spread (its standard deviation, else ``|median|``, else 1):
        a metric that never moved in training does not divide by 0.
    lag, baseline : int
        The recent-past signals' baseline: the ``baseline`` rows ending ``lag``
        rows before the row judged (``lag=0``: no recent-past signals).
    recent_windows : sequence of int
        Trailing windows of the recent-past signals.
    eps : float
        Floor added to the recent-past signals' denominators, as a fraction of
        the metric's training spread (of its changes, of its values).
    memory, recall : int, float
        A metric's deviation at a row is the larger of its own and ``recall``
        times its largest over the last ``memory`` rows, the row included
        (``memory=1``: the row's own; no look-ahead either way).
    clone_corr, clone_factor : float
        Metrics whose training rows correlate at least ``clone_corr`` are
        clones; per row, each group's most deviating member keeps its
        deviation and the ``r``-th next one's positive deviation is multiplied
        by ``clone_factor ** r``.
    clone_pair_factor : float or None
        The factor for a group of exactly two clones (``None``: ``clone_factor``);
        ``clone_factor=1`` and ``clone_pair_factor=1``: no discount.
    relation_alpha, relation_weight : float or None, float
        With ``relation_alpha`` (a ridge strength), one more signal per metric:
        its residual against a ridge model of it from the other metrics
        (:mod:`kizashi.detectors.multivariate.relations`), averaged over the
        same windows, standardised by its cross-fitted training distribution
        and multiplied by ``relation_weight`` (None: no relation signal).

    Examples
    --------
    A metric that is 0 nearly always but now spikes every few steps is to blame
    even on the steps between its spikes:

    >>> rng = np.random.default_rng(1)
    >>> train = np.c_[rng.normal(0, 1, 3000), (rng.random(3000) < 0.002) * 1.0]
    >>> test = np.c_[rng.normal(0, 1, 400), np.zeros(400)]
    >>> test[100::5, 1] = 1.0                       # from step 100, a spike every 5 steps
    >>> attribution = DeviationAttribution().fit(train)
    >>> deviation = attribution.deviation(test)
    >>> bool((deviation[150:, 1] > deviation[150:, 0]).all())
    True
    """

    def __init__(self, windows: Sequence[int] = WINDOWS, min_std: float = 1e-3,
                 lag: int = LAG, baseline: int = BASELINE,
                 recent_windows: Sequence[int] = RECENT_WINDOWS, eps: float = 0.05,
                 memory: int = MEMORY, recall: float = RECALL,
                 clone_corr: float = CLONE_CORR, clone_factor: float = CLONE_FACTOR,
                 clone_pair_factor: float | None = CLONE_PAIR_FACTOR,
                 relation_alpha: float | None = RELATION_ALPHA,
                 relation_weight: float = RELATION_WEIGHT):
        windows = tuple(int(w) for w in windows)
        recent_windows = tuple(int(w) for w in recent_windows)
        if not windows or min(windows) < 1:
            raise ValueError(f"deviation: windows must be whole numbers >= 1, got {windows!r}")
        if not (np.isfinite(min_std) and min_std > 0):
            raise ValueError(f"deviation: min_std must be a number > 0, got {min_std!r}")
        if int(lag) < 0 or int(baseline) < 1 or not recent_windows or min(recent_windows) < 1:
            raise ValueError("deviation: lag must be >= 0, baseline and recent_windows >= 1, "
                             f"got {lag!r}, {baseline!r}, {recent_windows!r}")
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"deviation: eps must be a number > 0, got {eps!r}")
        if isinstance(memory, bool) or int(memory) != memory or int(memory) < 1:
            raise ValueError(f"deviation: memory must be a whole number >= 1, got {memory!r}")
        if not (np.isfinite(recall) and 0 < recall <= 1):
            raise ValueError(f"deviation: recall must be a number in (0, 1], got {recall!r}")
        if not (np.isfinite(clone_corr) and 0 < clone_corr <= 1 and np.isfinite(clone_factor)
                and 0 <= clone_factor <= 1):
            raise ValueError("deviation: clone_corr must be in (0, 1] and clone_factor in "
                             f"[0, 1], got {clone_corr!r}, {clone_factor!r}")
        if relation_alpha is not None and not (np.isfinite(relation_alpha) and relation_alpha >= 0
                                               and np.isfinite(relation_weight)
                                               and relation_weight > 0):
            raise ValueError("deviation: relation_alpha must be None or a number >= 0 and "
                             f"relation_weight > 0, got {relation_alpha!r}, {relation_weight!r}")
        self.relation_alpha = None if relation_alpha is None else float(relation_alpha)
        self.relation_weight = float(relation_weight)
        if clone_pair_factor is not None and not (np.isfinite(clone_pair_factor)
                                                  and 0 <= clone_pair_factor <= 1):
            raise ValueError("deviation: clone_pair_factor must be in [0, 1] or None, "
                             f"got {clone_pair_factor!r}")
        self.windows = windows
        self.min_std = float(min_std)
        self.lag, self.baseline = int(lag), int(baseline)
        self.recent_windows = recent_windows
        self.eps = float(eps)
        self.memory, self.recall = int(memory), float(recall)
        self.clone_corr, self.clone_factor = float(clone_corr), float(clone_factor)
        self.clone_pair_factor = (self.clone_factor if clone_pair_factor is None
                                  else float(clone_pair_factor))
        self.state: dict[str, Any] | None = None

    @property
    def recent(self) -> bool:
        """Whether the fitted attribution has the recent-past signals."""
        return bool(self.state is not None and "recent_mean" in self.state)

    @property
    def history_rows(self) -> int:
        """Rows before a block that its windows and memory read (one more for the change)."""
        return self._signal_rows + self.memory - 1

    @property
    def _signal_rows(self) -> int:
        """Rows before a row that its signals' trailing windows read."""
        return max(max(self.windows), self.reach - 1 if self.recent else 0)

    @property
    def reach(self) -> int:
        """Rows the recent-past signals read back, the row itself included."""
        return self.lag + max(self.baseline, max(self.recent_windows)) + 1

    # ------------------------------------------------------------------ fit
    def fit(self, train: np.ndarray) -> DeviationAttribution:
        """Learn the metrics' medians and their signals' training distributions."""
        train = np.asarray(train, dtype=np.float64)
        if train.ndim != 2 or train.shape[0] < 2:
            raise ValueError("deviation: need a (time, metrics) array of at least 2 rows")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN metric
            median = np.nan_to_num(np.nanmedian(train, axis=0), nan=0.0)
            spread = np.nan_to_num(np.nanstd(train, axis=0), nan=0.0)
        unit = np.where(spread > 0, spread, np.where(np.abs(median) > 0, np.abs(median), 1.0))
        state: dict[str, Any] = {"median": median, "floor": self.min_std * unit,
                                 "windows": np.asarray(self.windows, dtype=np.int64),
                                 "memory": np.asarray([self.memory, self.recall]),
                                 "clones": np.asarray([self.clone_corr, self.clone_factor,
                                                       self.clone_pair_factor]),
                                 "groups": clone_groups(train, self.clone_corr)}
        means, stds = [], []
        for signal in self._signals(median, train, train[:1]):
            for window in self.windows:
                averages = trailing_means(signal, window)[min(window, train.shape[0]) - 1:]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    means.append(np.nan_to_num(np.nanmean(averages, axis=0), nan=0.0))
                    stds.append(np.nan_to_num(np.nanstd(averages, axis=0), nan=0.0))
        state["mean"] = np.stack(means)
        state["std"] = np.maximum(np.stack(stds), state["floor"])
        if self.relation_alpha is not None and train.shape[0] >= 4:
            state.update(fit_relation_signal(train, self.relation_alpha, self.windows,
                                             self.min_std))
            state["relation"] = np.asarray([self.relation_alpha, self.relation_weight])
        self.state = state
        if self.lag > 0 and train.shape[0] >= 2 * self.reach:
            self._fit_recent(train, spread, self.reach)
        state["tail"] = train[-(self.history_rows + 1):].copy()
        return self

    def _fit_recent(self, train: np.ndarray, spread: np.ndarray, reach: int) -> None:
        """The recent-past signals' distributions over the training rows after ``reach``."""
        state = self.state
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            change_spread = np.nan_to_num(np.nanstd(np.diff(train, axis=0), axis=0), nan=0.0)
        state["unit_change"] = np.where(change_spread > 0, change_spread, 1.0)
        state["unit_level"] = np.where(spread > 0, spread, 1.0)
        state["recent"] = np.array([self.lag, self.baseline, self.eps], dtype=np.float64)
        state["recent_windows"] = np.asarray(self.recent_windows, dtype=np.int64)
        means, stds = [], []
        for signal in self._recent(train, reach):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nan_to_num(np.nanmean(signal, axis=0), nan=0.0)
                std = np.nan_to_num(np.nanstd(signal, axis=0), nan=0.0)
            means.append(mean)
            # scale-free signals: a metric steady in training is floored by the others' spread
            stds.append(np.maximum(std, max(0.1 * float(np.mean(std)), 1e-3)))
        state["recent_mean"], state["recent_std"] = np.stack(means), np.stack(stds)

    def _recent(self, rows: np.ndarray, start: int) -> list[np.ndarray]:
        """The recent-past signals of ``rows[start:]`` (the rows before: their baselines)."""
        state = self.state
        return recent_signals(rows, start, self.lag, self.baseline, self.recent_windows,
                              state["unit_change"], state["unit_level"], self.eps)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> DeviationAttribution:
        """The fitted attribution stored in ``state`` (e.g. after a JSON round trip)."""
        windows = tuple(int(w) for w in np.asarray(state["windows"]).reshape(-1))
        recent = {}
        if "recent" in state:  # fitted with the recent-past signals
            lag, baseline, eps = np.asarray(state["recent"], dtype=np.float64).reshape(-1)
            recent = {"lag": int(lag), "baseline": int(baseline), "eps": float(eps),
                      "recent_windows": tuple(int(w) for w in
                                              np.asarray(state["recent_windows"]).reshape(-1))}
        # a state saved before the memory existed: each row's own deviation, as then
        memory, recall = np.asarray(state.get("memory", [1, 1.0]), dtype=np.float64).reshape(-1)
        # and before the clones: no discount; before the pair factor: pairs as the others
        clones = np.asarray(state.get("clones", [1.0, 1.0]), dtype=np.float64).reshape(-1)
        clone_corr, clone_factor = clones[:2]
        pair_factor = float(clones[2]) if clones.size > 2 else None
        if "relation" in state:  # fitted with the relation signal
            alpha, weight = np.asarray(state["relation"], dtype=np.float64).reshape(-1)
            recent.update(relation_alpha=float(alpha), relation_weight=float(weight))
        out = cls(windows=windows, memory=int(memory), recall=float(recall),
                  clone_corr=float(clone_corr), clone_factor=float(clone_factor),
                  clone_pair_factor=pair_factor, **recent)
        out.state = {key: np.asarray(value, dtype=np.int64 if key in
                                     ("windows", "recent_windows", "groups",
                                      "relation_windows") else np.float64)
                     for key, value in state.items()}
        if out.state["tail"].ndim == 1:  # a round trip of a one-row tail
            out.state["tail"] = out.state["tail"].reshape(1, -1)
        return out

    # ---------------------------------------------------------------- score
    @staticmethod
    def _signals(median: np.ndarray, values: np.ndarray, before: np.ndarray
                 ) -> list[np.ndarray]:
        """The level and change signals of ``values`` (``before``: the row preceding them)."""
        level = np.abs(values - median)
        previous = np.concatenate([before[-1:], values[:-1]]) if before.size else \
            np.concatenate([values[:1], values[:-1]])
        return [level, np.abs(values - previous)]

    def deviation(self, values: np.ndarray, history: np.ndarray | None = None) -> np.ndarray:
        """``(time, metrics)``: each metric's largest standardised trailing average.

        With ``memory`` > 1, the larger of that and ``recall`` times the largest
        over the row and the ``memory − 1`` rows before it (rows where the metric
        is missing add nothing). ``history``
        holds the rows just before ``values`` (any number; by default the end of
        the training rows), read by the trailing windows and the memory.
        """
        if self.state is None:
            raise ValueError("deviation: fit it first")
        state = self.state
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != state["median"].shape[0]:
            raise ValueError(f"deviation: expected (time, {state['median'].shape[0]}) values, "
                             f"got {values.shape}")
        before = state["tail"] if history is None else np.asarray(history, dtype=np.float64)
        before = before.reshape(-1, values.shape[1])[-(self.history_rows + 1):]
        rows = np.concatenate([before, values])
        n_before = before.shape[0]
        first = max(n_before - (self.memory - 1), 0)  # the rows the memory reads
        best = np.full((rows.shape[0] - first, values.shape[1]), -np.inf)
        k = 0
        for signal in self._signals(state["median"], rows, rows[:0]):
            for window in self.windows:
                average = trailing_means(signal, window)[first:]
                with np.errstate(invalid="ignore"):
                    z = (average - state["mean"][k]) / state["std"][k]
                best = np.fmax(best, z)
                k += 1
        if self.recent:
            for k, signal in enumerate(self._recent(rows, first)):
                with np.errstate(invalid="ignore"):
                    z = (signal - state["recent_mean"][k]) / state["recent_std"][k]
                best = np.fmax(best, z)
        if "relation" in state:
            best = np.fmax(best, self.relation_weight * relation_z(state, rows, first))
        best = np.where(np.isnan(rows[first:]) | ~np.isfinite(best), np.nan, best)
        if self.memory > 1:
            best = np.fmax(best, self.recall * trailing_max(best, self.memory))
        best = np.where(np.isnan(values), np.nan, best[n_before - first:])
        if "groups" in state and min(self.clone_factor, self.clone_pair_factor) < 1:
            best = discount_clones(best, state["groups"], self.clone_factor,
                                   self.clone_pair_factor)
        return best

    def shares(self, values: np.ndarray, history: np.ndarray | None = None) -> np.ndarray:
        """Each metric's share of the row's positive deviations (rows sum to 1).

        A row where no metric deviates upwards shares equally among its metrics;
        a missing metric has NaN.

        >>> attribution = DeviationAttribution(windows=(1,)).fit(np.array([[0.0, 0.0], [2.0, 2.0]]))
        >>> attribution.shares(np.array([[1.0, 5.0], [1.0, np.nan]])).tolist()
        [[0.0, 1.0], [1.0, nan]]
        """
        return shares_of(self.deviation(values, history))


def shares_of(deviation: np.ndarray) -> np.ndarray:
    """Each metric's share of the row's positive ``deviation`` (rows sum to 1; NaN stays).

    >>> shares_of(np.array([[3.0, 1.0, -2.0], [-1.0, -1.0, np.nan]])).tolist()
    [[0.75, 0.25, 0.0], [0.5, 0.5, nan]]
    """
    positive = np.where(np.isnan(deviation), np.nan, np.maximum(deviation, 0.0))
    total = np.nansum(positive, axis=1, keepdims=True)
    count = np.maximum((~np.isnan(positive)).sum(axis=1, keepdims=True), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, positive / total, 1.0 / count)
    return np.where(np.isnan(positive), np.nan, share)
