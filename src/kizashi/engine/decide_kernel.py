"""The decider's steps compiled, for raw scores (no calibrator to learn).

When the decider keeps a detector's own scale (calibration ``none``), a step
is comparisons and counters only: warm-up, cutoff, the alert filter's runs,
the start of a run above the cutoff, and the protected-step count. :func:`decide_block`
runs :meth:`kizashi.engine.decider.Decider.update` over a whole block in one
compiled loop, with the same arithmetic (no rounding is involved), so blocks,
single steps and the Python path agree exactly.

Alert changes come back as a ``(time, series)`` code array (``FIRING``,
``RESOLVED``) and the start of each fired run, read in the decider's order by
:func:`change_order`.

Examples
--------
>>> scores = np.array([[1.0], [5.0], [6.0], [1.0]])
>>> n = 1
>>> seen, calibrated = np.zeros(n, np.int64), np.zeros(n, np.int64)
>>> above_run, below_run = np.zeros(n, np.int64), np.zeros(n, np.int64)
>>> active, protected_for = np.zeros(n, bool), np.zeros(n, np.int64)
>>> run_start, threshold = np.full(n, np.nan), np.full(n, 3.0)
>>> out = block_outputs(4, 1)
>>> decide_block(scores, np.arange(4.0), threshold, seen, calibrated, above_run, below_run,
...              active, protected_for, run_start, 0, 2, 1, True, -1, 0, *out)
4
>>> out[2][:, 0].tolist(), out[5][:, 0].tolist()   # active; change codes
([False, False, True, False], [0, 0, 1, 2])
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import njit

__all__ = ["FIRING", "RESOLVED", "STOP_AFTER_PROTECTED", "STOP_AFTER_UNPROTECTED",
           "block_outputs", "change_order", "decide_block"]

FIRING = 1
RESOLVED = 2
#: ``stop`` modes of :func:`decide_block`: after the first row protecting any series, or
#: after the first row in which some series is not protected.
STOP_AFTER_PROTECTED = 1
STOP_AFTER_UNPROTECTED = 2


def block_outputs(n_time: int, n_series: int) -> tuple[np.ndarray, ...]:
    """Empty outputs for :func:`decide_block`: level, above, active, protect, learning,
    change code, run start (written, and read, only where the code is ``FIRING``)."""
    shape = (n_time, n_series)
    return (np.empty(shape), np.empty(shape, bool), np.empty(shape, bool),
            np.empty(shape, bool), np.empty(shape, bool), np.zeros(shape, np.int8),
            np.empty(shape))


@njit(cache=True, error_model="numpy")
def decide_block(scores: np.ndarray, t: np.ndarray, threshold: np.ndarray, seen: np.ndarray,
                 calibrated: np.ndarray, above_run: np.ndarray, below_run: np.ndarray,
                 active: np.ndarray, protected_for: np.ndarray, run_start: np.ndarray,
                 warmup: int, min_steps: int, resolve_steps: int, protect: bool,
                 relearn_after: int, stop: int, level: np.ndarray, above: np.ndarray,
                 active_out: np.ndarray, protect_out: np.ndarray, learning: np.ndarray,
                 change: np.ndarray, start: np.ndarray) -> int:
    """Decide rows of raw ``scores`` ``(time, series)``; returns how many rows were decided.

    The state arrays are updated in place; ``relearn_after`` < 0 means None; ``t``
    holds NaN where a step has no time. ``stop`` (0, or a ``STOP_*`` mode) ends the
    block early after the row that meets it.
    """
    n_series = scores.shape[1]
    for k in range(scores.shape[0]):
        step = t[k]
        any_protected = False
        all_protected = True
        for j in range(n_series):
            x = scores[k, j]
            observed = not math.isnan(x)
            ready = observed and seen[j] >= warmup
            if observed:
                seen[j] += 1
            value = x if ready else np.nan
            decided = not math.isnan(value)
            over = decided and value > threshold[j]
            level[k, j] = value
            above[k, j] = over
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
                change[k, j] = FIRING
                begun = run_start[j]
                start[k, j] = begun if math.isfinite(begun) else step
            elif resolve:
                change[k, j] = RESOLVED
            if over and math.isnan(run_start[j]):
                run_start[j] = step
            elif decided and not over:
                run_start[j] = np.nan
            guarded = False
            if protect:
                guarded = over or active[j]
                protected_for[j] = protected_for[j] + 1 if guarded else 0
                if relearn_after >= 0:
                    guarded = guarded and protected_for[j] <= relearn_after
            if ready and not guarded:
                calibrated[j] += 1
            active_out[k, j] = active[j]
            protect_out[k, j] = guarded
            learning[k, j] = observed and not decided
            any_protected = any_protected or guarded
            all_protected = all_protected and guarded
        if (stop == STOP_AFTER_PROTECTED and any_protected) or \
                (stop == STOP_AFTER_UNPROTECTED and not all_protected):
            return k + 1
    return scores.shape[0]


def change_order(change: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, series and codes of the changes, ordered as the decider reports them:
    by row, firing before resolved, then by series."""
    rows, series = np.nonzero(change)
    codes = change[rows, series]
    order = np.lexsort((series, codes, rows))
    return rows[order], series[order], codes[order]
