"""ChangeFinder: two-stage SDAR learning (Takeuchi & Yamanishi 2006)."""

from __future__ import annotations

from typing import Any

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.state import State
from kizashi.streaming.magnitudes import unit_scaled
from kizashi.streaming.moving_sum import MovingSum
from kizashi.streaming.sdar import SDAR

__all__ = ["ChangeFinder"]

COMPAT_MODES = (None, "changefinder")


def _take(state: Any, columns: np.ndarray) -> Any:
    if isinstance(state, dict):
        return {key: _take(value, columns) for key, value in state.items()}
    if isinstance(state, np.ndarray):
        return state[..., columns].copy()
    return state


def _put(state: Any, columns: np.ndarray, part: Any) -> None:
    for key, value in state.items():
        if isinstance(value, dict):
            _put(value, columns, part[key])
        elif isinstance(value, np.ndarray):
            value[..., columns] = part[key]


class ChangeFinder(Detector):
    """Change-point score from two-stage sequentially discounting AR learning.

    Takeuchi, J. & Yamanishi, K. (2006), "A unifying framework for detecting
    outliers and change points from time series", IEEE TKDE 18(4), 482–492.

    Stage 1 learns an SDAR(``order``) model of each series (discount ``r``)
    and scores every value by its predictive log-loss ``−log p(x_t | x_1 …
    x_{t−1})``; the mean of the last ``smooth`` stage-1 scores is the input of
    stage 2, a second SDAR model whose log-losses, averaged over the last
    ``smooth2`` values, are the change score. An isolated outlier raises only
    stage 1; a lasting change of level or dynamics raises stage 2.

    Scores are in nats (a log-loss: they can be negative for a very
    predictable series); compare them with thresholds learnt per series from
    score quantiles, not across detectors. Scores are 0 during the first
    :attr:`n_warmup` observations, while the discounted statistics forget their
    start: each stage learns from ``ceil(1 / r)`` values before it scores, so
    ``n_warmup`` is about ``2 / r + smooth + smooth2``.

    ``compat="changefinder"`` reproduces the PyPI ``changefinder`` 0.3 package
    instead: its AR fit skips the highest lag (with ``order=1`` the AR
    coefficient is always 0), a value is scored after the model has learnt it,
    the smoothing is a moving *sum* (``smooth2`` defaults to
    ``round(smooth / 2)`` there as here) and the output is 0 until both windows
    are full. The package draws its initial μ and σ² at random; here they start
    at 0 and 1 (set ``state_["stage1"]["mean"]`` etc. to copy another start).
    Scores then match the package to floating-point accuracy, except that the
    package silently skips stage 2 when a smoothed score is exactly 0.0, and
    that values beyond ``clip`` σ are winsorised here (``clip=None`` does not).

    Parameters
    ----------
    r : float
        Discount rate in (0, 1): the weight of the newest value in both stages.
    order : int
        AR order of both SDAR models (at least 1).
    smooth : int
        Stage-1 scores averaged into the input of stage 2 (at least 1).
    smooth2 : int or None
        Stage-2 scores averaged into the change score; ``None`` means
        ``round(smooth / 2)`` (at least 1), as in the package.
    compat : {None, "changefinder"}
        ``None`` for the paper's algorithm; ``"changefinder"`` to reproduce the
        package.
    clip : float or None
        Stage 1 scores and learns a value further than ``clip`` σ from its
        prediction as if it were ``clip`` σ away (once a series has seen
        ``1 + ceil(1 / r)`` values), so that one wild value — a ``1e308`` from a
        broken exporter — is a large outlier, not the model's new scale; ``None``
        takes every value as it is (the package does, so use ``None`` to match it
        on data with outliers beyond ``clip`` σ).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> values = np.r_[rng.normal(0, 1, 400), rng.normal(6, 1, 200)]
    >>> scores = ChangeFinder(r=0.02, order=1, smooth=7).score(values)
    >>> int(np.argmax(scores)), round(float(scores.max()), 1)
    (403, 83.6)
    >>> round(float(np.median(scores[300:400])), 2)
    -0.64
    """

    protect_baseline = False  # a change detector must learn the new regime
    conformance_params = {"r": 0.05, "order": 2, "smooth": 3}

    def __init__(self, r: float = 0.01, order: int = 1, smooth: int = 7,
                 smooth2: int | None = None, compat: str | None = None,
                 clip: float | None = 20.0):
        self.r = r
        self.order = order
        self.smooth = smooth
        self.smooth2 = smooth2
        self.compat = compat
        self.clip = clip

    # --------------------------------------------------------------- params
    def _checked(self) -> tuple[float, int, int, int, bool]:
        r = float(self.r)
        if not 0.0 < r < 1.0:
            raise ValueError(f"changefinder: r must be in (0, 1), got {self.r!r}")
        if int(self.order) != self.order or int(self.order) < 1:
            raise ValueError(f"changefinder: order must be an integer ≥ 1, got {self.order!r}")
        if int(self.smooth) != self.smooth or int(self.smooth) < 1:
            raise ValueError(f"changefinder: smooth must be an integer ≥ 1, got {self.smooth!r}")
        smooth2 = round(int(self.smooth) / 2.0) if self.smooth2 is None else self.smooth2
        if int(smooth2) != smooth2 or int(smooth2) < 1:
            raise ValueError(
                f"changefinder: smooth2 must be an integer ≥ 1 (None: round(smooth / 2)), "
                f"got {self.smooth2!r}"
            )
        if self.compat not in COMPAT_MODES:
            raise ValueError(
                f"changefinder: compat must be None or 'changefinder', got {self.compat!r}"
            )
        if self.clip is not None and not float(self.clip) > 0.0:
            raise ValueError(f"changefinder: clip must be positive or None, got {self.clip!r}")
        return r, int(self.order), int(self.smooth), int(smooth2), self.compat is not None

    def _parts(self) -> tuple[SDAR, SDAR, MovingSum, MovingSum]:
        r, order, smooth, smooth2, compat = self._checked()
        return (SDAR(order, r, compat, clip=self.clip), SDAR(order, r, compat),
                MovingSum(smooth), MovingSum(smooth2))

    @property
    def n_warmup(self) -> int:
        first, second, window1, window2 = self._parts()
        return first.start + second.start + window1.size + window2.size - 2

    # ---------------------------------------------------------------- state
    def _init_state(self, n_series: int) -> State:
        first, second, window1, window2 = self._parts()
        return {
            "n_series": n_series,
            "count": np.zeros(n_series, dtype=np.int64),
            "stage1": first.init(n_series),
            "window1": window1.init(n_series),
            "stage2": second.init(n_series),
            "window2": window2.init(n_series),
            # each series' unit, chosen from its first non-zero values (unit_scaled)
            "factor": np.full(n_series, np.nan),
            "unit_seen": np.zeros(n_series, dtype=np.int64),
            "unit_votes": np.zeros(n_series, dtype=np.int64),
        }

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        x = unit_scaled(state, x[None, :])[0]  # a series of 1e300 as at 1 (no overflow)
        first, second, window1, window2 = self._parts()
        compat = self.compat is not None
        ok = ~np.isnan(x)
        score1, valid1 = first.step(state["stage1"], x)
        total1 = window1.push(state["window1"], score1, valid1)
        count1 = state["window1"]["count"]
        if compat:
            ready1 = valid1 & (count1 >= window1.size)
            target = total1
        else:
            ready1 = valid1
            target = total1 / np.maximum(count1, 1)
        score2, valid2 = second.step(state["stage2"], np.where(ready1, target, np.nan))
        total2 = window2.push(state["window2"], score2, valid2)
        count2 = state["window2"]["count"]
        if compat:
            ready2 = valid2 & (count2 >= window2.size)
            out = np.where(ready2, total2, 0.0)
        else:
            out = np.where(valid2, total2 / np.maximum(count2, 1), 0.0)
        state["count"] = state["count"] + ok
        if not compat:
            out = np.where(state["count"] > self.n_warmup, out, 0.0)
        return np.where(ok, out, np.nan)

    # ---------------------------------------------------------------- batch
    def _score_batch(self, state: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        from kizashi.detectors.changepoint import change_finder_kernel as kernel

        values = unit_scaled(state, values)  # a series of 1e300 as at 1 (no overflow)
        if kernel.HAVE_NUMBA:
            return self._compiled(kernel, state, values)
        out = np.full(values.shape, np.nan)
        missing = np.isnan(values)
        has_gap = missing.any(axis=0)
        clean = np.flatnonzero(~has_gap)
        # series seen equally often share their warm-up phases: one block each
        seen = state["count"][clean]
        for group in [clean[seen == count] for count in np.unique(seen)]:
            part = _take(state, group)
            out[:, group] = self._run(part, values[:, group])
            _put(state, group, part)
        for column in np.flatnonzero(has_gap):
            rows = np.flatnonzero(~missing[:, column])
            part = _take(state, np.array([column]))
            out[rows, column] = self._run(part, values[rows][:, [column]])[:, 0]
            _put(state, np.array([column]), part)
        return out

    def _compiled(self, kernel: Any, state: State, values: np.ndarray) -> np.ndarray:
        first, _, _, _ = self._parts()
        for part in ("stage1", "stage2", "window1", "window2"):
            state[part] = {key: np.ascontiguousarray(value) for key, value in state[part].items()}
        state["count"] = np.ascontiguousarray(state["count"])
        out = np.empty(values.shape)
        one, two = state["stage1"], state["stage2"]
        kernel.change_finder_block(
            np.ascontiguousarray(values), out, state["count"],
            one["mean"], one["cov"], one["coef"], one["var"], one["history"], one["count"],
            state["window1"]["values"], state["window1"]["count"],
            two["mean"], two["cov"], two["coef"], two["var"], two["history"], two["count"],
            state["window2"]["values"], state["window2"]["count"],
            first.order, first.r, first.compat, first.start, self.n_warmup,
            0.0 if first.clip is None else first.clip, first.clip_from)
        return out

    def _run(self, state: State, values: np.ndarray) -> np.ndarray:
        """A NaN-free block of series that have all seen the same number of values.

        The numpy path of ``score`` (without numba): both SDAR stages run as IIR
        filters over the whole block; the rows where each stage is valid are the
        same for every series, so the smoothing windows work on whole rows.
        """
        first, second, window1, window2 = self._parts()
        compat = self.compat is not None
        n_time = values.shape[0]
        out = np.zeros(values.shape)
        score1, valid1 = first.run(state["stage1"], values)
        rows1 = np.flatnonzero(valid1[:, 0])
        count1 = np.minimum(state["window1"]["count"][None]
                            + np.arange(1, rows1.size + 1)[:, None], window1.size)
        total1 = window1.run(state["window1"], score1[rows1])
        if compat:
            ready = count1[:, 0] >= window1.size
            rows2, target = rows1[ready], total1[ready]
        else:
            rows2, target = rows1, total1 / count1
        score2, valid2 = second.run(state["stage2"], target)
        rows3 = rows2[valid2[:, 0]]
        count2 = np.minimum(state["window2"]["count"][None]
                            + np.arange(1, rows3.size + 1)[:, None], window2.size)
        total2 = window2.run(state["window2"], score2[valid2[:, 0]])
        if compat:
            out[rows3] = np.where(count2 >= window2.size, total2, 0.0)
        else:
            out[rows3] = total2 / count2
        counts = state["count"][None] + np.arange(1, n_time + 1)[:, None]
        state["count"] = state["count"] + n_time
        if not compat:
            out = np.where(counts > self.n_warmup, out, 0.0)
        return out
