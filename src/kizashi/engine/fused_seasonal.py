"""The seasonal baseline's fused stream: score, decide and learn each step in one loop.

:func:`kizashi.engine.fused.fused_process` runs
:class:`~kizashi.detectors.threshold.seasonal.SeasonalThreshold` with a raw-score
decider through :func:`seasonal_stream`: per step and series, the seasonal
baseline scores the value (:func:`~kizashi.detectors.threshold.seasonal_kernel.seasonal_block`'s
scoring), the decider decides it (a step of
:func:`~kizashi.engine.decide_kernel.decide_block`) and, unless the step is
protected, the baseline learns it (``seasonal_block``'s learning). A protected
step teaches the baseline nothing, as the Python stream's masked step (a
missing value) does. The three parts are written out in one loop body with the
same operations in the same order; ``tests/engine/test_fused.py`` holds them
equal to the Python stream bit for bit.

Examples
--------
>>> from kizashi.detectors.registry import create
>>> from kizashi.engine.decider import Decider
>>> from kizashi.engine.fused import fused_process
>>> from kizashi.engine.stream import DetectorStream
>>> t = 60.0 * np.arange(600)
>>> values = np.sin(2 * np.pi * t / 3600.0) + 0.01 * np.cos(t)
>>> values[500:520] += 5.0
>>> detector = create("seasonal_threshold", period="1h", slot="10m")
>>> stream = DetectorStream(detector, Decider.for_detector(detector, min_steps=2))
>>> stream._prepare(1)
>>> scores, decision = fused_process(stream.detector, stream.decider, values[:, None], t)
>>> edges = np.flatnonzero(np.diff(decision.active[:, 0].astype(int)))
>>> (edges + 1).tolist()     # fires on the shift's 2nd step, resolves when it ends
[501, 520]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kizashi.detectors.changepoint.jit import njit
from kizashi.detectors.threshold.rolling_kernels import _bounded, _floor
from kizashi.detectors.threshold.seasonal_kernel import _clip, _maximum
from kizashi.engine.decide_kernel import FIRING, RESOLVED
from kizashi.streaming.discounted_kernel import discounted_update

__all__ = ["seasonal_arguments", "seasonal_stream"]


def seasonal_arguments(detector: Any, t: np.ndarray | None) -> tuple[Any, ...]:
    """The detector's part of :func:`seasonal_stream`'s arguments (after ``values``):
    times, slot times, state arrays (made contiguous in the state) and parameters."""
    return detector.kernel_arguments(detector.state_, t)


@njit(cache=True, error_model="numpy")
def seasonal_stream(values: np.ndarray, t: np.ndarray, slot_t: np.ndarray,
                    level_state: tuple[np.ndarray, np.ndarray, np.ndarray],
                    residuals: tuple[np.ndarray, np.ndarray, np.ndarray],
                    profile: np.ndarray, profile_weight: np.ndarray, profile_seen: np.ndarray,
                    first_seen: np.ndarray, last_seen: np.ndarray,
                    layout: tuple[float, float, float, float], clip: float, warmup: float,
                    min_std: float, warm_up_reach: float, threshold: np.ndarray,
                    seen: np.ndarray, calibrated: np.ndarray, above_run: np.ndarray,
                    below_run: np.ndarray, active: np.ndarray, protected_for: np.ndarray,
                    run_start: np.ndarray, decide_warmup: int, min_steps: int,
                    resolve_steps: int, protect: bool, relearn_after: int,
                    scores: np.ndarray, level: np.ndarray, above: np.ndarray,
                    active_out: np.ndarray, protect_out: np.ndarray, learning: np.ndarray,
                    change: np.ndarray, start: np.ndarray) -> None:
    """The seasonal baseline and the raw-score decider over a block, protection included.

    Detector and decider state arrays are updated in place; outputs as
    :func:`~kizashi.engine.decide_kernel.decide_block`'s, plus the raw ``scores``.
    """
    period, slot_width, level_halflife, season_halflife = layout
    level_mean, level_var, level_weight = level_state
    n_slots = profile.shape[0]
    for i in range(values.shape[0]):
        now = t[i]
        slot = int((slot_t[i] % period) // slot_width) % n_slots
        for j in range(values.shape[1]):
            # --- score (seasonal_block) ---------------------------------------------
            x = values[i, j]
            observed = not math.isnan(x)
            score = np.nan
            shape = profile[slot, j]
            slot_known = profile_weight[slot, j] > 0
            mean = level_mean[j]
            expected = mean + shape
            residual = x - expected
            ready = False
            spread = np.nan
            if observed:
                sigma = math.sqrt(residuals[1][j])
                floor = _floor(expected, min_std)
                ready = slot_known and (now - first_seen[j] >= warmup * period)
                spread = _maximum(sigma, floor)
                score = _bounded(abs(residual) / spread) if ready else 0.0
            scores[i, j] = score
            # --- decide (decide_block) --------------------------------------------------
            if observed:
                decide_ready = seen[j] >= decide_warmup
                seen[j] += 1
            else:
                decide_ready = False
            value = score if decide_ready else np.nan
            decided = not math.isnan(value)
            over = decided and value > threshold[j]
            level[i, j] = value
            above[i, j] = over
            if decided and over:
                above_run[j] += 1
                below_run[j] = 0
            elif decided:
                below_run[j] += 1
                above_run[j] = 0
            was = active[j]
            fire = (not was) and above_run[j] >= min_steps
            resolve = was and below_run[j] >= resolve_steps
            active[j] = (was or fire) and not resolve
            if fire:
                change[i, j] = FIRING
                begun = run_start[j]
                start[i, j] = begun if math.isfinite(begun) else now
            elif resolve:
                change[i, j] = RESOLVED
            if over and math.isnan(run_start[j]):
                run_start[j] = now
            elif decided and not over:
                run_start[j] = np.nan
            guarded = False
            if protect:
                guarded = over or active[j]
                protected_for[j] = protected_for[j] + 1 if guarded else 0
                if relearn_after >= 0:
                    guarded = guarded and protected_for[j] <= relearn_after
            if decide_ready and not guarded:
                calibrated[j] += 1
            active_out[i, j] = active[j]
            protect_out[i, j] = guarded
            learning[i, j] = observed and not decided
            # --- learn (seasonal_block), unless protected ------------------------------
            if guarded or not observed:
                continue
            if ready:
                limit = clip * spread
                clipped = _clip(residual, -limit, limit)
            elif level_weight[j] > 1.0:
                centre = expected if slot_known else mean
                reach = warm_up_reach * clip * _maximum(math.sqrt(level_var[j]),
                                                        _floor(mean, min_std))
                clipped = _clip(residual, centre - reach - expected, centre + reach - expected)
            else:
                clipped = residual
            learn_x = expected + clipped
            last = last_seen[j]
            elapsed = 0.0 if math.isnan(last) else now - last
            level_decay = 0.5 ** (max(elapsed, 0.0) / level_halflife)
            discounted_update(level_mean, level_var, level_weight, j,
                              learn_x - shape if slot_known else learn_x, level_decay)
            discounted_update(residuals[0], residuals[1], residuals[2], j,
                              clipped if slot_known else np.nan, level_decay)
            before = profile_seen[slot, j]
            gap = 0.0 if math.isnan(before) else now - before
            weight = profile_weight[slot, j] * 0.5 ** (max(gap, 0.0) / season_halflife) + 1.0
            target = learn_x - level_mean[j]
            profile[slot, j] = shape + (target - shape) / weight
            profile_weight[slot, j] = weight
            profile_seen[slot, j] = now
            if math.isnan(first_seen[j]):
                first_seen[j] = now
            last_seen[j] = now
