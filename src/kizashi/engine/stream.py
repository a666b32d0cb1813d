"""One detector and its decider over a stream of steps, with the baseline protected.

:class:`DetectorStream` is the engine's inner loop, shared by ``kizashi detect``,
the demo, the benchmarks and the daemon (live steps and backfill alike). It
works in blocks: the detector scores and learns a whole block with
``update_many`` and the decider decides it. When the decider protects a step
(a series above its cutoff or alerting), the block is rolled back to just
before that step, and the stream goes on one step at a time: the detector
*scores* the step without learning (``score``), the decider decides it, and
the detector then learns the step with the protected series masked as missing
(a multivariate detector skips the step). Once no series is protected, blocks
resume. Scores, decisions and states are exactly what the step-by-step loop
gives, so a stream cut anywhere and resumed from ``state_dict`` continues bit
for bit.

Examples
--------
>>> from kizashi.detectors.registry import create
>>> values = np.r_[np.sin(np.arange(300) / 5.0), np.full(60, 20.0), np.sin(np.arange(60) / 5.0)]
>>> stream = DetectorStream(create("threshold", window=100, min_periods=20),
...                         Decider(detector_threshold=3.0, min_steps=3, resolve_steps=3))
>>> out = stream.process(values[:, None])
>>> edges = np.flatnonzero(np.diff(out.decision.active[:, 0].astype(int)))
>>> (edges + 1).tolist()     # fires after 3 steps of the shift, resolves on its 3rd step back
[302, 362]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kizashi.detectors.base import Detector, as_epoch_seconds
from kizashi.engine.decider import BlockDecision, Decider, StepDecision
from kizashi.engine.fused import fused_process, supports
from kizashi.state import State, copy_state

__all__ = ["DetectorStream", "StreamBlock", "join_decisions"]

#: Steps scored together while no series is protected.
BLOCK = 2048
#: The shortest block tried after a block was cut short by a protected step.
MIN_SPAN = 8
#: Values (rows × series) below which a block is not shortened further.
MIN_POINTS = 4096
#: Most values (rows × series) scored at once against a frozen state (its tiled copy).
MAX_FROZEN = 65536


@dataclass(frozen=True, eq=False)
class StreamBlock:
    """Raw scores ``(time, series)`` and the decider's verdicts for a block of steps."""

    scores: np.ndarray
    decision: BlockDecision


