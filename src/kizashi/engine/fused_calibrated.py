"""A calibrated decider that protects nothing, over a whole block: calibrate at once, then decide.

With ``protect=False`` (``changefinder``'s and ``sst``'s default) the decider's
calibrator learns every ready score whatever the decision, so its levels do
not depend on the alerts. :func:`calibrated_block` therefore scores the block
with the detector's batch path, calibrates every score at once
(``calibrator.transform``, :meth:`~kizashi.engine.decider.Decider.update` on
every row, vectorised over time) and runs the alert filter over the levels in
one compiled pass (:func:`~kizashi.engine.decide_kernel.decide_block`). The
Python stream instead decides step by step around every crossing of the
cutoff (numpy's per-step calls, a few per alert step).

The warm-ups, counters and alert changes are the decider's exactly. The levels
are those of the Python stream up to the rounding of the calibrator's
element-wise functions (Numenta's likelihood computes a step and a block with
the same sums in the same order; see :mod:`kizashi.decision.likelihood`):
``tests/engine/test_fused_calibrated.py`` compares levels at a relative 1e-12
and flags, alert changes and states exactly.

Examples
--------
>>> from kizashi.detectors.registry import create
>>> from kizashi.engine.decider import Decider
>>> from kizashi.engine.stream import DetectorStream
>>> rng = np.random.default_rng(0)
>>> values = np.r_[rng.normal(0, 1, 1500), rng.normal(8, 1, 40), rng.normal(0, 1, 200)]
>>> detector = create("changefinder")
>>> stream = DetectorStream(detector, Decider.for_detector(detector, min_steps=2))
>>> stream._prepare(1)
>>> raw, decision = calibrated_block(stream.detector, stream.decider, values[:, None], None)
>>> [(row, change.status) for row, change in decision.changes if row >= 1500]  # the shift
[(1501, 'firing'), (1512, 'resolved')]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kizashi.engine.decide_kernel import block_outputs, decide_block

__all__ = ["calibrated_block", "supports_calibrated"]


def supports_calibrated(detector: Any, decider: Any) -> bool:
    """Whether :func:`calibrated_block` can run ``detector`` with ``decider``: a univariate
    detector, a decider that protects nothing, a calibrator with a block ``transform``."""
    return (not detector.multivariate and not bool(decider.protect)
            and hasattr(decider.calibrator, "transform"))


def calibrated_block(detector: Any, decider: Any, values: np.ndarray, t: np.ndarray | None
                     ) -> tuple[np.ndarray, Any]:
    """Score, calibrate and decide ``values`` ``(time, series)``: the raw scores and the
    :class:`~kizashi.engine.decider.BlockDecision`; both states are updated."""
    n_time = values.shape[0]
    raw = np.asarray(detector.update_many(values, t), dtype=np.float64).reshape(n_time, -1)
    threshold, seen, calibrated, above_run, below_run, active, protected_for, run_start = \
        decider.kernel_state()
    warmup, min_steps, resolve_steps, _, relearn_after = decider.kernel_params()
    n = raw.shape[1]
    # the decider's warm-up and calibration, as Decider.update does them row by row
    observed = ~np.isnan(raw)
    counted = np.cumsum(observed, axis=0)
    ready = observed & ((seen + counted - observed) >= warmup)
    candidate = np.where(ready, raw, np.nan)
    calibrator = decider.calibrator
    level = np.asarray(calibrator.transform(candidate, learn=ready),
                       dtype=np.float64).reshape(raw.shape)
    learned = np.cumsum(ready, axis=0) - ready  # learned before each row, in this block
    warm = (calibrated + learned) >= int(getattr(calibrator, "n_warmup", 0))
    level = np.ascontiguousarray(np.where(ready & warm, level, np.nan))
    seen += counted[-1] if n_time else 0
    calibrated += ready.sum(axis=0)
    # the alert filter over the levels: decide_block with no warm-up of its own (its
    # counters are scratch) and nothing protected
    times = np.full(n_time, np.nan) if t is None else np.ascontiguousarray(t, dtype=np.float64)
    out = block_outputs(n_time, n)
    scratch = np.zeros(n, dtype=np.int64)
    decide_block(level, times, threshold, scratch, scratch.copy(), above_run, below_run, active,
                 protected_for, run_start, 0, min_steps, resolve_steps, False, relearn_after, 0,
                 *out)
    np.logical_and(observed, np.isnan(level), out=out[4])  # learning: observed, not decided
    return raw, decider.decision_of(out, n_time)
