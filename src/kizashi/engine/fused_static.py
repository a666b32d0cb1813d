"""Fixed bounds, fused: score a block in one pass, step the decider only where it can move.

``static_threshold`` learns nothing, so protection cannot change its scores, and
most rows of real data lie inside the bounds. :func:`static_process` works
through a block in tiles of rows. For each tile:

1. one branch-free pass (compiled, vectorised along the row) writes the scores
   (the distance beyond ``[low, high]``, as
   :class:`~kizashi.detectors.threshold.static.StaticThreshold` computes it with
   numpy's ``maximum``/``minimum``; ±inf taken as missing), the levels and the
   flags above the cutoff, and counts per series the observed rows and whether
   any row is above its cutoff;
2. per series, the raw-score decider
   (:func:`~kizashi.engine.decide_kernel.decide_block`'s step) runs row by row
   only where its state can change. A series is *at rest* when it is not
   alerting, its run above the cutoff is empty (no run start) and its warm-up is
   over. A row at rest that is not above the cutoff leaves it at rest and its
   only effect is arithmetic: an observed row adds one to ``seen``,
   ``calibrated`` and ``below_run``, and any row zeroes ``protected_for``; its
   outputs are those of the first pass (level = score, no flag set). So quiet
   stretches at rest — whole tiles, or the rows up to the next row above the
   cutoff — are advanced in bulk, and the full step runs from a row above the
   cutoff until the series is at rest again (fired and resolved, or the run
   broken off).

The outputs and the decider's state are those of the step-by-step loop, bit for
bit: ``tests/engine/test_fused_static.py`` holds the path equal to the Python
stream (generated series with exceedances on tile edges, NaN/±inf, series alerting
from their first row, warm-ups, several decider settings, chunks of 1/7/64/all
rows, a state restored mid-way) and to a hand-made case.

Examples
--------
>>> from kizashi.detectors.registry import create
>>> from kizashi.engine.decider import Decider
>>> from kizashi.engine.fused import fused_process
>>> from kizashi.engine.stream import DetectorStream
>>> values = np.array([50.0, 95.0, 89.0, 91.0, 50.0, np.nan, 40.0])
>>> detector = create("static_threshold", high=90.0)
>>> stream = DetectorStream(detector, Decider.for_detector(detector, min_steps=2))
>>> stream._prepare(1)
>>> scores, decision = fused_process(stream.detector, stream.decider, values[:, None], None)
>>> scores[:, 0].tolist(), decision.active[:, 0].tolist()
([0.0, 5.0, 0.0, 1.0, 0.0, nan, 0.0], [False, False, False, False, False, False, False])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kizashi.detectors.changepoint.jit import njit
from kizashi.engine.decide_kernel import FIRING, RESOLVED
from kizashi.streaming.robust import MAX_SCORE

__all__ = ["TILE_VALUES", "static_process", "static_stream"]

#: Values (rows × series) of a tile: the first pass and the decider's walk over one tile
#: stay in cache. A tile has at least ``MIN_TILE_ROWS`` rows and at most ``MAX_TILE_ROWS``
#: (a quiet tile at rest is advanced at once; a shorter one is skipped more often).
TILE_VALUES = 16384
MIN_TILE_ROWS = 8
MAX_TILE_ROWS = 512


def tile_rows(n_series: int) -> int:
    """Rows per tile for ``n_series`` series (results do not depend on it)."""
    return int(min(MAX_TILE_ROWS, max(MIN_TILE_ROWS, TILE_VALUES // max(n_series, 1))))


def static_process(detector: Any, decider: Any, values: np.ndarray, times: np.ndarray
                   ) -> tuple[np.ndarray, Any]:
    """Score and decide ``values`` ``(time, series)``, float64 and C-ordered, for a
    ``static_threshold`` detector and a compiled (raw-score) decider: the raw scores and
    the :class:`~kizashi.engine.decider.BlockDecision`; the decider's state is updated."""
    n_time, n_series = values.shape
    low, high = detector._bounds()
    shape = (n_time, n_series)
    scores, level, above = np.empty(shape), np.empty(shape), np.empty(shape, bool)
    # written only where the decider steps row by row: zero (False) elsewhere
    active, protect, learning = (np.zeros(shape, bool) for _ in range(3))
    change, start = np.zeros(shape, np.int8), np.empty(shape)
    out = (level, above, active, protect, learning, change, start)
    static_stream(values.reshape(-1), n_series, times, low, high, MAX_SCORE,
                  *decider.kernel_state(), *decider.kernel_params(), tile_rows(n_series),
                  scores.reshape(-1), *(a.reshape(-1) for a in out))
    return scores, decider.decision_of(out, n_time)


@njit(cache=True, error_model="numpy")
def _bound_score(x: float, low: float, high: float, max_score: float) -> float:
    """The distance of ``x`` beyond ``[low, high]``, at most ``max_score``; NaN when ``x``
    is not finite. Branch-free (selects), the same operations as the Python path."""
    over_high = x - high
    under_low = low - x
    score = over_high if over_high >= under_low else under_low  # never NaN for a finite x
    score = score if score >= 0.0 else 0.0
    score = score if score <= max_score else max_score
    return score if abs(x) < math.inf else np.nan


