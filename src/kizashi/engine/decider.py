"""The decider: from raw scores to alerts, in one place every command shares.

Its stages, per step and vectorised over series:

1. **warm-up** — a series' first ``warmup`` scores (the detector's own
   ``n_warmup``) mean nothing: the level is NaN ("learning"), not 0;
2. **calibration** — a calibrator (:mod:`kizashi.engine.calibrators`) puts
   the raw score on one scale, learning from past scores only;
3. **cutoff** — one threshold per series on that scale;
4. **duration and hysteresis** — :class:`~kizashi.decision.AlertFilter`: an
   alert fires after ``min_steps`` steps above the cutoff and resolves after
   ``resolve_steps`` steps below it;
5. **baseline protection** — while a series is above its cutoff or alerting,
   the step is *protected*: the calibrator does not learn it, and the engine
   keeps it from the detector too (:mod:`kizashi.engine.stream`), so a sustained
   incident is not learned as the new normal. After ``relearn_after`` protected
   steps in a row (:meth:`Decider.for_detector` sets the detector's window) the
   series learns again: a change that outlasts the baseline's memory becomes
   the new normal instead of alerting forever.

``calibration="auto"`` keeps raw scores for a detector with a scale of its own
(``default_threshold``, e.g. ``k`` of ``mean ± k·σ``) or when the cutoff is a
number or a quantile, and uses Numenta's anomaly likelihood otherwise, so
every detector has a working default decision.

The state is plain data behind ``state_dict()``/``load_state_dict()``, and
:meth:`Decider.update_many` equals :meth:`Decider.update` on every row.

Examples
--------
>>> decider = Decider(cutoff=3.0, min_steps=2, resolve_steps=2)
>>> scores = np.array([[1.0], [5.0], [6.0], [5.0], [1.0], [1.0]])
>>> block = decider.reset(1).update_many(scores, timestamps=np.arange(6.0))
>>> block.active[:, 0].astype(int).tolist(), block.protect[:, 0].astype(int).tolist()
([0, 0, 1, 1, 1, 0], [0, 1, 1, 1, 1, 0])
>>> [(row, change.status, change.start) for row, change in block.changes]
[(2, 'firing', 1.0), (5, 'resolved', None)]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np

from kizashi.decision.alert_filter import AlertChange, AlertFilter
from kizashi.decision.cutoffs import Cutoff, parse_cutoff
from kizashi.detectors.changepoint.jit import HAVE_NUMBA
from kizashi.engine.calibrators import IdentityCalibrator, create_calibrator
from kizashi.engine.decide_kernel import (
    FIRING,
    STOP_AFTER_PROTECTED,
    STOP_AFTER_UNPROTECTED,
    block_outputs,
    change_order,
    decide_block,
)
from kizashi.state import State, copy_state, from_json_safe, to_json_safe

__all__ = ["BlockDecision", "Decider", "StepDecision"]

#: The most steps a count (min_steps, resolve_steps, warmup, relearn_after) may be: more than
#: any series holds (31,700 years of 1-second steps), and well inside the kernels' int64.
MAX_STEPS = 10 ** 12

DECIDER_FORMAT = 1
#: Rows tried at once by the vectorised path of :meth:`Decider.update_many`.
QUIET_SPAN = 512


@dataclass(frozen=True, eq=False)
class StepDecision:
    """What the decider made of one step, per series."""

    level: np.ndarray  #: calibrated score (NaN: missing or still learning)
    threshold: np.ndarray
    above: np.ndarray  #: level above the cutoff
    active: np.ndarray  #: an alert is open
    protect: np.ndarray  #: the step must not be learned
    learning: np.ndarray  #: observed, but the series is still warming up
    changes: list[AlertChange] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class BlockDecision:
    """:class:`StepDecision` fields stacked over a block of steps, shape ``(time, series)``."""

    level: np.ndarray
    threshold: np.ndarray
    above: np.ndarray
    active: np.ndarray
    protect: np.ndarray
    learning: np.ndarray
    changes: Sequence[tuple[int, AlertChange]]

    @classmethod
    def stack(cls, steps: list[StepDecision], n_series: int) -> BlockDecision:
        """Stack the decisions of consecutive steps."""
        def get(name: str, dtype: Any) -> np.ndarray:
            if not steps:
                return np.zeros((0, n_series), dtype=dtype)
            return np.vstack([getattr(s, name) for s in steps]).astype(dtype, copy=False)

        return cls(get("level", float), get("threshold", float), get("above", bool),
                   get("active", bool), get("protect", bool), get("learning", bool),
                   [(i, c) for i, s in enumerate(steps) for c in s.changes])

    @classmethod
    def join(cls, parts: list[BlockDecision | StepDecision], n_series: int) -> BlockDecision:
        """Consecutive decisions (single steps or blocks) as one block."""
        blocks = [p if isinstance(p, BlockDecision) else cls.stack([p], n_series)
                  for p in parts]
        if not blocks:
            return cls.stack([], n_series)
        offsets = np.cumsum([0] + [b.level.shape[0] for b in blocks]).tolist()
        def changes() -> list[tuple[int, AlertChange]]:
            return [(offsets[k] + row, change) for k, b in enumerate(blocks)
                    for row, change in b.changes]

        return cls(*(np.vstack([getattr(b, name) for b in blocks]) for name in
                     ("level", "threshold", "above", "active", "protect", "learning")),
                   LazyChanges(changes))


class Decider:
    """Calibration → cutoff → duration/hysteresis → alerts, with baseline protection.

    Parameters
    ----------
    calibration : str
        ``auto``, ``none``, ``likelihood`` or ``zscore`` (see the module docs).
    cutoff : str, float or Cutoff
        ``default`` (the calibrator's, or the detector's own for raw scores),
        a number on the calibrated scale, or a quantile such as ``q0.999``
        (thresholds then come from :meth:`set_thresholds`).
    min_steps, resolve_steps : int
        Steps above the cutoff before an alert fires / below it before it resolves.
    warmup : int
        Scores per series that mean nothing yet (the detector's ``n_warmup``).
    protect : bool
        Keep protected steps from the calibrator and (through the engine) the detector
        (:meth:`for_detector` fills in the detector's ``protect_baseline``).
    relearn_after : int or None
        Protected steps in a row after which a series learns again (None: never;
        :meth:`for_detector` fills in the detector's ``baseline_steps``, its window).
    detector_threshold : float or None
        The detector's ``default_threshold``.
    calibration_params : dict or None
        Parameters of the calibrator.
    """

    def __init__(self, calibration: str = "auto", cutoff: str | float | Cutoff = "default",
                 min_steps: int = 1, resolve_steps: int = 1, warmup: int = 0,
                 protect: bool = True, relearn_after: int | None = None,
                 detector_threshold: float | None = None,
                 calibration_params: dict[str, Any] | None = None):
        self.calibration = calibration
        self.cutoff = cutoff
        self.min_steps = min_steps
        self.resolve_steps = resolve_steps
        self.warmup = warmup
        self.protect = protect
        self.relearn_after = relearn_after
        self.detector_threshold = detector_threshold
        self.calibration_params = calibration_params

    state_: State | None = None
    _calibrator: Any = None

    @classmethod
    def for_detector(cls, detector: Any, **params: Any) -> Decider:
        """A decider for ``detector``: its warm-up and its own threshold filled in.

        >>> from kizashi.detectors.registry import create
        >>> decider = Decider.for_detector(create("threshold", k=4.0), cutoff="default")
        >>> decider.resolved_calibration, decider.warmup, decider.detector_threshold
        ('none', 30, 4.0)
        >>> Decider.for_detector(create("sst")).resolved_calibration
        'likelihood'
        """
        params.setdefault("warmup", int(detector.n_warmup))
        if params.get("protect") is None:
            params["protect"] = bool(getattr(detector, "protect_baseline", True))
        if "relearn_after" not in params:
            params["relearn_after"] = getattr(detector, "baseline_steps", None)
        params.setdefault("detector_threshold", detector.default_threshold)
        return cls(**params)

    # ------------------------------------------------------------- parameters
    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments (the cutoff as text)."""
        return {"calibration": self.calibration, "cutoff": str(self.rule),
                "min_steps": int(self.min_steps), "resolve_steps": int(self.resolve_steps),
                "warmup": int(self.warmup), "protect": bool(self.protect),
                "relearn_after": None if self.relearn_after is None else int(self.relearn_after),
                "detector_threshold": None if self.detector_threshold is None
                else float(self.detector_threshold),
                "calibration_params": dict(self.calibration_params or {})}

    def __repr__(self) -> str:
        return "Decider(" + ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()) + ")"

    @property
    def rule(self) -> Cutoff:
        """The cutoff rule."""
        return self.cutoff if isinstance(self.cutoff, Cutoff) else parse_cutoff(self.cutoff)

    @property
    def resolved_calibration(self) -> str:
        """The calibrator's name once ``auto`` is resolved."""
        if self.calibration != "auto":
            return self.calibration
        if self.rule.kind != "default" or self.detector_threshold is not None:
            return "none"
        return "likelihood"

    @property
    def calibrator(self) -> Any:
        """The calibrator object (its state is part of the decider's)."""
        if self._calibrator is None:
            params = dict(self.calibration_params or {})
            if self.resolved_calibration == "likelihood":
                # Alerts must hold for a whole incident: no suppression of repeated red
                # values (NAB's point-wise scoring wants it; the NAB runner asks for it).
                params.setdefault("suppress_red_zone", False)
            self._calibrator = create_calibrator(self.resolved_calibration, **params)
        return self._calibrator

    def default_thresholds(self, n_series: int) -> np.ndarray:
        """Thresholds of a ``default`` or fixed cutoff (NaN for a quantile: none yet)."""
        rule = self.rule
        if rule.kind == "fixed":
            return np.full(n_series, float(rule.value))
        if rule.kind == "quantile":
            return np.full(n_series, np.nan)
        default = (self.calibrator.default_cutoff if self.resolved_calibration != "none"
                   else self.detector_threshold)
        if default is None:
            raise ValueError("this detector has no scale of its own: use calibration 'auto' or "
                             "'likelihood', or give a number or a quantile as the cutoff")
        return np.full(n_series, float(default))

    def _check(self) -> None:
        if int(self.min_steps) < 1 or int(self.resolve_steps) < 1:
            raise ValueError("min_steps and resolve_steps must be at least 1")
        if int(self.warmup) < 0:
            raise ValueError(f"warmup must be >= 0, got {self.warmup}")
        if self.relearn_after is not None and int(self.relearn_after) < 1:
            raise ValueError(f"relearn_after must be at least 1 step, got {self.relearn_after}")
        for key in ("min_steps", "resolve_steps", "warmup", "relearn_after"):
            value = getattr(self, key)
            if value is not None and int(value) > MAX_STEPS:  # (the kernels count in int64)
                raise ValueError(f"{key} must be at most {MAX_STEPS:,} steps, got {value}")

    # ------------------------------------------------------------------ state
    def reset(self, n_series: int) -> Self:
        """Start afresh for ``n_series`` series."""
        self._check()
        n = int(n_series)
        self.calibrator.reset(n)
        self.state_ = {
            "n_series": n,
            "seen": np.zeros(n, dtype=np.int64),
            "calibrated": np.zeros(n, dtype=np.int64),
            "threshold": self.default_thresholds(n),
            "filter": self._filter().init(n),
            "protected_for": np.zeros(n, dtype=np.int64),
            "run_start": np.full(n, np.nan),
        }
        return self

    def _filter(self) -> AlertFilter:
        return AlertFilter(int(self.min_steps), int(self.resolve_steps))

    def set_thresholds(self, thresholds: Any) -> None:
        """Replace the per-series thresholds (quantile cutoffs are resolved by the caller)."""
        values = np.asarray(thresholds, dtype=np.float64).reshape(-1)
        state = self._require()
        if values.size != state["n_series"]:
            raise ValueError(f"got {values.size} thresholds for {state['n_series']} series")
        state["threshold"] = values.copy()

    def state_dict(self) -> dict[str, Any]:
        """Parameters and state as plain data (a copy)."""
        state = copy_state(self._require())
        state["calibrator"] = copy_state(self.calibrator.state_dict()["state"])
        return {"format": DECIDER_FORMAT, "params": to_json_safe(self.get_params()),
                "state": state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> Self:
        """Restore what :meth:`state_dict` returned (also after a JSON round trip)."""
        if state_dict.get("format") != DECIDER_FORMAT:
            raise ValueError(f"unknown decider state format {state_dict.get('format')!r}")
        saved = from_json_safe(state_dict["params"])
        mine = from_json_safe(to_json_safe(self.get_params()))
        if saved != mine:
            raise ValueError(f"decider state was saved with {saved}, this decider has {mine}")
        state = from_json_safe(to_json_safe(state_dict["state"]))
        calibrator_state = state.pop("calibrator")
        self.calibrator.load_state_dict({"params": self.calibrator.get_params(),
                                         "state": calibrator_state})
        self.state_ = state
        return self

    def _require(self) -> State:
        if self.state_ is None:
            raise ValueError("the decider has no state yet: call reset(n_series) first")
        return self.state_

    @property
    def protecting(self) -> np.ndarray:
        """Per series, whether the last step was protected.

        Derived from the run of protected steps: protected while it is under
        ``relearn_after`` (it keeps counting past it while the series stays above).
        """
        run = self._require()["protected_for"]
        if self.relearn_after is None:
            return run > 0
        return (run > 0) & (run <= int(self.relearn_after))

    # --------------------------------------------------------------- decide
    def update(self, scores: Any, t: float | None = None) -> StepDecision:
        """Decide one step: ``scores`` holds one raw score per series (NaN: missing)."""
        state = self._require()
        x = np.asarray(scores, dtype=np.float64).reshape(-1)
        if x.size != state["n_series"]:
            raise ValueError(f"the decider was set up for {state['n_series']} series, "
                             f"got {x.size} scores")
        if self._compiled:
            block = self._compiled_block(x[None, :], None if t is None else np.array([t]), 0)
            return StepDecision(block.level[0], block.threshold[0].copy(), block.above[0],
                                block.active[0], block.protect[0], block.learning[0],
                                [change for _, change in block.changes])
        observed = ~np.isnan(x)
        ready = observed & (state["seen"] >= int(self.warmup))
        state["seen"] = state["seen"] + observed
        candidate = np.where(ready, x, np.nan)
        calibrator = self.calibrator
        level = np.asarray(calibrator.update(candidate, learn=np.zeros(x.size, dtype=bool)),
                           dtype=np.float64).reshape(-1)
        calibrated = state["calibrated"] >= int(getattr(calibrator, "n_warmup", 0))
        level = np.where(ready & calibrated, level, np.nan)
        threshold = state["threshold"]
        decided = ~np.isnan(level)
        with np.errstate(invalid="ignore"):
            above = decided & (level > threshold)
        changes = self._filter().update(state["filter"], above, decided)
        active = state["filter"]["active"].copy()
        step = np.nan if t is None else float(t)
        start = state["run_start"]
        changes = [AlertChange(c.series, c.status, _finite(start[c.series], step)
                               if c.status == "firing" else None) for c in changes]
        state["run_start"] = np.where(above & np.isnan(start), step,
                                      np.where(decided & ~above, np.nan, start))
        if self.protect:
            protect = above | active
            protected_for = np.where(protect, state["protected_for"] + 1, 0)
            if self.relearn_after is not None:
                protect = protect & (protected_for <= int(self.relearn_after))
            state["protected_for"] = protected_for
        else:
            protect = np.zeros(x.size, dtype=bool)
        learn = ready & ~protect
        calibrator.update(candidate, learn=learn)
        state["calibrated"] = state["calibrated"] + learn
        learning = observed & ~decided
        return StepDecision(level, threshold.copy(), above, active, protect, learning, changes)

    def update_many(self, scores: Any, timestamps: Any = None, *,
                    until_protected: bool = False, until_unprotected: bool = False
                    ) -> BlockDecision:
        """Decide a ``(time, series)`` block: :meth:`update` on every row.

        The rows before the first one that crosses a cutoff (or all rows, when
        nothing is protected) are decided at once, vectorised over time; from
        that row on, step by step. With ``until_protected`` it stops after the
        first row that protects a series (the engine redoes the block from
        there), so the decisions may cover fewer rows than ``scores``; with
        ``until_unprotected`` after the first row in which some series is not
        protected.

        With calibration ``none`` every row is decided in one compiled loop
        (:mod:`kizashi.engine.decide_kernel`), with the same results.
        """
        matrix = np.asarray(scores, dtype=np.float64)
        matrix = matrix.reshape(matrix.shape[0], -1)
        state = self._require()
        if matrix.shape[1] != state["n_series"]:
            raise ValueError(f"the decider was set up for {state['n_series']} series, "
                             f"got {matrix.shape[1]} scores")
        t = None if timestamps is None else np.asarray(timestamps, dtype=np.float64)
        if self._compiled:
            stop = STOP_AFTER_PROTECTED if until_protected else \
                STOP_AFTER_UNPROTECTED if until_unprotected else 0
            return self._compiled_block(matrix, t, stop)
        if until_unprotected:
            steps = []
            for k in range(matrix.shape[0]):
                steps.append(self.update(matrix[k], None if t is None else float(t[k])))
                if not steps[-1].protect.all():
                    break
            return BlockDecision.stack(steps, state["n_series"])
        parts: list[BlockDecision] = []
        i, retry_at, gap = 0, 0, 1
        while i < matrix.shape[0]:
            if i >= retry_at:
                quiet, done = self._quiet_prefix(matrix[i:i + QUIET_SPAN])
                if done:
                    parts.append(quiet)
                    i += done
                    gap = 1
                    continue
                # something is above a cutoff: go step by step for a while, trying the
                # vectorised path again after 1, 2, 4, ... steps (never quadratic)
                retry_at, gap = i + gap, min(2 * gap, QUIET_SPAN)
            stop = min(retry_at, matrix.shape[0]) if retry_at > i else i + 1
            steps = []
            for k in range(i, stop):
                steps.append(self.update(matrix[k], None if t is None else float(t[k])))
                if until_protected and steps[-1].protect.any():
                    parts.append(BlockDecision.stack(steps, state["n_series"]))
                    return BlockDecision.join(parts, state["n_series"])
            parts.append(BlockDecision.stack(steps, state["n_series"]))
            i = stop
        return BlockDecision.join(parts, state["n_series"])

    @property
    def _compiled(self) -> bool:
        """Whether steps go through the compiled loop (raw scores, numba installed)."""
        return HAVE_NUMBA and isinstance(self.calibrator, IdentityCalibrator)

    def _compiled_block(self, matrix: np.ndarray, t: np.ndarray | None, stop: int
                        ) -> BlockDecision:
        times = np.full(matrix.shape[0], np.nan) if t is None else \
            np.ascontiguousarray(t, dtype=np.float64)
        out = block_outputs(*matrix.shape)
        n = decide_block(np.ascontiguousarray(matrix), times, *self.kernel_state(),
                         *self.kernel_params(), stop, *out)
        return self.decision_of(out, n)

    def kernel_state(self) -> tuple[np.ndarray, ...]:
        """The state arrays :func:`~kizashi.engine.decide_kernel.decide_block` updates in
        place, in its order (threshold, seen, calibrated, above_run, below_run, active,
        protected_for, run_start); made contiguous in the state first."""
        state = self._require()
        for key, dtype in (("seen", np.int64), ("calibrated", np.int64),
                           ("threshold", np.float64), ("protected_for", np.int64),
                           ("run_start", np.float64)):
            state[key] = np.ascontiguousarray(state[key], dtype=dtype)
        filt = state["filter"]
        for key, dtype in (("above_run", np.int64), ("below_run", np.int64),
                           ("active", np.bool_)):
            filt[key] = np.ascontiguousarray(filt[key], dtype=dtype)
        return (state["threshold"], state["seen"], state["calibrated"], filt["above_run"],
                filt["below_run"], filt["active"], state["protected_for"], state["run_start"])

    def kernel_params(self) -> tuple[int, int, int, bool, int]:
        """warmup, min_steps, resolve_steps, protect, relearn_after (-1: None), as the
        compiled kernels take them."""
        relearn = -1 if self.relearn_after is None else int(self.relearn_after)
        return (int(self.warmup), int(self.min_steps), int(self.resolve_steps),
                bool(self.protect), relearn)

    def decision_of(self, out: tuple[np.ndarray, ...], n: int) -> BlockDecision:
        """The :class:`BlockDecision` of the first ``n`` rows of compiled outputs
        (:func:`~kizashi.engine.decide_kernel.block_outputs`)."""
        state = self._require()
        level, above, active, protect, learning, change, start = (a[:n] for a in out)
        threshold = np.broadcast_to(state["threshold"], level.shape)
        return BlockDecision(level, threshold, above, active, protect, learning,
                             LazyChanges(lambda: _changes_of(change, start)))

    def _quiet_prefix(self, matrix: np.ndarray) -> tuple[BlockDecision | None, int]:
        """Decide at once the leading rows where no series is above its cutoff or alerting.

        Returns their decisions and how many rows that was (0: none could be).
        """
        state = self._require()
        if state["filter"]["active"].any() or self.protecting.any() or not matrix.shape[0]:
            return None, 0
        calibrator = self.calibrator
        if not hasattr(calibrator, "transform"):
            return None, 0
        before = copy_state(calibrator.state_)
        observed = ~np.isnan(matrix)
        counted = np.cumsum(observed, axis=0)
        ready = observed & ((state["seen"] + counted - observed) >= int(self.warmup))
        candidate = np.where(ready, matrix, np.nan)
        level = np.asarray(calibrator.transform(candidate, learn=ready), dtype=np.float64)
        level = level.reshape(matrix.shape)
        learned = np.cumsum(ready, axis=0) - ready  # learned before each row, in this block
        warm = (state["calibrated"] + learned) >= int(getattr(calibrator, "n_warmup", 0))
        level = np.where(ready & warm, level, np.nan)
        threshold = state["threshold"]
        with np.errstate(invalid="ignore"):
            above = ~np.isnan(level) & (level > threshold)
        crossing = above.any(axis=1)
        n = int(np.argmax(crossing)) if crossing.any() else matrix.shape[0]
        if n < matrix.shape[0]:  # learn only the quiet rows: redo them from the saved state
            calibrator.state_ = before
            if n == 0:
                return None, 0
            calibrator.transform(candidate[:n], learn=ready[:n])
        level, ready, observed = level[:n], ready[:n], observed[:n]
        decided = ~np.isnan(level)
        state["seen"] = state["seen"] + observed.sum(axis=0)
        state["calibrated"] = state["calibrated"] + ready.sum(axis=0)
        # the alert filter: every decided row is a row below the cutoff
        any_decided = decided.any(axis=0)
        filt = state["filter"]
        filt["above_run"] = np.where(any_decided, 0, filt["above_run"])
        filt["below_run"] = filt["below_run"] + decided.sum(axis=0)
        state["run_start"] = np.where(any_decided, np.nan, state["run_start"])
        state["protected_for"] = np.zeros_like(state["protected_for"])
        none = np.zeros(level.shape, dtype=bool)
        return BlockDecision(level, np.broadcast_to(threshold, level.shape).copy(), none,
                             none.copy(), none.copy(), observed & ~decided, []), n


class LazyChanges(Sequence):
    """A block's ``(row, AlertChange)`` list, built on first use: the batch driver reads
    only the flags, so a block with many alerts makes no Python objects it never reads.

    >>> changes = LazyChanges(lambda: [(0, AlertChange(1, "resolved", None))])
    >>> changes == [(0, AlertChange(1, "resolved", None))], len(changes)
    (True, 1)
    """

    def __init__(self, build: Callable[[], list[tuple[int, AlertChange]]]):
        self._build: Callable[[], list[tuple[int, AlertChange]]] | None = build
        self._items: list[tuple[int, AlertChange]] = []

    def _list(self) -> list[tuple[int, AlertChange]]:
        if self._build is not None:
            self._items, self._build = self._build(), None
        return self._items

    def __getitem__(self, index: Any) -> Any:
        return self._list()[index]

    def __len__(self) -> int:
        return len(self._list())

    def __iter__(self) -> Iterator[tuple[int, AlertChange]]:
        return iter(self._list())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and self._list() == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._list())


def _changes_of(change: np.ndarray, start: np.ndarray) -> list[tuple[int, AlertChange]]:
    """The ``(row, AlertChange)`` list of compiled change codes and run starts."""
    if not change.any():
        return []
    rows, series, codes = change_order(change)
    begun = start[rows, series].tolist()
    return [(k, AlertChange(j, "firing" if code == FIRING else "resolved",
                            None if code != FIRING or math.isnan(b) else b))
            for k, j, code, b in zip(rows.tolist(), series.tolist(), codes.tolist(), begun,
                                     strict=True)]


def _finite(value: float, fallback: float) -> float | None:
    if np.isfinite(value):
        return float(value)
    return None if np.isnan(fallback) else float(fallback)
