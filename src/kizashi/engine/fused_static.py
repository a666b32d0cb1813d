"""Fixed bounds, fused: score and decide each step in one compiled loop.

``static_threshold`` learns nothing, so protection cannot change its scores:
:func:`static_stream` scores a block (the distance beyond ``[low, high]``, as
:class:`~kizashi.detectors.threshold.static.StaticThreshold` computes it with
numpy's ``maximum``/``minimum``) and runs the raw-score decider's step
(:func:`~kizashi.engine.decide_kernel.decide_block`'s) on each score, in one
pass without the intermediate score array's four numpy passes (nor the pass
that turns ±inf into missing values first).
``tests/engine/test_fused.py`` holds it equal to the Python stream bit for bit.

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

import numpy as np

from kizashi.detectors.changepoint.jit import njit
from kizashi.engine.decide_kernel import FIRING, RESOLVED

__all__ = ["static_stream"]


@njit(cache=True, error_model="numpy")
def static_stream(values: np.ndarray, t: np.ndarray, low: float, high: float,
                  max_score: float, threshold: np.ndarray, seen: np.ndarray,
                  calibrated: np.ndarray, above_run: np.ndarray, below_run: np.ndarray,
                  active: np.ndarray, protected_for: np.ndarray, run_start: np.ndarray,
                  warmup: int, min_steps: int, resolve_steps: int, protect: bool,
                  relearn_after: int, scores: np.ndarray, level: np.ndarray,
                  above: np.ndarray, active_out: np.ndarray, protect_out: np.ndarray,
                  learning: np.ndarray, change: np.ndarray, start: np.ndarray) -> None:
    """The fixed bounds and the raw-score decider over a block (an infinite value is a
    missing one); decider state updated in place, outputs as ``decide_block``'s plus
    ``scores``."""
    for k in range(values.shape[0]):
        step = t[k]
        for b in range(values.shape[1]):
            # --- score (StaticThreshold._score_batch: numpy maximum/minimum) ---------
            x = values[k, b]
            observed = math.isfinite(x)  # an infinite value is a missing one
            score = np.nan
            if observed:
                over_high = x - high
                under_low = low - x
                score = over_high if over_high >= under_low or math.isnan(over_high) \
                    else under_low
                if not math.isnan(score):
                    score = score if score >= 0.0 else 0.0
                    score = score if score <= max_score else max_score
            scores[k, b] = score
            # --- decide (decide_block) ------------------------------------------------
            if observed:
                decide_ready = seen[b] >= warmup
                seen[b] += 1
            else:
                decide_ready = False
            value = score if decide_ready else np.nan
            decided = not math.isnan(value)
            over = decided and value > threshold[b]
            level[k, b] = value
            above[k, b] = over
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
                change[k, b] = FIRING
                begun = run_start[b]
                start[k, b] = begun if math.isfinite(begun) else step
            elif resolve:
                change[k, b] = RESOLVED
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
            active_out[k, b] = active[b]
            protect_out[k, b] = guarded
            learning[k, b] = observed and not decided