class DetectorStream:
    """A detector and a decider, advanced together over ``(time, series)`` blocks.

    The decider is set up for the detector's outputs (one per series, or one per
    step for a multivariate detector) on the first block unless it already has
    state; build it with :meth:`Decider.for_detector` to take the detector's
    warm-up, own threshold, protection and baseline window.

    Parameters
    ----------
    detector : Detector
        Fitted already when it needs training.
    decider : Decider
    block : int
        Steps per block while nothing is protected.
    fused : bool
        Run a detector with a compiled step and a raw-score decider through
        :mod:`kizashi.engine.fused` (one compiled loop, the same results); the
        batch driver sets it.
    """

    def __init__(self, detector: Detector, decider: Decider, block: int = BLOCK,
                 fused: bool = False):
        self.detector = detector
        self.decider = decider
        self.block = int(block)
        #: rows tried in the next block: halves towards a protected step, doubles back
        self._span = int(block)
        #: rows tried at once while every series is protected
        self._frozen_span = MIN_SPAN
        self._series_keys: Any = None
        self.fused = bool(fused)

    @property
    def _shortest(self) -> int:
        """The shortest block: ``MIN_SPAN`` rows, or more on narrow data, where a block's
        fixed cost outweighs the rows a block cut short wastes (``MIN_POINTS`` values)."""
        width = self.decider.state_["n_series"] if self.decider.state_ else 1
        return min(self.block, max(MIN_SPAN, MIN_POINTS // max(width, 1)))

    def _prepare(self, n_inputs: int) -> None:
        if self.detector.state_ is None:
            self.detector.reset(n_inputs)
        n_out = 1 if self.detector.multivariate else n_inputs
        if self.decider.state_ is None:
            self.decider.reset(n_out)

    def process(self, values: Any, timestamps: Any = None) -> StreamBlock:
        """Score, decide and learn ``values`` (``(time, series)``), returning all verdicts."""
        matrix = np.asarray(values, dtype=np.float64)
        if matrix.ndim == 1:
            matrix = matrix[:, None]
        t = as_epoch_seconds(timestamps)
        self._prepare(matrix.shape[1])
        if self.fused and supports(self.detector, self.decider) and matrix.shape[0]:
            return StreamBlock(*fused_process(self.detector, self.decider, matrix, t))
        n_out = self.decider.state_["n_series"]
        scores = np.full((matrix.shape[0], n_out), np.nan)
        steps: list[StepDecision | BlockDecision] = []
        i = 0
        while i < matrix.shape[0]:
            protecting = self.decider.protecting
            if not protecting.any():
                done = self._block(matrix, t, i, scores, steps)
                i += done
                if done:
                    continue
            elif protecting.all() and self._freezable():
                i += self._frozen_run(matrix, t, i, scores, steps)
                continue
            scores[i], decision = self._protected_step(matrix[i], None if t is None else t[i:i + 1])
            steps.append(decision)
            i += 1
        return StreamBlock(scores, join_decisions(steps, n_out))

    def _block(self, matrix: np.ndarray, t: np.ndarray | None, i: int, scores: np.ndarray,
               steps: list[Any]) -> int:
        """Process rows from ``i`` as one block up to the first protected step; rows done."""
        j = min(matrix.shape[0], i + max(1, min(self._span, self.block)))
        detector_before = copy_state(self.detector.state_)
        decider_before = copy_state(self.decider.state_)
        calibrator_before = copy_state(self.decider.calibrator.state_)
        span = None if t is None else t[i:j]
        block_scores = self._scores(self.detector.update_many(matrix[i:j], span))
        decision = self.decider.update_many(block_scores, span, until_protected=True)
        protected = decision.protect.any(axis=1)
        if not protected.any():
            scores[i:j] = block_scores
            steps.append(decision)
            self._span = min(2 * self._span, self.block)
            return j - i
        first = int(np.argmax(protected))
        # the next block spans about twice the quiet stretch seen: a block cut short wastes
        # at most as much work as it kept (never quadratic), and sparse alerts keep long blocks
        self._span = max(self._shortest, min(2 * first, self.block))
        self.detector.state_ = detector_before
        self.decider.state_ = decider_before
        self.decider.calibrator.state_ = calibrator_before
        if first:
            stop = i + first
            again = self._scores(self.detector.update_many(
                matrix[i:stop], None if t is None else t[i:stop]))
            scores[i:stop] = again
            steps.append(self.decider.update_many(again, None if t is None else t[i:stop]))
        return first

    def _freezable(self) -> bool:
        """Whether protected runs may be scored as a block against the frozen state."""
        detector = self.detector
        return self.block > 1 and not detector.multivariate and \
            not detector.requires_timestamps and not detector.requires_training

    def _frozen_run(self, matrix: np.ndarray, t: np.ndarray | None, i: int, scores: np.ndarray,
                    steps: list[Any]) -> int:
        """Rows from ``i`` while every series stays protected, in one block; rows done.

        While every series is protected the detector learns nothing, so each row is
        scored against the same (frozen) state: the state is tiled once per row
        along the series axis and a single step scores them all. The decider stops
        after the first row in which a series is not protected; that row is then
        learned with the protected series masked, as a protected step would.
        """
        width = matrix.shape[1]
        span = min(matrix.shape[0] - i, self._frozen_span, max(1, MAX_FROZEN // width))
        rows = matrix[i:i + span]
        tiled = self.detector.clone()
        tiled.state_ = tile_state(self.detector.state_, span, self._series_arrays(),
                                  type(self.detector).state_series_axis)
        frozen = self._scores(tiled.score(rows.reshape(1, span * width))).reshape(span, width)
        decision = self.decider.update_many(frozen, None if t is None else t[i:i + span],
                                            until_unprotected=True)
        done = decision.level.shape[0]
        scores[i:i + done] = frozen[:done]
        steps.append(decision)
        last = decision.protect[done - 1]
        if not last.all():  # the row that ends the run is learned, protected series masked
            k = i + done - 1
            self.detector.update_many(np.where(last, np.nan, matrix[k])[None, :],
                                      None if t is None else t[k:k + 1])
        self._frozen_span = min(2 * self._frozen_span, self.block) if done == span else \
            max(MIN_SPAN, self._frozen_span // 2)
        return done

    def _series_arrays(self) -> Any:
        """Which leaves of the detector's state run over the series (cached)."""
        if self._series_keys is None:
            one = self.detector.clone().reset(1).state_
            two = self.detector.clone().reset(2).state_
            self._series_keys = _grows(one, two)
        return self._series_keys

    def _protected_step(self, row: np.ndarray, t: np.ndarray | None) -> tuple[np.ndarray,
                                                                             StepDecision]:
        """Score a step without learning, decide it, then learn what is not protected."""
        step_scores = self._scores(self.detector.score(row[None, :], t))[0]
        decision = self.decider.update(step_scores, None if t is None else float(t[0]))
        if self.detector.multivariate:
            if not decision.protect.any():
                self.detector.update_many(row[None, :], t)
        else:
            self.detector.update_many(np.where(decision.protect, np.nan, row)[None, :], t)
        return step_scores, decision

    def _scores(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(scores, dtype=np.float64).reshape(scores.shape[0], -1)

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """The detector's and the decider's state as plain data."""
        return {"detector": self.detector.state_dict(), "decider": self.decider.state_dict()}

    def load_state_dict(self, state: State) -> DetectorStream:
        """Restore what :meth:`state_dict` returned."""
        self.detector.load_state_dict(state["detector"])
        self.decider.load_state_dict(state["decider"])
        return self


def _grows(one: Any, two: Any) -> Any:
    """The tree of ``one``'s leaves, True where a leaf differs between states of 1 and 2 series."""
    if isinstance(one, dict):
        return {key: _grows(one[key], two[key]) for key in one}
    if isinstance(one, np.ndarray):
        return one.shape != np.shape(two)
    return False


def tile_state(state: Any, times: int, grows: Any, axis: int) -> Any:
    """``state`` with every per-series array repeated ``times`` times along the series axis
    (series ``j`` of copy ``k`` becomes series ``k · n + j``); ``n_series`` follows.

    >>> tiled = tile_state({"n_series": 2, "mean": np.array([1.0, 2.0]), "k": 3.0}, 2,
    ...                    {"n_series": False, "mean": True, "k": False}, -1)
    >>> tiled["n_series"], tiled["mean"].tolist(), tiled["k"]
    (4, [1.0, 2.0, 1.0, 2.0], 3.0)
    """
    if isinstance(state, dict):
        out = {key: tile_state(value, times, grows[key], axis) for key, value in state.items()}
        if "n_series" in out and isinstance(out["n_series"], (int, np.integer)):
            out["n_series"] = int(state["n_series"]) * times
        return out
    if isinstance(state, np.ndarray) and grows:
        reps = [1] * state.ndim
        reps[axis % state.ndim] = times
        return np.tile(state, reps)
    return state.copy() if isinstance(state, np.ndarray) else state


def join_decisions(parts: list[Any], n_out: int) -> BlockDecision:
    """Consecutive decisions (single steps or blocks) as one block of ``n_out`` outputs."""
    return BlockDecision.join(parts, n_out)
