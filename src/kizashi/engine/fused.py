"""The stream's compiled path: detector, decider and baseline protection in one loop.

:class:`~kizashi.engine.stream.DetectorStream` works in blocks and, around an
alert, rolls a block back, steps one row at a time and scores protected runs
against a frozen state — a few Python calls per alert. For a detector whose
step is a compiled kernel and a decider that keeps raw scores (calibration
``none``), :func:`fused_process` runs the whole block in one compiled loop
instead, row by row and series by series:

1. the detector scores the step from its state (no learning yet);
2. the decider decides it (:func:`~kizashi.engine.decide_kernel.decide_one`);
3. the detector learns the step unless the decider protects it.

Series are independent, so each is scored, decided and learned in turn. This
reproduces the Python stream exactly. Scoring may recentre the rolling σ's
moments in place (as the Python stream's masked learning of a protected step
does); its frozen runs score a copy instead, but a state that learned nothing
since it was last scored recentres to the same moments again, so the two
agree. Blocks, single steps, the Python stream and a state restored mid-way
agree bit for bit (``tests/engine/test_fused.py`` checks this on random
families of inputs, states included).

Supported: the rolling mean ± k·σ (``threshold``, ``sigma_threshold``).
Everything else goes through the Python stream.

Examples
--------
>>> from kizashi.detectors.registry import create
>>> from kizashi.engine.decider import Decider
>>> from kizashi.engine.stream import DetectorStream
>>> values = np.r_[np.sin(np.arange(300) / 5.0), np.full(60, 20.0), np.sin(np.arange(60) / 5.0)]
>>> stream = DetectorStream(create("threshold", window=100, min_periods=20),
...                         Decider(detector_threshold=3.0, min_steps=3, resolve_steps=3))
>>> stream._prepare(1)          # detector and decider set up for one series
>>> supports(stream.detector, stream.decider)
True
>>> scores, decision = fused_process(stream.detector, stream.decider, values[:, None], None)
>>> edges = np.flatnonzero(np.diff(decision.active[:, 0].astype(int)))
>>> (edges + 1).tolist()
[302, 362]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kizashi.detectors.changepoint.jit import HAVE_NUMBA, njit
from kizashi.detectors.threshold.rolling_kernels import sigma_learn, sigma_moments, sigma_score
from kizashi.detectors.threshold.rolling_sigma import RollingSigmaThreshold
from kizashi.engine.decide_kernel import block_outputs, decide_one

__all__ = ["fused_process", "sigma_stream", "supports"]


def supports(detector: Any, decider: Any) -> bool:
    """Whether :func:`fused_process` can run ``detector`` with ``decider``."""
    return (HAVE_NUMBA and type(detector) is RollingSigmaThreshold
            and bool(getattr(decider, "_compiled", False))
            and detector.state_ is not None and decider.state_ is not None
            and int(decider.state_["n_series"]) == int(detector.state_["n_series"]) > 0)


def fused_process(detector: Any, decider: Any, matrix: np.ndarray, t: np.ndarray | None
                  ) -> tuple[np.ndarray, Any]:
    """Score, decide and learn ``matrix`` ``(time, series)`` in one compiled loop:
    the raw scores and the :class:`~kizashi.engine.decider.BlockDecision`.

    The states of both are set up already (``DetectorStream._prepare``).
    """
    values = np.ascontiguousarray(matrix, dtype=np.float64)
    if np.isinf(values).any():  # to a detector, an infinite value is a missing one
        values = np.where(np.isinf(values), np.nan, values)
    n_time, n_series = values.shape
    times = np.full(n_time, np.nan) if t is None else np.ascontiguousarray(t, dtype=np.float64)
    scores = np.empty(values.shape)
    out = block_outputs(n_time, n_series)
    sigma_stream(values, times, *detector.kernel_state(detector.state_),
                 *detector.kernel_params(), *decider.kernel_state(), *decider.kernel_params(),
                 scores, *out)
    return scores, decider.decision_of(out, n_time)


@njit(cache=True, error_model="numpy")
def sigma_stream(values: np.ndarray, t: np.ndarray, window: np.ndarray, position: np.ndarray,
                 count: np.ndarray, moments: np.ndarray, min_periods: int, min_std: float,
                 clip: float, threshold: np.ndarray, seen: np.ndarray, calibrated: np.ndarray,
                 above_run: np.ndarray, below_run: np.ndarray, active: np.ndarray,
                 protected_for: np.ndarray, run_start: np.ndarray, warmup: int,
                 min_steps: int, resolve_steps: int, protect: bool, relearn_after: int,
                 scores: np.ndarray, level: np.ndarray, above: np.ndarray,
                 active_out: np.ndarray, protect_out: np.ndarray, learning: np.ndarray,
                 change: np.ndarray, start: np.ndarray) -> None:
    """The rolling σ detector and the raw-score decider over a block, protection included.

    Detector and decider state arrays are updated in place; outputs as
    :func:`~kizashi.engine.decide_kernel.decide_block`'s, plus the raw ``scores``.
    """
    for k in range(values.shape[0]):
        for j in range(values.shape[1]):
            x = values[k, j]
            ready = count[j] >= min_periods
            mean, std = sigma_moments(window, count, moments, j)
            score, sigma = sigma_score(x, mean, std, ready, min_std)
            scores[k, j] = score
            guarded = decide_one(score, t[k], k, j, threshold, seen, calibrated, above_run,
                                 below_run, active, protected_for, run_start, warmup, min_steps,
                                 resolve_steps, protect, relearn_after, level, above,
                                 active_out, protect_out, learning, change, start)
            if not guarded and not math.isnan(x):
                sigma_learn(x, mean, sigma, ready, window, position, count, moments, j, clip)
