"""The stream's compiled path: detector, decider and baseline protection in one loop.

:class:`~kizashi.engine.stream.DetectorStream` works in blocks and, around an
alert, rolls a block back, steps one row at a time and scores protected runs
against a frozen state — a few Python calls per alert. For a detector whose
step is a compiled kernel and a decider that keeps raw scores (calibration
``none``), :func:`fused_process` runs the whole block in one compiled loop
instead, row by row and series by series:

1. the detector scores the step from its state (no learning yet);
2. the decider decides it (a step of :func:`~kizashi.engine.decide_kernel.decide_block`);
3. the detector learns the step unless the decider protects it.

Series are independent, so each is scored, decided and learned in turn. This
reproduces the Python stream exactly. Scoring may recentre the rolling σ's
moments in place (as the Python stream's masked learning of a protected step
does); its frozen runs score a copy instead, but a state that learned nothing
since it was last scored recentres to the same moments again, so the two
agree. Blocks, single steps, the Python stream and a state restored mid-way
agree bit for bit (``tests/engine/test_fused.py`` checks this on random
families of inputs, states included).

Supported: the rolling mean ± k·σ (``threshold``, ``sigma_threshold``),
the rolling quantile band (``quantile_threshold``, whose sorted windows are
built once per series and block, as in its batch path) and the seasonal
baseline (``seasonal_threshold``, :mod:`kizashi.engine.fused_seasonal`) and
fixed bounds (``static_threshold``, :mod:`kizashi.engine.fused_static`); another
detector that learns nothing, or one whose decider
protects nothing (``range_rule``), is scored in one block and decided in one
compiled pass; with a calibrator that learns (``changefinder``'s and ``sst``'s
likelihood) and nothing protected, a block is scored, calibrated at once and
decided in one compiled pass (:mod:`kizashi.engine.fused_calibrated`).
Everything else goes through the Python stream.

Each of these kernels (here, :mod:`~kizashi.engine.fused_seasonal`,
:mod:`~kizashi.engine.fused_static`) writes the decider's step out in its own
loop instead of calling one shared step: a shared step compiled with numba's
``inline="always"`` ran 35-45 % slower through the engine
(``benchmarks/detectors.py --cpu --quick``), so the copies stay on purpose,
held equal to :func:`~kizashi.engine.decide_kernel.decide_block` by
``tests/engine/test_fused.py``.

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
from kizashi.detectors.threshold.rolling_kernels import (
    CANCELLATION,
    _bounded,
    _floor,
    _quantile,
    _resync,
    exact_moments,
)
from kizashi.detectors.threshold.rolling_quantile import RollingQuantileThreshold
from kizashi.detectors.threshold.rolling_sigma import RollingSigmaThreshold
from kizashi.detectors.threshold.seasonal import SeasonalThreshold
from kizashi.detectors.threshold.static import StaticThreshold
from kizashi.engine.decide_kernel import FIRING, RESOLVED, block_outputs
from kizashi.engine.fused_calibrated import calibrated_block, supports_calibrated
from kizashi.engine.fused_seasonal import seasonal_arguments, seasonal_stream
from kizashi.engine.fused_static import static_process
from kizashi.streaming.robust import FLOAT_MAX

__all__ = ["fused_process", "quantile_stream", "sigma_stream", "supports"]


def supports(detector: Any, decider: Any) -> bool:
    """Whether :func:`fused_process` can run ``detector`` with ``decider``."""
    compiled = bool(getattr(decider, "_compiled", False))
    return (HAVE_NUMBA and (((type(detector) in (RollingSigmaThreshold,
                                                 RollingQuantileThreshold, SeasonalThreshold)
                              or _stateless(detector) or _unprotected(detector, decider))
                             and compiled)
                            or (not compiled and supports_calibrated(detector, decider)))
            and detector.state_ is not None and decider.state_ is not None
            and int(decider.state_["n_series"]) == int(detector.state_["n_series"]) > 0)


def _stateless(detector: Any) -> bool:
    """A univariate detector that learns nothing (its state is only ``n_series``, e.g.
    ``static_threshold``): protection cannot change its scores, so a block is scored at
    once and decided in one compiled pass."""
    state = detector.state_
    return (not detector.multivariate and isinstance(state, dict)
            and set(state) == {"n_series"})


def _unprotected(detector: Any, decider: Any) -> bool:
    """A univariate detector whose decider protects nothing (``protect=False``, e.g.
    ``range_rule``'s): it learns every step whatever the decision, so a block is scored
    and learned at once and decided in one compiled pass, as the Python stream's blocks
    (never rolled back) do."""
    return not detector.multivariate and not bool(getattr(decider, "protect", True))


def fused_process(detector: Any, decider: Any, matrix: np.ndarray, t: np.ndarray | None
                  ) -> tuple[np.ndarray, Any]:
    """Score, decide and learn ``matrix`` ``(time, series)`` in one compiled loop:
    the raw scores and the :class:`~kizashi.engine.decider.BlockDecision`.

    The states of both are set up already (``DetectorStream._prepare``).
    """
    values = np.ascontiguousarray(matrix, dtype=np.float64)
    n_time, n_series = values.shape
    times = np.full(n_time, np.nan) if t is None else np.ascontiguousarray(t, dtype=np.float64)
    if type(detector) is StaticThreshold and decider._compiled:  # takes ±inf as missing itself
        return static_process(detector, decider, values, times)
    scores = np.empty(values.shape)
    out = block_outputs(n_time, n_series)
    if np.isinf(values).any():  # to a detector, an infinite value is a missing one
        values = np.where(np.isinf(values), np.nan, values)
    if not decider._compiled:  # a calibrator that learns, and nothing protected
        return calibrated_block(detector, decider, values, t)
    if _stateless(detector) or _unprotected(detector, decider):
        raw = np.asarray(detector.update_many(values, t), dtype=np.float64)
        return raw.reshape(n_time, n_series), decider.update_many(raw.reshape(n_time, -1), t)
    if type(detector) is SeasonalThreshold:
        seasonal_stream(values, *seasonal_arguments(detector, t), *decider.kernel_state(),
                        *decider.kernel_params(), scores, *out)
    elif type(detector) is RollingQuantileThreshold:
        detector._rolling()   # checks the parameters
        window = detector.state_["window"]
        for key, dtype in (("values", np.float64), ("position", np.int64),
                           ("count", np.int64)):
            window[key] = np.ascontiguousarray(window[key], dtype=dtype)
        quantile_stream(values, times, window["values"], window["position"], window["count"],
                        float(detector.low), float(detector.high), int(detector.min_periods),
                        np.nan if detector.min_width is None else float(detector.min_width),
                        *decider.kernel_state(), *decider.kernel_params(), scores, *out)
    else:
        sigma_stream(values, times, *detector.kernel_state(detector.state_),
                     *detector.kernel_params(), *decider.kernel_state(),
                     *decider.kernel_params(), scores, *out)
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
    The three parts are :func:`~kizashi.detectors.threshold.rolling_kernels.sigma_block`'s
    scoring, :func:`~kizashi.engine.decide_kernel.decide_block`'s step and
    ``sigma_block``'s learning, written out in one loop body (a compiled call per
    element costs several times the arithmetic), with the same operations in the same
    order: ``tests/engine/test_fused.py`` holds them equal.
    """
    size = window.shape[0]
    for k in range(values.shape[0]):
        step = t[k]
        for b in range(values.shape[1]):
            # --- score (sigma_block) ------------------------------------------------
            x = values[k, b]
            n = count[b]
            mean = np.nan
            std = np.nan
            if n > 0:
                first, second = moments[1, b], moments[2, b]
                if moments[3, b] >= 0.0 and math.isfinite(first) and math.isfinite(second):
                    offset = first / n
                    square = second / n
                    variance = square - offset * offset
                    if second > 0.0 and variance <= CANCELLATION * square:
                        _resync(window[:, b], n, moments, b)
                        offset = moments[1, b] / n
                        square = moments[2, b] / n
                        variance = square - offset * offset
                    mean = moments[0, b] + offset
                    std = math.sqrt(max(variance, 0.0))
                else:
                    mean, std = exact_moments(window[:, b], n)
            ready = n >= min_periods
            floor = _floor(mean, min_std)
            sigma = std if math.isnan(std) or std > floor else floor
            observed = not math.isnan(x)
            score = np.nan
            if observed:
                score = _bounded(abs(x - mean) / sigma) if ready else 0.0
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
            # --- learn (sigma_block), unless protected ------------------------------
            if guarded or not observed:
                continue
            learned = x
            if ready and not math.isnan(clip):
                reach = clip * sigma
                low, high = mean - reach, mean + reach
                learned = np.nan if math.isnan(low) or math.isnan(high) else \
                    min(max(x, low), high)
                if math.isnan(learned):
                    continue
            slot = position[b]
            old = window[slot, b]
            window[slot, b] = learned
            position[b] = (slot + 1) % size
            count[b] = min(n + 1, size)
            if moments[3, b] < 0.0:  # sums beyond the float range: exact from the window
                _resync(window[:, b], count[b], moments, b)
                continue
            shift = moments[0, b]
            if not math.isnan(old):
                moments[1, b] -= old - shift
                moments[2, b] -= (old - shift) * (old - shift)
            moments[1, b] += learned - shift
            moments[2, b] += (learned - shift) * (learned - shift)
            moments[3, b] += 1.0
            if moments[3, b] >= size or not (math.isfinite(moments[1, b])
                                             and math.isfinite(moments[2, b])):
                _resync(window[:, b], count[b], moments, b)


@njit(cache=True, error_model="numpy")
def quantile_stream(values: np.ndarray, t: np.ndarray, window: np.ndarray,
                    position: np.ndarray, count: np.ndarray, q_low: float, q_high: float,
                    min_periods: int, min_width: float, threshold: np.ndarray,
                    seen: np.ndarray, calibrated: np.ndarray, above_run: np.ndarray,
                    below_run: np.ndarray, active: np.ndarray, protected_for: np.ndarray,
                    run_start: np.ndarray, warmup: int, min_steps: int, resolve_steps: int,
                    protect: bool, relearn_after: int, scores: np.ndarray, level: np.ndarray,
                    above: np.ndarray, active_out: np.ndarray, protect_out: np.ndarray,
                    learning: np.ndarray, change: np.ndarray, start: np.ndarray) -> None:
    """The rolling quantile band and the raw-score decider over a block, protection included.

    :func:`~kizashi.detectors.threshold.rolling_kernels.quantile_block`'s scoring and
    learning with :func:`~kizashi.engine.decide_kernel.decide_block`'s step between
    them, written out in one loop body; series are independent (scoring changes no
    state), so each series' window is sorted once and its rows run in turn.
    """
    size = window.shape[0]
    ordered = np.empty(size)
    for b in range(values.shape[1]):
        n = count[b]
        filled = 0
        for v in window[:, b]:
            if not math.isnan(v):
                ordered[filled] = v
                filled += 1
        ordered[:filled].sort()
        for k in range(values.shape[0]):
            step = t[k]
            # --- score (quantile_block) -------------------------------------------------
            x = values[k, b]
            observed = not math.isnan(x)
            score = np.nan
            if observed:
                low = _quantile(ordered, n, q_low)
                high = _quantile(ordered, n, q_high)
                if n >= min_periods:
                    width = min(high - low, FLOAT_MAX)
                    centre = low / 2.0 + high / 2.0
                    floor = _floor(centre, min_width)
                    width = width if math.isnan(width) or width > floor else floor
                    beyond = max(max(x - high, low - x), 0.0)
                    score = _bounded(beyond / width)
                else:
                    score = 0.0
            scores[k, b] = score
            # --- decide (decide_block) --------------------------------------------------
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
            # --- learn (quantile_block), unless protected --------------------------------
            if guarded or not observed:
                continue
            slot = position[b]
            old = window[slot, b]
            window[slot, b] = x
            position[b] = (slot + 1) % size
            if n == size:  # the oldest value leaves the sorted window
                gone = np.searchsorted(ordered[:n], old)
                for m in range(gone, n - 1):
                    ordered[m] = ordered[m + 1]
                n -= 1
            at = np.searchsorted(ordered[:n], x)
            for m in range(n, at, -1):
                ordered[m] = ordered[m - 1]
            ordered[at] = x
            n += 1
            count[b] = n
