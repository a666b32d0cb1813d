"""The one interface every kizashi detector implements.

A detector turns a stream of values into a stream of anomaly scores: **a higher
score is always more anomalous**. Deciding which scores are anomalies is a
separate step (:mod:`kizashi.decision`).

Every detector works two ways that give the same scores:

* batch: ``fit(train)`` (optional for unsupervised detectors) then
  ``score(values)``. ``score`` starts from the detector's current state,
  walks through ``values`` as a stream would and returns the scores *without*
  changing the detector;
* streaming: ``update(row)`` scores one time step and learns from it.

The streaming state is plain data (a dict of numpy arrays and numbers, see
:mod:`kizashi.state`) that ``state_dict()`` / ``load_state_dict()`` save and
restore exactly, so a daemon can stop and resume without losing anything.

Univariate detectors score every column of a 2-D ``(time, series)`` array
independently and in one vectorised step per time step; multivariate
detectors read a ``(time, features)`` array as one entity and return one score
per time step.

Missing values (NaN) are part of the contract: a NaN input gives a NaN score
for that series and leaves that series' state untouched.

Writing a detector means subclassing :class:`Detector` and implementing
``_init_state`` and ``_update`` (and ``_fit`` when it learns from training
data); see :class:`kizashi.detectors.threshold.static.StaticThreshold` for a
small complete example.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np

from kizashi.state import State, copy_state, from_json_safe, to_json_safe

__all__ = ["Detector", "as_epoch_seconds"]

STATE_FORMAT_VERSION = 1


def as_epoch_seconds(timestamps: Any) -> np.ndarray | None:
    """Convert timestamps to float seconds since 1970-01-01 UTC.

    Accepts ``None``, numbers (already seconds), ``datetime64`` arrays, or
    anything :func:`numpy.asarray` turns into one of these.

    >>> as_epoch_seconds(np.array(["1970-01-01T00:01:00"], dtype="datetime64[s]"))
    array([60.])
    """
    if timestamps is None:
        return None
    array = np.asarray(timestamps)
    if np.issubdtype(array.dtype, np.datetime64):
        return array.astype("datetime64[ns]").astype(np.int64) / 1e9
    if array.dtype == object:
        array = np.asarray(array.astype("datetime64[ns]"))
        return array.astype(np.int64) / 1e9
    return array.astype(np.float64, copy=False)


class Detector(ABC):
    """Base class of all detectors: batch ``fit``/``score`` and streaming ``update``.

    Subclasses declare their hyper-parameters as keyword arguments of
    ``__init__`` and store them unchanged under the same names (nothing else
    happens in a constructor). Learned state lives in ``state_`` and is created
    on the first ``fit``, ``update`` or ``score``.

    Class attributes tell runners what a detector can do instead of letting
    them guess:

    ``multivariate``
        True when one score comes from a whole row of features.
    ``requires_training``
        True when ``fit`` must be called before scoring.
    ``requires_timestamps``
        True when scoring needs the timestamps (e.g. seasonal baselines).
    ``protect_baseline``
        Whether the decider keeps an alert's steps from the detector.
    ``cross_sectional``
        True when a series is scored against the other series of the same step (its
        peers): the series cannot be scored in slices or on different shards.
    ``default_threshold``
        The score above which the detector's own convention calls a point
        anomalous (``None`` when it has none); the decision layer uses it when
        nothing else is configured.
    """

    multivariate: ClassVar[bool] = False
    cross_sectional: ClassVar[bool] = False
    supports_streaming: ClassVar[bool] = True
    requires_training: ClassVar[bool] = False
    requires_timestamps: ClassVar[bool] = False
    default_threshold: ClassVar[float | None] = None
    #: True when the decider should keep an alert's steps out of what the detector learns
    #: (a baseline of the level would learn the incident as normal). False for detectors of
    #: *changes* or of the range seen so far, which must learn the new regime to stop alerting.
    protect_baseline: ClassVar[bool] = True
    #: The axis of every per-series array of the state that runs over the series: the
    #: last one by convention. Declared, and checked by the conformance suite, so that a
    #: daemon can add and drop series without probing (SST keeps the series first: its
    #: compiled kernels walk one series' block at a time).
    state_series_axis: ClassVar[int] = -1
    #: Keys of the state that hold the fitted model (weights, standardisation) rather than
    #: the stream's state: saved once per fit, apart from what changes every step.
    model_keys: ClassVar[tuple[str, ...]] = ()
    #: Parameters the conformance suite uses (small models, required bounds).
    conformance_params: ClassVar[dict[str, Any]] = {}

    #: Parameters that choose how scores are computed, not what a state means (an
    #: inference backend): a state loads into a detector that differs only in them.
    runtime_params: ClassVar[tuple[str, ...]] = ()
    #: Parameters given in the data's own unit (a bound, an absolute floor): a series that
    #: ``kizashi detect`` would score at an ordinary magnitude keeps its unit when the user
    #: gives one of them (the number means what it says there).
    unit_params: ClassVar[tuple[str, ...]] = ()

    state_: State | None = None

    # ------------------------------------------------------------------ params
    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments, as given."""
        names = [
            p.name
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        return {name: getattr(self, name) for name in names}

    def clone(self) -> Self:
        """A fresh, unfitted detector with the same parameters."""
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------ to implement
    @abstractmethod
    def _init_state(self, n_series: int) -> State:
        """A fresh state for ``n_series`` series (or features, if multivariate)."""

    @abstractmethod
    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        """Score one time step and learn from it, changing ``state`` in place.

        ``x`` has shape ``(n_series,)`` and may hold NaN. Return the scores, shape
        ``(n_series,)`` (univariate) or ``(1,)`` (multivariate).
        """

    def _fit(self, values: np.ndarray, t: np.ndarray | None) -> None:
        """Learn from training data. The default streams through it."""
        self._score_batch(self.state_, values, t)

    def _score_batch(self, state: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        """Score ``values`` (time, series) step by step, changing ``state``.

        Subclasses may override this with a vectorised version; the
        conformance suite checks it still matches ``_update`` step by step.
        """
        out = np.empty((values.shape[0], 1 if self.multivariate else values.shape[1]))
        for i, row in enumerate(values):
            out[i] = self._update(state, row, None if t is None else float(t[i]))
        return out

    @property
    def n_warmup(self) -> int:
        """Time steps a series needs before its scores mean anything (scores are 0 before)."""
        return 0

    @property
    def baseline_steps(self) -> int | None:
        """Steps of history the detector's baseline spans (its window), if it has one.

        The decider protects a baseline for at most this many steps in a row by
        default: an incident longer than the baseline's own memory is taken as
        the new normal rather than alerting forever.
        """
        return None

    # ---------------------------------------------------------------- public
    def reset(self, n_series: int) -> Self:
        """Forget everything learned and start a fresh state for ``n_series`` series."""
        if n_series < 1:
            raise ValueError(f"{type(self).__name__}: need at least one series, got {n_series}")
        self.state_ = self._init_state(int(n_series))
        return self

    @property
    def n_series_(self) -> int | None:
        """Number of series (or features) the current state was made for."""
        return None if self.state_ is None else int(self.state_["n_series"])

    def fit(self, values: Any, timestamps: Any = None) -> Self:
        """Start afresh and learn from ``values`` (shape ``(time,)`` or ``(time, series)``).

        For a streaming detector this is the same as ``update`` on every row.
        Hyper-parameters are never changed.
        """
        matrix, _ = self._as_matrix(values)
        t = self._timestamps(timestamps, matrix.shape[0])
        self.reset(matrix.shape[1])
        self._fit(matrix, t)
        return self

    def score(self, values: Any, timestamps: Any = None) -> np.ndarray:
        """Scores of ``values`` as a stream continuing from the current state.

        The detector itself is left unchanged. A univariate detector returns an
        array of the same shape as ``values``; a multivariate one returns one
        score per time step.
        """
        matrix, was_1d = self._as_matrix(values)
        t = self._timestamps(timestamps, matrix.shape[0])
        state = self._state_for(matrix.shape[1])
        self._check_training()
        scores = self._score_batch(copy_state(state), matrix, t)
        if self.multivariate:
            return scores[:, 0]
        return scores[:, 0] if was_1d else scores

    def explain(self, values: Any, timestamps: Any = None) -> Any:
        """Typed output of ``values`` scored from the current state (left unchanged).

        A :class:`~kizashi.engine.output.DetectorOutput` whose ``score`` is a
        ``(time, outputs)`` array equal to :meth:`score`'s; detectors that know
        more (a forecast band, per-input attribution) override :meth:`_explain`.
        """
        from kizashi.engine.output import DetectorOutput

        matrix, _ = self._as_matrix(values)
        t = self._timestamps(timestamps, matrix.shape[0])
        state = self._state_for(matrix.shape[1])
        self._check_training()
        fields = self._explain(copy_state(state), matrix, t)
        return DetectorOutput(**fields)

    def _explain(self, state: State, values: np.ndarray, t: np.ndarray | None
                 ) -> dict[str, np.ndarray]:
        """``{"score": (time, outputs), ...optional fields}`` from a copy of the state."""
        return {"score": self._score_batch(state, values, t)}

    def update_many(self, values: Any, timestamps: Any = None) -> np.ndarray:
        """Score a block of time steps and learn from them: ``update`` on each row, faster.

        Returns what :meth:`score` would; afterwards the detector is where
        calling ``update`` on every row would have left it.
        """
        matrix, was_1d = self._as_matrix(values)
        t = self._timestamps(timestamps, matrix.shape[0])
        state = self._state_for(matrix.shape[1])
        self._check_training()
        scores = self._score_batch(state, matrix, t)
        if self.multivariate:
            return scores[:, 0]
        return scores[:, 0] if was_1d else scores

    def update(self, row: Any, timestamp: Any = None) -> Any:
        """Score one time step and learn from it.

        ``row`` is one value (returns a float) or one row of many series
        (returns an array of scores). A multivariate detector takes one row of
        features and returns a float.
        """
        x = np.asarray(row, dtype=np.float64)
        if np.isinf(x).any():  # to a detector, an infinite value is a missing one
            x = np.where(np.isinf(x), np.nan, x)
        scalar = x.ndim == 0
        x = x.reshape(-1)
        if x.ndim != 1 or x.size == 0:
            raise ValueError(f"{type(self).__name__}.update: expected one value or one row")
        t = None
        if timestamp is not None:
            t = float(as_epoch_seconds(np.asarray([timestamp]))[0])
        elif self.requires_timestamps:
            raise ValueError(f"{type(self).__name__} needs a timestamp with every update")
        state = self._state_for(x.size)
        self._check_training()
        scores = self._update(state, x, t)
        if self.multivariate or scalar:
            return float(scores[0])
        return scores

    def state_dict(self) -> dict[str, Any]:
        """The detector's parameters and streaming state, as plain data (a copy)."""
        if self.state_ is None:
            raise ValueError(f"{type(self).__name__} has no state yet: fit or update it first")
        return {
            "format": STATE_FORMAT_VERSION,
            "detector": type(self).__name__,
            "params": to_json_safe(self.get_params()),
            "state": copy_state(self.state_),
        }

    def split_state_dict(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(model, stream)``: :meth:`state_dict` cut in the fitted model and the rest.

        The model part (``model_keys``: e.g. a network's weights) changes only
        when the detector is fitted; the stream part changes every step. A daemon
        saves the model once and the stream every tick;
        :meth:`load_split_state_dict` joins them again exactly.
        """
        whole = self.state_dict()
        state = whole["state"]
        model = {key: state[key] for key in self.model_keys if key in state}
        stream = dict(whole, state={k: v for k, v in state.items() if k not in model})
        return model, stream

    def load_split_state_dict(self, model: dict[str, Any], stream: dict[str, Any]) -> Self:
        """Restore what :meth:`split_state_dict` returned (also after a JSON round trip)."""
        return self.load_state_dict(dict(stream, state={**stream["state"], **model}))

    def load_state_dict(self, state_dict: dict[str, Any]) -> Self:
        """Restore what :meth:`state_dict` returned (also after a JSON round trip).

        The saved parameters must equal this detector's own: a state learned
        with other parameters would not mean the same thing.
        """
        if state_dict.get("format") != STATE_FORMAT_VERSION:
            raise ValueError(f"unknown detector state format {state_dict.get('format')!r}")
        if state_dict.get("detector") != type(self).__name__:
            raise ValueError(
                f"state belongs to {state_dict.get('detector')!r}, not {type(self).__name__!r}"
            )
        saved = from_json_safe(state_dict["params"])
        mine = from_json_safe(to_json_safe(self.get_params()))
        for name in self.runtime_params:
            saved.pop(name, None)
            mine.pop(name, None)
        if saved != mine:
            raise ValueError(f"state was saved with parameters {saved}, this detector has {mine}")
        state = from_json_safe(to_json_safe(state_dict["state"]))
        if not isinstance(state, dict) or "n_series" not in state:
            raise ValueError("detector state lacks 'n_series'")
        self.state_ = state
        return self

    # --------------------------------------------------------------- helpers
    def _check_training(self) -> None:
        if self.requires_training and not self.state_.get("trained", False):
            raise ValueError(f"{type(self).__name__} must be fitted on training data first")

    def _state_for(self, n_series: int) -> State:
        if self.state_ is None:
            if self.requires_training:
                raise ValueError(f"{type(self).__name__} must be fitted on training data first")
            self.reset(n_series)
        elif self.state_["n_series"] != n_series:
            what = "features" if self.multivariate else "series"
            raise ValueError(
                f"{type(self).__name__} was set up for {self.state_['n_series']} {what}, "
                f"got {n_series}; call reset() or fit() to start over"
            )
        return self.state_

    def _as_matrix(self, values: Any) -> tuple[np.ndarray, bool]:
        array = np.asarray(values, dtype=np.float64)
        if np.isinf(array).any():  # to a detector, an infinite value is a missing one
            array = np.where(np.isinf(array), np.nan, array)
        if array.ndim == 1:
            return array.reshape(-1, 1), True
        if array.ndim == 2:
            return array, False
        raise ValueError(
            f"{type(self).__name__}: expected a 1-D or 2-D (time, series) array, "
            f"got shape {array.shape}"
        )

    def _timestamps(self, timestamps: Any, n: int) -> np.ndarray | None:
        t = as_epoch_seconds(timestamps)
        if t is None:
            if self.requires_timestamps:
                raise ValueError(f"{type(self).__name__} needs timestamps to score")
            return None
        if t.shape != (n,):
            raise ValueError(f"got {t.shape[0] if t.ndim else 0} timestamps for {n} time steps")
        return t

