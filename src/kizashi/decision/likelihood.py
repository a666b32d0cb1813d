"""Numenta's anomaly likelihood: a streaming calibrator of raw anomaly scores into [0, 1].

Ahmad, Lavin, Purdy & Agha, "Unsupervised real-time anomaly detection for
streaming data", Neurocomputing 262 (2017), section 4.2; the reference code is
``nupic.algorithms.anomaly_likelihood`` and the NAB detector that wraps it
(``nab/detectors/numenta/numenta_detector.py``). This is a fresh, vectorised
implementation of the same steps, per series:

1. **Moving average.** The raw score ``s_t`` (any scale, higher = more
   anomalous) is averaged with the ``averaging_window - 1`` scores learned
   before it: ``a_t = mean(s_{t-9}, ..., s_t)``.
2. **Gaussian of the averages.** A bounded history of the last
   ``history_window`` learned raw scores is kept. From it the moving averages
   are recomputed (the first ones of the buffer average fewer scores, as in
   the reference) and a normal distribution ``N(mu, sigma^2)`` is fitted to
   them, leaving out the first ``learning_period`` averages while they are
   still in the buffer (a detector's scores settle during that time). ``mu``
   is floored at ``min_mean`` and ``sigma^2`` at ``min_variance``.
   **Re-estimation is periodic**, as in the reference: the first fit happens
   once a series has learned ``learning_period + estimation_samples`` scores,
   then again each time its count of learned scores is a multiple of
   ``reestimation_period`` (``reestimation_period=1`` makes it continuous).
   A fit's mean and variance are combined from segments of the averages
   aligned on their learned index, each summed afresh
   (:mod:`kizashi.decision.likelihood_kernel`), so the block path sums each
   segment once for all the fits that cover it.
3. **Tail probability.** ``q_t = Q((a_t - mu) / sigma)`` with the Gaussian
   tail ``Q(z) = erfc(z / 1.4142) / 2`` (the reference's constant). With
   ``two_sided`` (the reference's behaviour) an average *below* ``mu`` is
   mirrored above it, so unusually low averages are unlikely too; without it
   only high averages are.
4. **Red-zone suppression** (``suppress_red_zone``, on in the reference): when
   ``q_t`` is in the red zone (``q <= 1e-5``) and the previous learned
   average, under the same distribution, was too, ``q_t`` is replaced by the
   yellow level ``1e-3``. A sustained anomaly thus crosses the red line once,
   at its onset, instead of at every step.
5. **Log scale.** The likelihood ``1 - q_t`` crowds near 1 (four or five
   nines), so the output is ``log(1.0000000001 - (1 - q_t)) / log(1e-10)``
   (the reference's formula, up to the rounding of its constants): 0.030 at
   the mean (``q = 1/2``), 0.3 at ``q = 1e-3``, 0.5 at ``q = 1e-5``, 1 for
   ``q <= 1e-10`` (the one-sided test's ``q`` near 1 would give -4e-12: that is
   clipped to 0).

:attr:`AnomalyLikelihood.default_cutoff` is the log-scale value of Numenta's
red line ``likelihood >= 1 - 1e-5`` (about 0.5): a calibrated value at or above
it is a point the reference would call anomalous.

During the first ``n_warmup = learning_period + estimation_samples`` learned
scores of a series the output is NaN ("still learning", not "normal"); the
reference reports a flat 0.5 likelihood then. Two parts of the reference are
left out: its check that the *metric values* (not the scores) are flat, which
a calibrator that sees only scores cannot make, and its running-total moving
average (here the last scores are summed afresh each step, so no rounding
drifts in).

A NaN score gives NaN and leaves that series' state untouched. Where ``learn``
is False, a score is calibrated against the current state but changes
nothing (the engine protects the baseline that way while an alert is active).
The state is plain data. :meth:`AnomalyLikelihood.transform` is
:meth:`AnomalyLikelihood.update` on every row, vectorised over time as well as
series: the Gaussian is piecewise constant between fits, so only the fits a
block's learned scores trigger are computed (from one moving-sum array per
series); then one compiled pass over the rows
(:mod:`kizashi.decision.likelihood_rows`) takes each moving average, the
Gaussian in force and the z-scores of the average and of the previous learned
one, and the tails, the red-zone filter and the log scale run over the whole
block in numpy. Sums and fits are done
in the same order as in ``update`` (a fit sums each history row by itself, so
it never depends on its neighbours or on how the rows were cut into blocks);
outputs agree with the row-by-row loop up to the rounding of element-wise
functions, and the state afterwards is the same.

The floors ``min_mean = 0.03`` and ``min_variance = 0.0003`` are the
reference's, tuned for HTM's raw scores in [0, 1]; for scores on a very
different scale (say reconstruction errors near 1e-6) scale the scores or set
the floors to 0. The history buffer holds ``history_window`` floats per series
(8640, one month of 5-minute samples, is 69 kB per series).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Self

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from kizashi.decision import likelihood_kernel
from kizashi.decision.likelihood_kernel import row_moments, segment_table, window_moments
from kizashi.decision.likelihood_rows import block_z, pack_learned
from kizashi.state import State, copy_state, from_json_safe, to_json_safe

__all__ = ["AnomalyLikelihood"]

#: Tail probability at or below which a moving average is in the red zone (as computed
#: by the reference: ``1 - 0.99999``).
RED_ZONE = 1.0 - 0.99999
#: What a repeated red-zone tail probability is replaced with (``1 - 0.999``).
YELLOW_ZONE = 1.0 - 0.999
#: The reference's stand-in for sqrt(2) in the Gaussian tail.
_SQRT2 = 1.4142
_LOG_OFFSET = 1.0000000001
_LOG_DENOMINATOR = math.log(1.0 - 0.9999999999)
#: Elements of the temporary arrays a re-estimation may allocate at once.
_CHUNK_ELEMENTS = 1 << 22
#: Scores :meth:`AnomalyLikelihood.transform` calibrates at once (time x series).
_BLOCK_ELEMENTS = 1 << 20


def log_scale(likelihood: np.ndarray | float) -> np.ndarray:
    """Numenta's log-scale transform of a likelihood ``1 - q`` into [0, 1].

    >>> [round(float(v), 3) for v in log_scale(np.array([0.5, 0.999, 1.0]))]
    [0.03, 0.3, 1.0]
    """
    return np.log(_LOG_OFFSET - np.asarray(likelihood, dtype=np.float64)) / _LOG_DENOMINATOR


class AnomalyLikelihood:
    """Numenta's anomaly likelihood, per series: raw scores in, calibrated values in [0, 1] out.

    See the module documentation for the algorithm. All parameters default to
    the values of ``nupic.algorithms.anomaly_likelihood.AnomalyLikelihood``.

    Parameters
    ----------
    averaging_window : int
        Raw scores in the moving average (the reference's ``averagingWindow``).
    learning_period : int
        Learned scores left out of the fitted Gaussian while they are in the
        history (``learningPeriod``).
    estimation_samples : int
        Averages the first fit uses; output starts after
        ``learning_period + estimation_samples`` learned scores
        (``estimationSamples``).
    history_window : int
        Learned raw scores kept per series for re-estimation
        (``historicWindowSize``).
    reestimation_period : int
        Learned scores between two fits (``reestimationPeriod``); 1 re-fits
        at every step.
    min_mean, min_variance : float
        Floors under the fitted mean and variance.
    two_sided : bool
        Mirror averages below the mean (the reference does); False scores
        only averages above it.
    suppress_red_zone : bool
        Replace a red-zone tail probability that follows another one by the
        yellow level (the reference's ``_filterLikelihoods``).

    Attributes
    ----------
    default_cutoff : float
        The calibrated value at and above which a point is anomalous by
        Numenta's convention: the log scale of likelihood ``1 - 1e-5``
        (about 0.5).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> raw = np.r_[rng.uniform(0.0, 1.0, 400), np.full(20, 3.0)]
    >>> likelihood = AnomalyLikelihood(learning_period=50, estimation_samples=50)
    >>> levels = likelihood.transform(raw)
    >>> cutoff = likelihood.default_cutoff
    >>> bool(np.isnan(levels[:100]).all()), int((levels[100:400] >= cutoff).sum())
    (True, 0)
    >>> [round(float(v), 3) for v in levels[400:404]]  # the jump; red again: suppressed
    [0.261, 0.687, 0.3, 0.3]
    """

    default_cutoff: ClassVar[float] = float(log_scale(1.0 - RED_ZONE))

    def __init__(self, averaging_window: int = 10, learning_period: int = 288,
                 estimation_samples: int = 100, history_window: int = 8640,
                 reestimation_period: int = 100, min_mean: float = 0.03,
                 min_variance: float = 0.0003, two_sided: bool = True,
                 suppress_red_zone: bool = True):
        self.averaging_window = averaging_window
        self.learning_period = learning_period
        self.estimation_samples = estimation_samples
        self.history_window = history_window
        self.reestimation_period = reestimation_period
        self.min_mean = min_mean
        self.min_variance = min_variance
        self.two_sided = two_sided
        self.suppress_red_zone = suppress_red_zone

    state_: State | None = None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"AnomalyLikelihood({args})"

    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments."""
        return {"averaging_window": self.averaging_window,
                "learning_period": self.learning_period,
                "estimation_samples": self.estimation_samples,
                "history_window": self.history_window,
                "reestimation_period": self.reestimation_period,
                "min_mean": self.min_mean, "min_variance": self.min_variance,
                "two_sided": self.two_sided, "suppress_red_zone": self.suppress_red_zone}

    @property
    def n_warmup(self) -> int:
        """Learned scores a series needs before its output means anything (NaN before)."""
        return int(self.learning_period) + int(self.estimation_samples)

    # ---------------------------------------------------------------- state
    def _check(self) -> None:
        name = "AnomalyLikelihood"
        for key in ("averaging_window", "estimation_samples", "history_window",
                    "reestimation_period"):
            value = getattr(self, key)
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"{name}: {key} must be a whole number >= 1, got {value!r}")
        if (isinstance(self.learning_period, bool) or int(self.learning_period)
                != self.learning_period or self.learning_period < 0):
            raise ValueError(f"{name}: learning_period must be a whole number >= 0, "
                             f"got {self.learning_period!r}")
        needed = max(int(self.averaging_window), int(self.estimation_samples))
        if int(self.history_window) < needed:
            raise ValueError(f"{name}: history_window ({self.history_window}) must hold at "
                             f"least averaging_window and estimation_samples ({needed})")
        if not math.isfinite(self.min_mean):
            raise ValueError(f"{name}: min_mean must be finite, got {self.min_mean!r}")
        if not self.min_variance >= 0:
            raise ValueError(f"{name}: min_variance must be >= 0, got {self.min_variance!r}")

    def reset(self, n_series: int) -> Self:
        """Start afresh for ``n_series`` series."""
        self._check()
        n = int(n_series)
        if n < 0:  # (none yet is a state: a watch before its first series)
            raise ValueError(f"AnomalyLikelihood: the number of series must be >= 0, got "
                             f"{n_series}")
        self.state_ = {
            "n_series": n,
            "count": np.zeros(n, dtype=np.int64),
            "history": np.full((int(self.history_window), n), np.nan),
            "last_average": np.full(n, np.nan),
            "mean": np.full(n, np.nan),
            "std": np.full(n, np.nan),
        }
        return self

    def state_dict(self) -> dict[str, Any]:
        """Parameters and state as plain data (a copy)."""
        if self.state_ is None:
            raise ValueError("AnomalyLikelihood has no state yet: reset, update or transform "
                             "first")
        return {"params": self.get_params(), "state": copy_state(self.state_)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> Self:
        """Restore what :meth:`state_dict` returned (also after a JSON round trip)."""
        saved = from_json_safe(state_dict["params"])
        if saved != self.get_params():
            raise ValueError(f"likelihood state was saved with parameters {saved}, this "
                             f"calibrator has {self.get_params()}")
        self._check()
        self.state_ = from_json_safe(to_json_safe(state_dict["state"]))
        return self

    def _state_for(self, n_series: int) -> State:
        if self.state_ is None:
            self.reset(n_series)
        elif self.state_["n_series"] != n_series:
            raise ValueError(f"AnomalyLikelihood was set up for {self.state_['n_series']} "
                             f"series, got {n_series}; call reset() first")
        return self.state_

    # ------------------------------------------------------------ calibrate
    def update(self, row: Any, learn: Any = None) -> np.ndarray:
        """Calibrate one time step of scores, shape ``(n_series,)``, then learn it.

        Parameters
        ----------
        row : array-like
            One raw score per series (NaN where missing).
        learn : array-like of bool, optional
            Per series; where False the score is calibrated but not learned.

        Returns
        -------
        numpy.ndarray
            The calibrated values, shape ``(n_series,)``; NaN while a series
            is warming up and where the score is NaN.
        """
        x = np.asarray(row, dtype=np.float64).reshape(-1)
        state = self._state_for(x.size)
        return self._step(state, x, self._learn_mask(learn, x.shape))

    def transform(self, block: Any, learn: Any = None) -> np.ndarray:
        """:meth:`update` on every row of a ``(time, n_series)`` (or ``(time,)``) block.

        The rows are not looped over: the moving averages, the re-estimations
        the block's learned scores trigger, the tail probabilities and the
        red-zone filter are computed for the whole block at once (in pieces of
        about a million scores), in the same order of operations as
        :meth:`update`, so the outputs and the state afterwards are those of
        the row-by-row loop up to the last bit of the element-wise functions.

        Parameters
        ----------
        block : array-like
            Raw scores, ``(time, n_series)`` or ``(time,)`` for one series
            (NaN where missing).
        learn : array-like of bool, optional
            The block's shape (or broadcastable to it); where False a score is
            calibrated but not learned.

        Returns
        -------
        numpy.ndarray
            The calibrated values in the block's shape.
        """
        array = np.asarray(block, dtype=np.float64)
        if array.ndim not in (1, 2):
            raise ValueError(f"AnomalyLikelihood: expected a (time,) or (time, series) block, "
                             f"got shape {array.shape}")
        matrix = array if array.ndim == 2 else array[:, None]
        mask = self._learn_mask(learn, array.shape).reshape(matrix.shape)
        state = self._state_for(matrix.shape[1])
        out = np.empty(matrix.shape)
        rows = max(1, _BLOCK_ELEMENTS // matrix.shape[1])
        for start in range(0, matrix.shape[0], rows):
            stop = min(matrix.shape[0], start + rows)
            if stop - start == 1:
                out[start] = self._step(state, matrix[start], mask[start])
            else:
                out[start:stop] = self._block(state, matrix[start:stop], mask[start:stop])
        return out.reshape(array.shape)

    @staticmethod
    def _learn_mask(learn: Any, shape: tuple[int, ...]) -> np.ndarray:
        if learn is None:
            return np.ones(shape, dtype=bool)
        mask = np.asarray(learn)
        if mask.dtype != bool:
            raise TypeError(f"AnomalyLikelihood: learn must be booleans, got {mask.dtype}")
        if mask.shape != shape:
            try:
                mask = np.broadcast_to(mask, shape)
            except ValueError:
                raise ValueError(f"AnomalyLikelihood: learn has shape {mask.shape}, the "
                                 f"scores {shape}") from None
        return mask

    def _tail(self, average: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
        """The reference's Gaussian tail probability of ``average`` (NaN stays NaN)."""
        x = np.where(average < mean, 2.0 * mean - average, average) if self.two_sided \
            else average
        diff = x - mean
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(diff == 0.0, 0.0, diff / std)
        return _gaussian_tail(z)

    def _step(self, state: State, x: np.ndarray, learn: np.ndarray) -> np.ndarray:
        window = int(self.history_window)
        width = int(self.averaging_window)
        count = state["count"]
        history = state["history"]
        columns = np.arange(x.size)
        # Moving average: the last width - 1 learned scores, oldest first, then x.
        total = np.zeros(x.size)
        for back in range(width - 1, 0, -1):
            total = total + np.where(count >= back, history[(count - back) % window, columns],
                                     0.0)
        average = (total + x) / np.minimum(count + 1, width)

        tail = self._tail(average, state["mean"], state["std"])
        if self.suppress_red_zone:
            previous = self._tail(state["last_average"], state["mean"], state["std"])
            tail = np.where((tail <= RED_ZONE) & (previous <= RED_ZONE), YELLOW_ZONE, tail)
        with np.errstate(invalid="ignore"):
            out = np.maximum(log_scale(1.0 - tail), 0.0)  # one-sided q near 1: -4e-12
        out = np.where((count >= self.n_warmup) & ~np.isnan(x), out, np.nan)

        learned = learn & ~np.isnan(x)
        if learned.any():
            at = columns[learned]
            history[count[at] % window, at] = x[at]
            state["last_average"] = np.where(learned, average, state["last_average"])
            count = count + learned
            state["count"] = count
            period = int(self.reestimation_period)
            due = learned & (count >= self.n_warmup) & (
                (count == self.n_warmup) | (count % period == 0))
            if due.any():
                self._estimate(state, columns[due])
        return out

    def _n_due(self, count: np.ndarray) -> np.ndarray:
        """How many re-estimations a series has had once it learned ``count`` scores."""
        period = int(self.reestimation_period)
        warmup = self.n_warmup
        return np.where(count >= warmup, 1 + count // period - warmup // period, 0)

    def _window(self, count: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where the fits at learned counts ``count`` look in the history.

        Returns the history's length, the first average the fit uses and the
        first score that average needs, as positions in the history (oldest 0).
        """
        window = int(self.history_window)
        valid = np.minimum(count, window)
        skip = np.minimum(count, np.maximum(0, int(self.learning_period)
                                            - np.maximum(0, count - window)))
        first = np.maximum(0, skip - (int(self.averaging_window) - 1))
        return valid, skip, first

    def _block(self, state: State, x: np.ndarray, learn: np.ndarray) -> np.ndarray:
        """:meth:`_step` on every row of ``x`` (time, series), vectorised over time."""
        n_rows, n = x.shape
        window = int(self.history_window)
        width = int(self.averaging_window)
        count0 = state["count"]
        history = state["history"]
        missing = np.isnan(x)
        learned = learn & ~missing
        # The block's learned scores packed to the top of each column ("values"), for the
        # fits and the history.
        if learned.all():
            n_learned = np.full(n, n_rows, dtype=np.int64)
            values = x
        else:
            values, n_learned = np.empty((n_rows, n)), np.empty(n, dtype=np.int64)
            pack_learned(x, learned, values, n_learned)

        # The fits the block's learned scores trigger, then each row's z-score under the
        # Gaussian in force, in one compiled pass (likelihood_rows, _step's arithmetic).
        due0 = self._n_due(count0)
        n_fits = self._n_due(count0 + n_learned) - due0
        fit_mean, fit_std, offsets = np.zeros(0), np.zeros(0), np.zeros(n, dtype=np.int64)
        if n_fits.any():
            fit_mean, fit_std, offsets = self._fit_block(state, values, n_learned, n_fits, due0)
        z, z_last = np.empty((n_rows, n)), np.empty((n_rows, n))
        warm = np.empty((n_rows, n), dtype=bool)
        last_average = np.array(state["last_average"], dtype=np.float64)
        block_z(x, learned, history, count0, width, window, self.n_warmup,
                int(self.reestimation_period), bool(self.two_sided), state["mean"],
                state["std"], fit_mean, fit_std, offsets, due0, z, z_last, warm, last_average)

        tail = _gaussian_tail(z)
        if self.suppress_red_zone:
            t_at, s_at = np.nonzero(tail <= RED_ZONE)
            if t_at.size:
                repeated = _gaussian_tail(z_last[t_at, s_at]) <= RED_ZONE
                tail[t_at[repeated], s_at[repeated]] = YELLOW_ZONE
        with np.errstate(invalid="ignore"):
            out = np.maximum(log_scale(1.0 - tail), 0.0)  # one-sided q near 1: -4e-12
        out = np.where(warm & ~missing, out, np.nan)

        # The state the row-by-row loop would leave.
        self._write_history(state, values, n_learned)
        state["last_average"] = last_average
        state["count"] = count0 + n_learned
        if n_fits.any():
            last_fit = np.maximum(offsets + n_fits - 1, 0)
            state["mean"] = np.where(n_fits > 0, fit_mean[last_fit], state["mean"])
            state["std"] = np.where(n_fits > 0, fit_std[last_fit], state["std"])
        return out

    def _write_history(self, state: State, values: np.ndarray, n_learned: np.ndarray) -> None:
        """Append each column's first ``n_learned`` packed ``values`` to its history ring."""
        window = int(self.history_window)
        count0 = state["count"]
        history = state["history"]
        if (n_learned == n_learned[0]).all() and (count0 == count0[0]).all():
            index = np.arange(max(0, int(n_learned[0]) - window), int(n_learned[0]))
            history[(int(count0[0]) + index) % window] = values[index]
            return
        index = np.arange(values.shape[0])[:, None]
        keep = (index < n_learned) & (index >= n_learned - window)  # later ones overwrite
        q_at, s_at = np.nonzero(keep)
        history[(count0[s_at] + q_at) % window, s_at] = values[q_at, s_at]

    def _fit_block(self, state: State, values: np.ndarray, n_learned: np.ndarray,
                   n_fits: np.ndarray, due0: np.ndarray,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The fits the block's learned ``values`` trigger, series after series.

        Returns each fit's mean and std, and the index of each series' first fit.
        """
        window = int(self.history_window)
        width = int(self.averaging_window)
        period = int(self.reestimation_period)
        warmup = self.n_warmup
        n_rows = values.shape[0]
        count0 = state["count"]
        history = state["history"]
        offsets = np.cumsum(n_fits) - n_fits
        fit_series = np.repeat(np.arange(n_fits.size), n_fits)
        ordinal = np.arange(fit_series.size) - offsets[fit_series] + due0[fit_series] + 1
        count = np.where(ordinal == 1, warmup, (warmup // period + ordinal - 1) * period)
        valid, skip, first = self._window(count)
        start = count - valid  # the history's oldest score, as a learned count
        needed = start + first  # the oldest score a used average needs
        fit_mean = np.empty(fit_series.size)
        fit_std = np.empty(fit_series.size)
        series = np.flatnonzero(n_fits)
        depth = count0[series] - np.minimum.reduceat(needed, offsets[series])  # from history
        chunk = max(1, _CHUNK_ELEMENTS // (min(window, max(0, int(depth.max()))) + n_rows))
        for at in range(0, series.size, chunk):
            cols = series[at: at + chunk]
            # Each series' learned scores, the older ones from its history first: column j
            # holds the score learned at count count0 - held + j.
            held = max(0, int(depth[at: at + chunk].max()))
            scores = np.zeros((cols.size, held + n_rows))
            if held:
                learned_at = count0[cols][:, None] - held + np.arange(held)
                kept = learned_at >= np.maximum(0, count0[cols] - window)[:, None]
                scores[:, :held] = np.where(kept, history[learned_at % window, cols[:, None]],
                                            0.0)
            scores[:, held:] = values[:, cols].T
            full = _window_sums(scores, width) / width  # averages of width scores
            # each whole aligned segment's numbers, once for all the fits that cover it
            segment = int(likelihood_kernel.SEGMENT)
            origin = (held - count0[cols]) % segment  # column of learned index ≡ 0
            n_segments = max(0, (full.shape[1] - int(origin.min())) // segment)
            table = [np.empty((cols.size, n_segments)) for _ in range(4)]
            segment_table(full, origin, segment, *table)
            fits = np.arange(offsets[cols[0]], offsets[cols[-1]] + n_fits[cols[-1]])
            row = np.repeat(np.arange(cols.size), n_fits[cols])
            oldest = start[fits] - count0[fit_series[fits]] + held
            # Fits with the same history length and first used average: one array each.
            key = valid[fits] * (window + 1) + skip[fits]
            order = np.argsort(key, kind="stable")
            bounds = np.flatnonzero(np.diff(key[order])) + 1
            for group in np.split(order, bounds):
                n_valid, n_skip = int(valid[fits[group[0]]]), int(skip[fits[group[0]]])
                n_used = n_valid - n_skip
                if n_used <= 0:
                    fit_mean[fits[group]], fit_std[fits[group]] = 0.5, 1e3
                    continue
                step = max(1, _CHUNK_ELEMENTS // n_used)
                for piece in range(0, group.size, step):
                    members = group[piece: piece + step]
                    partial = min(width - 1, n_valid)
                    first = np.zeros((members.size, 0))
                    if n_skip < partial:  # the history's first averages hold fewer scores
                        head = _window_sums(sliding_window_view(scores, partial, axis=1)[
                            row[members], oldest[members]], width)
                        first = head[:, n_skip:] / np.arange(n_skip + 1, partial + 1)
                    mean, var = np.empty(members.size), np.empty(members.size)
                    window_moments(full, row[members], oldest[members] + n_skip,
                                   np.ascontiguousarray(first), n_used,
                                   start[fits[members]] + n_skip, origin, segment, *table,
                                   mean, var)
                    fit_mean[fits[members]], fit_std[fits[members]] = \
                        self._floored(mean, var)
        return fit_mean, fit_std, offsets

    def _estimate(self, state: State, columns: np.ndarray) -> None:
        """Fit the Gaussian of the moving averages in the history of ``columns``."""
        window = int(self.history_window)
        width = int(self.averaging_window)
        count = state["count"][columns]
        valid, skip, first = self._window(count)
        start = count - valid
        key = valid * (window + 1) + skip
        order = np.argsort(key, kind="stable")
        for group in np.split(order, np.flatnonzero(np.diff(key[order])) + 1):
            n_valid, n_skip, n_first = (int(valid[group[0]]), int(skip[group[0]]),
                                        int(first[group[0]]))
            if n_valid <= n_skip:  # the reference's "null distribution": everything is likely
                state["mean"][columns[group]], state["std"][columns[group]] = 0.5, 1e3
                continue
            rows = np.arange(n_first, n_valid)
            divisor = np.minimum(np.arange(n_skip, n_valid) + 1, width)
            step = max(1, _CHUNK_ELEMENTS // rows.size)
            for piece in range(0, group.size, step):
                members = group[piece: piece + step]
                cols = columns[members]
                scores = state["history"][(start[members][:, None] + rows) % window,
                                          cols[:, None]]
                averages = _window_sums(scores, width)[:, n_skip - n_first:] / divisor
                state["mean"][cols], state["std"][cols] = self._fit(averages,
                                                                    start[members] + n_skip)

    def _fit(self, averages: np.ndarray, first_index: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        """Floored mean and std of each row of ``averages`` (one fit a row; row ``r``'s
        first average has learned index ``first_index[r]``).

        The moments are combined from segments aligned on the learned index
        (:mod:`kizashi.decision.likelihood_kernel`): a fit depends only on its own
        row, never on how many rows are fitted at once, and the block path's fits,
        which read each whole segment once, give the same numbers.
        """
        mean, var = np.empty(averages.shape[0]), np.empty(averages.shape[0])
        row_moments(np.ascontiguousarray(averages, dtype=np.float64),
                    np.asarray(first_index, dtype=np.int64), int(likelihood_kernel.SEGMENT),
                    mean, var)
        return self._floored(mean, var)

    def _floored(self, mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The fitted mean and std, with ``min_mean`` and ``min_variance`` as floors."""
        mean = np.where(mean < self.min_mean, float(self.min_mean), mean)
        var = np.where(var < self.min_variance, float(self.min_variance), var)
        std = np.where(var > 0.0, np.sqrt(np.maximum(var, 0.0)), 0.0)
        return mean, std


def _gaussian_tail(z: np.ndarray) -> np.ndarray:
    """The reference's Gaussian tail probability of the z-scores ``z``."""
    from scipy.special import erfc

    return 0.5 * erfc(z / _SQRT2)


def _window_sums(scores: np.ndarray, width: int) -> np.ndarray:
    """Sums of the last ``width`` entries along each row of ``scores``, oldest first.

    The first ``width - 1`` entries of a row sum what there is. The order of
    the additions is the streaming one (0, then the oldest score, ... the
    newest), so a sum is the same number wherever it is computed.
    """
    total = np.zeros(scores.shape)
    length = scores.shape[1]
    for back in range(width - 1, -1, -1):
        if back < length:
            total[:, back:] += scores[:, :length - back]
    return total