@njit(cache=True, error_model="numpy")
def _score_rows(values: np.ndarray, n_series: int, begin: int, end: int, low: float,
                high: float, max_score: float, threshold: np.ndarray, scores: np.ndarray,
                level: np.ndarray, above: np.ndarray, observed: np.ndarray,
                exceeded: np.ndarray) -> None:
    """Rows ``begin:end`` of the flat ``(time, series)`` arrays: scores, levels (the
    scores) and flags above the cutoff; per series the observed rows and whether any row
    is above the cutoff (``observed``/``exceeded`` set here)."""
    # slices, indexed from 0: the compiler then knows no index is negative and vectorises
    if n_series == 1:  # one series: a contiguous run, reduced to two numbers
        cutoff = threshold[0]
        count = 0
        over = 0
        x, score_of, level_of, above_of = (values[begin:end], scores[begin:end],
                                           level[begin:end], above[begin:end])
        for i in range(x.shape[0]):
            score = _bound_score(x[i], low, high, max_score)
            score_of[i] = score
            level_of[i] = score
            flag = score > cutoff
            above_of[i] = flag
            count += 1 if score == score else 0
            over |= 1 if flag else 0
        observed[0] = count
        exceeded[0] = over
        return
    for b in range(n_series):
        observed[b] = 0
        exceeded[b] = 0
    for k in range(begin, end):
        row = k * n_series
        x, score_of, level_of, above_of = (values[row:row + n_series],
                                           scores[row:row + n_series],
                                           level[row:row + n_series], above[row:row + n_series])
        for b in range(n_series):
            score = _bound_score(x[b], low, high, max_score)
            score_of[b] = score
            level_of[b] = score
            flag = score > threshold[b]
            above_of[b] = flag
            observed[b] += 1 if score == score else 0
            exceeded[b] |= 1 if flag else 0


@njit(cache=True, error_model="numpy")
def static_stream(values: np.ndarray, n_series: int, t: np.ndarray, low: float, high: float,
                  max_score: float, threshold: np.ndarray, seen: np.ndarray,
                  calibrated: np.ndarray, above_run: np.ndarray, below_run: np.ndarray,
                  active: np.ndarray, protected_for: np.ndarray, run_start: np.ndarray,
                  warmup: int, min_steps: int, resolve_steps: int, protect: bool,
                  relearn_after: int, tile: int, scores: np.ndarray, level: np.ndarray,
                  above: np.ndarray, active_out: np.ndarray, protect_out: np.ndarray,
                  learning: np.ndarray, change: np.ndarray, start: np.ndarray) -> None:
    """The fixed bounds and the raw-score decider over a block (flat ``(time, series)``
    arrays, ``n_series`` per row; an infinite value is a missing one); the decider's state
    is updated in place; outputs as ``decide_block``'s plus ``scores``, of which
    ``active_out``, ``protect_out``, ``learning`` and ``change`` come zeroed."""
    n_time = values.shape[0] // n_series
    observed = np.zeros(n_series, np.int64)
    exceeded = np.zeros(n_series, np.int64)
    for begin in range(0, n_time, tile):
        end = min(begin + tile, n_time)
        _score_rows(values, n_series, begin, end, low, high, max_score, threshold, scores,
                    level, above, observed, exceeded)
        for b in range(n_series):
            k = begin
            while k < end:
                rest = (min_steps >= 1 and not active[b] and above_run[b] == 0
                        and math.isnan(run_start[b]) and seen[b] >= warmup)
                if rest:
                    # quiet rows at rest: nothing but counters moves
                    if exceeded[b] == 0 and k == begin:
                        n = observed[b]
                        k = end
                    else:
                        cutoff = threshold[b]
                        n = 0
                        row = k
                        while row < end:
                            score = scores[row * n_series + b]
                            if score > cutoff:
                                break
                            n += 1 if score == score else 0
                            row += 1
                        if row == k:
                            rest = False  # this row is above the cutoff: the full step
                        k = row
                    if rest:
                        seen[b] += n
                        calibrated[b] += n
                        below_run[b] += n
                        if protect:
                            protected_for[b] = 0
                        continue
                # --- the full step (decide_block's), at row k ---------------------------
                i = k * n_series + b
                step = t[k]
                score = scores[i]
                observed_now = not math.isnan(score)  # NaN exactly where x is not finite
                if observed_now:
                    decide_ready = seen[b] >= warmup
                    seen[b] += 1
                else:
                    decide_ready = False
                value = score if decide_ready else np.nan
                decided = not math.isnan(value)
                over = decided and value > threshold[b]
                level[i] = value
                above[i] = over
                if decided and over:
                    above_run[b] += 1
                    below_run[b] = 0
                elif decided:
                    below_run[b] += 1
                    above_run[b] = 0
                was = active[b]
                fire = (not was) and above_run[b] >= min_steps
                resolve = was and below_run[b] >= resolve_steps
                active[b] = (was or fire) and not resolve
                if fire:
                    change[i] = FIRING
                    begun = run_start[b]
                    start[i] = begun if math.isfinite(begun) else step
                elif resolve:
                    change[i] = RESOLVED
                if over and math.isnan(run_start[b]):
                    run_start[b] = step
                elif decided and not over:
                    run_start[b] = np.nan
                guarded = False
                if protect:
                    guarded = over or active[b]
                    protected_for[b] = protected_for[b] + 1 if guarded else 0
                    if relearn_after >= 0:
                        guarded = guarded and protected_for[b] <= relearn_after
                if decide_ready and not guarded:
                    calibrated[b] += 1
                active_out[i] = active[b]
                protect_out[i] = guarded
                learning[i] = observed_now and not decided
                k += 1
