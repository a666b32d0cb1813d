"""Sequentially discounting AR (SDAR) learning, vectorised over series.

SDAR(k) (Takeuchi & Yamanishi, IEEE TKDE 18(4), 2006) learns an AR(k) model
whose statistics forget the past at rate ``r``::

    μ   ← (1 − r) μ   + r x_t
    C_j ← (1 − r) C_j + r (x_t − μ)(x_{t−j} − μ),    j = 0 … k
    ω   =  Yule–Walker solution of C (Levinson–Durbin)
    x̂_t =  μ + Σ_i ω_i (x_{t−i} − μ)
    σ²  ← (1 − r) σ²  + r (x_t − x̂_t)²

and scores each value by its log-loss ``−log p(x_t)`` under a Gaussian with
mean ``x̂`` and variance ``σ²``.

Two flavours share the code:

* ``compat=False`` (the paper): the score of ``x_t`` is the *predictive*
  log-loss under the model learnt from ``x_1 … x_{t−1}``; the first value
  sets μ and fills the AR history.
* ``compat=True`` reproduces the PyPI ``changefinder`` 0.3 package: the first
  ``k`` values only fill the history, ``C_k`` is never updated (so with
  ``k = 1`` the AR coefficient is always 0), and ``x_t`` is scored under the
  parameters already updated with ``x_t``.

:meth:`SDAR.step` advances every series by one value (NaN skips a series);
:meth:`SDAR.run` advances whole blocks of NaN-free values at once with IIR
filters along time and gives the same numbers as repeated ``step`` calls.

One wild value must not become the model's scale: with ``clip`` set, a value
further than ``clip`` σ from its prediction is winsorised to that distance
before it is scored and learnt (it scores as a ``clip``-σ outlier, its log-loss
is at most ``clip² / 2`` above the Gaussian's entropy). While a series is young
(before :attr:`SDAR.clip_from` values) σ is still rough and the prediction
unsettled, so from its third value on a value is only kept within
``WARM_UP_REACH · clip`` rough standard deviations of the mean (the variance
about μ, ``C_0``, over the weight it has gathered). Values are always learnt
within ±:data:`GUARD` and variances capped at the largest float, so that
nothing overflows even then; the very first value, which sets μ, has nothing to
be compared with.
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.state import State
from kizashi.streaming.robust import FLOAT_MAX, bounded

__all__ = ["SDAR", "levinson_durbin"]

_LOG_2PI = math.log(2.0 * math.pi)
#: Variances are floored at this fraction of (1 + μ²), so a constant series scores finitely.
VAR_FLOOR = 1e-12
#: Values are learnt within ±GUARD, so that their squares and products stay finite.
GUARD = 1e150
#: How many times further out than ``clip`` values are kept while a series is young.
WARM_UP_REACH = 10.0
#: Rows a block run filters at once before it checks for values to winsorise.
_CHUNK = 1024


def levinson_durbin(cov: np.ndarray, stop_at_nonpositive: bool = True) -> np.ndarray:
    """AR coefficients ``ω`` solving the Yule–Walker equations for autocovariances ``cov``.

    ``cov`` has shape ``(k + 1, ...)`` (lags 0 … k, then any batch shape); the
    result has shape ``(k, ...)`` and predicts ``x̂_t − μ = Σ ω_i (x_{t−i} − μ)``.
    A non-positive prediction error stops the recursion (later ω are 0) unless
    ``stop_at_nonpositive`` is False (the ``changefinder`` package goes on; only
    an exactly zero error stops it here).

    >>> levinson_durbin(np.array([2.0, 1.0, 0.5])).round(6).tolist()
    [0.5, 0.0]
    """
    k = cov.shape[0] - 1
    coef = np.zeros_like(cov[1:])
    err = cov[0].copy()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for m in range(1, k + 1):
            acc = cov[m].copy()
            for i in range(1, m):
                acc = acc - coef[i - 1] * cov[m - i]
            good = err > 0.0 if stop_at_nonpositive else err != 0.0
            kappa = np.where(good, acc / np.where(good, err, 1.0), 0.0)
            kappa = np.where(np.isfinite(kappa), kappa, 0.0)
            prev = coef.copy()
            for i in range(1, m):
                coef[i - 1] = prev[i - 1] - kappa * prev[m - i - 1]
            coef[m - 1] = kappa
            err = err * (1.0 - kappa * kappa)
    return coef


def _predict(mean: np.ndarray, coef: np.ndarray, lagged: list[np.ndarray]) -> np.ndarray:
    """``μ + Σ_i ω_i (x_{t−i} − μ)``, summed in a fixed order (identical in step and run)."""
    if not lagged:
        return mean.copy()
    acc = coef[0] * (lagged[0] - mean)
    for i in range(1, len(lagged)):
        acc = acc + coef[i] * (lagged[i] - mean)
    return mean + acc


def _floored(var: np.ndarray, mean: np.ndarray) -> np.ndarray:
    return np.maximum(var, VAR_FLOOR * (1.0 + mean * mean))


def _log_loss(x: np.ndarray, xhat: np.ndarray, var: np.ndarray, mean: np.ndarray) -> np.ndarray:
    v = _floored(var, mean)
    d = x - xhat
    return bounded(0.5 * (_LOG_2PI + np.log(v)) + d * d / (2.0 * v))


class SDAR:
    """SDAR(``order``) learning with discount ``r`` for many series at once.

    Parameters
    ----------
    order : int
        AR order ``k`` (at least 1).
    r : float
        Discount rate in (0, 1): the weight of the newest value.
    compat : bool
        Reproduce the ``changefinder`` package's departures from the paper.
    init_mean, init_var : float
        Starting μ and σ² in compat mode (the package draws them at random).
    clip : float or None
        Once a series has seen :attr:`clip_from` values, a value further than
        ``clip`` σ from its prediction is scored and learnt as if it were
        ``clip`` σ away (before, see :data:`WARM_UP_REACH`); ``None`` takes
        every value as it is.

    Examples
    --------
    >>> sdar = SDAR(order=1, r=0.5)
    >>> state = sdar.init(1)
    >>> for x in (0.0, 1.0, 0.0, 1.0):
    ...     score, valid = sdar.step(state, np.array([x]))
    >>> round(float(state["mean"][0]), 4), bool(valid[0]), round(float(score[0]), 4)
    (0.625, True, 0.6835)
    """

    def __init__(self, order: int, r: float, compat: bool = False,
                 init_mean: float = 0.0, init_var: float = 1.0, clip: float | None = None):
        self.order = int(order)
        self.r = float(r)
        self.compat = bool(compat)
        self.init_mean = float(init_mean)
        self.init_var = float(init_var)
        self.clip = None if clip is None else float(clip)

    @property
    def start(self) -> int:
        """Values a series needs before it gets its first score.

        The package scores from the ``order + 1``-th value. The paper does not
        say how to start; here the first ``ceil(1 / r)`` values only teach the
        model, because a log-loss under a variance learnt from a handful of
        values is arbitrarily large.
        """
        return self.order if self.compat else 1 + math.ceil(1.0 / self.r)

    @property
    def clip_from(self) -> int:
        """Values a series must have seen before ``clip`` applies: its σ must have
        been learnt from about ``1 / r`` values (in both modes)."""
        return max(self.start, 1 + math.ceil(1.0 / self.r))

    def _winsorised(self, x: np.ndarray, count: np.ndarray, predicted: np.ndarray,
                    mean: np.ndarray, cov0: np.ndarray, var: np.ndarray) -> np.ndarray:
        """``x`` as the model takes it, for series that have seen ``count`` values.

        Settled series (``count ≥ clip_from``): within ``predicted ± clip σ``. Young
        ones that have learnt at least one value after their first: within
        ``mean ± WARM_UP_REACH · clip · s``, ``s² = C_0 / (r · learnt)`` (``C_0``
        has gathered about ``r · learnt`` of its weight). Nothing changes without
        ``clip``.
        """
        if self.clip is None:
            return x
        learnt = count - (self.order if self.compat else 1)
        settled = count >= self.clip_from
        young = ~settled & (learnt >= 1)
        rough = cov0 / (self.r * np.maximum(learnt, 1))
        centre = np.where(settled, predicted, mean)
        reach = np.where(settled, self.clip * np.sqrt(_floored(var, mean)),
                         WARM_UP_REACH * self.clip * np.sqrt(_floored(rough, mean)))
        kept = np.minimum(np.maximum(x, centre - reach), centre + reach)
        return np.where(settled | young, kept, x)

    def init(self, n_series: int) -> State:
        k = self.order
        return {
            "mean": np.full(n_series, self.init_mean if self.compat else 0.0),
            "cov": np.zeros((k + 1, n_series)),
            "coef": np.zeros((k, n_series)),
            "var": np.full(n_series, self.init_var if self.compat else 0.0),
            "history": np.zeros((k, n_series)),  # most recent first
            "count": np.zeros(n_series, dtype=np.int64),
        }

    # ------------------------------------------------------------------ step
    def step(self, state: State, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score and learn one value per series.

        Returns the scores and a mask of the series that got one (observed and
        past the start); other entries of the score are NaN. Series whose ``x``
        is NaN are left untouched.
        """
        k, r = self.order, self.r
        keep = 1.0 - r
        ok = ~np.isnan(x)
        x = np.clip(x, -GUARD, GUARD)
        count = state["count"]
        history = state["history"]
        mean = state["mean"]
        if self.compat:
            active = ok & (count >= k)
        else:
            first = ok & (count == 0)
            mean = np.where(first, x, mean)
            history = np.where(first, x, history)
            active = ok & (count >= self.start)
        xs = np.where(ok, x, 0.0)
        lagged = [history[i] for i in range(k)]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            predicted = _predict(mean, state["coef"], lagged)
            xs = np.where(ok, self._winsorised(xs, count, predicted, mean, state["cov"][0],
                                               state["var"]), xs)
            if not self.compat:
                score = _log_loss(xs, predicted, state["var"], mean)
            new_mean = keep * mean + r * xs
            new_cov = np.empty_like(state["cov"])
            top = k if self.compat else k + 1
            for j in range(k + 1):
                if j < top:
                    dev = (xs - new_mean) * ((xs if j == 0 else lagged[j - 1]) - new_mean)
                    new_cov[j] = keep * state["cov"][j] + r * dev
                else:
                    new_cov[j] = state["cov"][j]
            new_coef = levinson_durbin(new_cov, not self.compat)
            xhat = _predict(new_mean, new_coef, lagged)
            d = xs - xhat
            new_var = np.minimum(keep * state["var"] + r * (d * d), FLOAT_MAX)
            if self.compat:
                score = _log_loss(xs, xhat, new_var, new_mean)
        learn = ok if not self.compat else active
        state["mean"] = np.where(learn, new_mean, state["mean"])
        state["cov"] = np.where(learn, new_cov, state["cov"])
        state["coef"] = np.where(learn, new_coef, state["coef"])
        state["var"] = np.where(learn, new_var, state["var"])
        if k:
            shifted = np.concatenate([xs[None], history[:-1]], axis=0)
            state["history"] = np.where(ok, shifted, state["history"])
        state["count"] = count + ok
        return np.where(active, score, np.nan), active

    # ------------------------------------------------------------------- run
    def run(self, state: State, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score and learn a block ``(time, series)`` of NaN-free values at once.

        Equals calling :meth:`step` on each row (the recursions run as IIR
        filters along time) and returns the same scores and validity mask.
        """
        n_time = values.shape[0]
        scores = np.full(values.shape, np.nan)
        valid = np.zeros(values.shape, dtype=bool)
        i = 0
        while i < n_time and np.any(state["count"] < (self.order if self.compat else 1)):
            scores[i], valid[i] = self.step(state, values[i])
            i += 1
        if i < n_time:
            before = state["count"][None] + np.arange(n_time - i)[:, None]
            valid[i:] = before >= self.start
            scores[i:] = np.where(valid[i:], self._run_learnt(state, values[i:]), np.nan)
        return scores, valid

    def _run_learnt(self, state: State, values: np.ndarray) -> np.ndarray:
        """Blocks of the IIR run; a row with a value to winsorise (or beyond ±GUARD),
        which the linear filters cannot do, goes through :meth:`step` instead."""
        if self.clip is None and not np.any(np.abs(values) > GUARD):
            return self._filter(state, values)[0]
        out = []
        at = 0
        while at < values.shape[0]:
            block = values[at: at + _CHUNK]
            trial = {key: value.copy() for key, value in state.items()}
            scores, wild = self._filter(trial, block)
            if not wild.any():
                state.update(trial)
                out.append(scores)
                at += block.shape[0]
                continue
            first = int(np.argmax(wild))
            if first:
                out.append(self._filter(state, block[:first])[0])
            out.append(self.step(state, block[first])[0][None])
            at += first + 1
        return np.concatenate(out, axis=0)

    def _filter(self, state: State, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores of the IIR run, and which rows hold a value that needed winsorising."""
        from scipy.signal import lfilter

        k, r = self.order, self.r
        keep = 1.0 - r
        a = np.array([1.0, -keep])
        b = np.array([r])

        def discount(seq: np.ndarray, previous: np.ndarray) -> np.ndarray:
            return lfilter(b, a, seq, axis=0, zi=(keep * previous)[None])[0]

        x = values
        n_time = x.shape[0]
        extended = np.concatenate([state["history"][::-1], x], axis=0)
        lagged = [extended[k - i: k - i + n_time] for i in range(1, k + 1)]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            mean = discount(x, state["mean"])
            top = k if self.compat else k + 1
            cov = np.empty((k + 1, *x.shape))
            for j in range(k + 1):
                if j < top:
                    dev = (x - mean) * ((x if j == 0 else lagged[j - 1]) - mean)
                    cov[j] = discount(dev, state["cov"][j])
                else:
                    cov[j] = state["cov"][j][None]
            coef = levinson_durbin(cov, not self.compat)
            xhat = _predict(mean, coef, lagged)
            d = x - xhat
            var = np.minimum(discount(d * d, state["var"]), FLOAT_MAX)
            mean_prev = np.concatenate([state["mean"][None], mean[:-1]], axis=0)
            var_prev = np.concatenate([state["var"][None], var[:-1]], axis=0)
            cov0_prev = np.concatenate([state["cov"][0][None], cov[0][:-1]], axis=0)
            coef_prev = np.concatenate([state["coef"][:, None], coef[:, :-1]], axis=1)
            predicted = _predict(mean_prev, coef_prev, lagged)
            if self.compat:
                score = _log_loss(x, xhat, var, mean)
            else:
                score = _log_loss(x, predicted, var_prev, mean_prev)
            wild = np.abs(x) > GUARD
            if self.clip is not None:
                seen = state["count"][None] + np.arange(n_time)[:, None]
                kept = self._winsorised(x, seen, predicted, mean_prev, cov0_prev, var_prev)
                wild |= kept != x
        state["mean"] = mean[-1].copy()
        state["cov"] = cov[:, -1].copy()
        state["coef"] = coef[:, -1].copy()
        state["var"] = var[-1].copy()
        state["history"] = extended[::-1][:k].copy()
        state["count"] = state["count"] + n_time
        return score, wild.any(axis=1)
