"""Forecasts with realised-error bands, and the chance that a series crosses a limit soon.

For every series and step ``t``, four small forecasters extrapolate the recent
past ``h = 1 … H`` steps ahead (``H`` = the horizon):

``linear`` / ``linear_long``
    a least-squares line over the last ``window`` (``2·window``) steps;
``quadratic``
    a parabola over the last ``window`` steps — growth that accelerates
    (a filesystem filling faster and faster);
``seasonal``
    the change from now to ``h`` ahead as on each of the last 3 days at the same
    time of day, plus the drift of the difference from that day (the recent
    line's slope now minus then); the median of the 3: a daily rhythm (a scratch
    area cleaned every night, log rotation, a cooling cycle) repeats instead of
    being extrapolated, while a leak still shows as a drift, from its first day on.

Each forecaster's *realised* errors — what it forecast ``H`` steps (and 1
step) ago against what came — are averaged over the last ``error_window``
steps. At each step the forecaster with the smallest realised ``H``-step
error is used, and its realised error sets the band: the standard deviation
``h`` steps ahead is ``√(e₁² + (e_H² − e₁²)·h/H)``. So a series whose
wanderings fooled the extrapolation before gets a wide band, and a clean
trend a narrow one. With ``bias_window``, the forecast is also shifted by
the chosen forecaster's recent mean error. A series is *learning* (no margin) until every
forecaster has ``min_errors`` realised errors: with the seasonal one, a day
plus ``window``, the horizon and ``min_errors`` steps. Everything at row
``t`` uses rows ``≤ t`` only.

The chance of crossing is summarised by the *margin* ``z = max_h (f(h) − L) / sd(h)``
(``Φ(z)`` is the largest chance that any one future step is over the limit);
:mod:`kizashi.prediction.calibration` maps it to a calibrated probability.

>>> import numpy as np
>>> t = np.arange(600.0)
>>> rising = 10 + 0.1 * t + np.random.default_rng(0).normal(0, 0.2, 600)
>>> out = LimitForecaster(horizon_steps=60, window=48, error_window=96).crossing(
...     rising[:, None], upper=np.array([70.0]))
>>> int(round(out.eta_steps[580, 0]))  # 10 + 0.1·580 = 68: 70 in 20 steps
20
>>> bool(out.z[300, 0] < -3), bool(out.z[560, 0] > 3)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kizashi.prediction.local_fit import (
    fill_forward,
    recent_mean,
    rolling_polyfit,
    trailing_mean,
)

__all__ = ["MAX_MARGIN", "MODELS", "Crossing", "LimitForecaster", "bounded_margin", "failing_now",
           "first_near_min"]

#: The forecasters, in the order of :attr:`Crossing.model`.
MODELS = ("linear", "linear_long", "quadratic", "seasonal", "median")
#: The seasonal forecaster takes the median change of this many past days.
SEASON_DAYS = 3
#: A forecaster's recent errors count against it beyond this many times the best one's
#: (mean squared errors; see failing_now).
RECENT_FACTOR = 2.0
#: Margins (in forecast standard deviations) are kept within ±MAX_MARGIN: a limit near the
#: float limit (1e308) overflows the division to ±inf, which means "no limit" (NaN) below.
MAX_MARGIN = 1e300
#: At most this many steps ahead are checked (see horizon_grid).
MAX_HORIZONS = 72


@dataclass(frozen=True, eq=False)
class Crossing:
    """Per step and series: the margin ``z`` (NaN while learning), the steps until
    the forecast reaches the limit (NaN when not within the horizon), the
    forecaster used (index into :data:`MODELS`, −1 while learning), and the
    forecast with its standard deviation at the horizon."""

    z: np.ndarray
    eta_steps: np.ndarray
    model: np.ndarray
    forecast: np.ndarray
    sd: np.ndarray

    @property
    def ready(self) -> np.ndarray:
        return self.model >= 0


@dataclass
class LimitForecaster:
    """Forecast every series ``horizon_steps`` ahead and measure how close it comes to a limit.

    Parameters
    ----------
    horizon_steps : int
        ``H``: how far ahead, in steps.
    window : int
        Steps in the trend fits (the long line uses twice as many).
    season_steps : int or None
        Steps in a day (the seasonal forecaster's period); None turns it off.
        It needs ``season_steps ≥ horizon_steps``.
    error_window : int
        Steps over which realised errors are averaged.
    min_errors : int or None
        Realised ``H``-step errors a forecaster needs before it is used
        (default: a quarter of ``error_window``).
    bias_window : int or None
        When set, the chosen forecaster's mean ``H``-step error over the last
        ``bias_window`` steps is added to its forecast (scaled by ``h/H``):
        one that has been falling short of a steepening trend is raised, one
        that overshot a rise that stopped is lowered.
    recent_horizon : int or None
        ``h_r``: when set, a forecaster is also judged on its *recent* errors
        ``h_r`` steps ahead (the forecasts made ``h_r`` steps ago against what came):
        their mean square over the last ``recent_window`` steps (default ``h_r``),
        against the variance its own band gives ``h_r`` steps ahead
        (``e₁² + (e_H² − e₁²)·h_r/H``). Where it is larger, the forecaster's
        ``H``-step record is multiplied by the ratio for the choice (see
        :func:`failing_now`). The ``H``-step record only shows a change ``H`` steps
        after it began, so a series that sat flat for days and then rises fast kept a
        flat forecaster for a whole horizon; now a forecaster failing *now* loses the
        choice within ``h_r`` steps, while after a jump, which every forecaster
        misses alike, the records still decide. The recent errors can only count
        against a forecaster, never for it; the band stays its record's.
    recent_window : int or None
        Steps of recent ``h_r``-step errors averaged (at least half must be there).
    """

    horizon_steps: int
    window: int = 144
    season_steps: int | None = None
    error_window: int = 288
    min_errors: int | None = None
    bias_window: int | None = None
    candidates: tuple[str, ...] = MODELS
    recent_horizon: int | None = None
    recent_window: int | None = None

    @property
    def min_rows(self) -> int:
        """Rows before a first forecast can be checked against what came (``window``
        rows for the first fit, then ``horizon_steps``): with fewer, every row is learning.

        >>> LimitForecaster(horizon_steps=72, window=72).min_rows
        144
        """
        return int(self.window) + int(self.horizon_steps)

    def _check(self) -> None:
        if self.horizon_steps < 1 or self.window < 4 or self.error_window < 2:
            raise ValueError("need horizon_steps ≥ 1, window ≥ 4 and error_window ≥ 2")
        if self.season_steps is not None and self.season_steps < self.horizon_steps:
            raise ValueError("the seasonal forecaster needs a day of at least horizon_steps")
        if self.recent_horizon is not None and not 1 <= self.recent_horizon <= self.horizon_steps:
            raise ValueError("recent_horizon must be between 1 and horizon_steps")

    def crossing(self, values: np.ndarray, upper: np.ndarray | None = None,
                 lower: np.ndarray | None = None) -> Crossing:
        """Margins and ETAs of ``values`` ``(T, S)`` against ``upper`` (and ``lower``)
        limits: each ``(S,)`` or ``(T, S)``, NaN where a series has none.

        With both, the margin is the larger of going over ``upper`` and under ``lower``.
        """
        self._check()
        if np.shape(values)[0] < self.min_rows:  # all learning: skip fits of huge windows
            empty = np.full(np.shape(values), np.nan)
            return Crossing(empty, empty.copy(), np.full(empty.shape, -1), empty.copy(),
                            empty.copy())
        y, seen = fill_forward(values)
        n, k = y.shape
        big_h = self.horizon_steps
        paths = _Paths(y, self.window, self.season_steps)
        # realised errors of each forecaster at horizons 1 and H, and their trailing MSEs
        mse = {}
        for h in (1, big_h):
            errors = np.full((n, len(MODELS), k), np.nan)  # time first, for trailing_mean
            for m in range(len(MODELS)):
                errors[h:, m] = y[h:] - paths.forecast(m, h)[:-h]
            errors[~np.broadcast_to(seen[:, None, :], errors.shape)] = np.nan
            mse[h], count = trailing_mean(errors ** 2, self.error_window)
            if h == big_h:
                needed = self.min_errors or max(self.error_window // 4, 1)
                usable = (count >= needed) & np.isfinite(mse[h])
                choice_mse = np.where(usable, mse[h], np.inf)  # before the bias (below)
            if h == big_h and self.bias_window:
                # the mean signed error of the last bias_window steps: a forecaster that has
                # been falling short (a trend steepening) is raised, and its band is the
                # spread of its errors around that bias
                bias, bias_count = trailing_mean(errors, self.bias_window)
                bias = np.where(bias_count >= max(self.bias_window // 4, 1), bias, 0.0)
                mse[h] = np.maximum(mse[h] - bias ** 2, 0.0) if self.bias_window == \
                    self.error_window else mse[h]
        allowed = np.isin(np.array(MODELS), self.candidates)
        choice_mse = np.where(allowed[None, :, None], choice_mse, np.inf)
        if self.recent_horizon:
            choice_mse = failing_now(choice_mse, self._recent_errors(y, seen, paths),
                                     big_h / self.recent_horizon, axis=1)
        model = first_near_min(choice_mse, y, axis=1)
        # learning until every forecaster has a record (a daily rhythm needs a day first)
        enabled = [m for m in range(len(MODELS)) if paths.enabled(m)]
        ready = usable[:, enabled].all(axis=1)
        model = np.where(ready, model, -1)
        pick = np.maximum(model, 0)[:, None, :]
        e1 = np.take_along_axis(mse[1], pick, axis=1)[:, 0]
        e_h = np.take_along_axis(mse[big_h], pick, axis=1)[:, 0]
        shift = np.take_along_axis(bias, pick, axis=1)[:, 0] if self.bias_window else 0.0
        upper_t = _limits(upper, n, k)
        lower_t = _limits(lower, n, k)
        z = np.full((n, k), -np.inf)
        eta = np.full((n, k), np.nan)
        forecast = np.full((n, k), np.nan)
        sd = np.full((n, k), np.nan)
        with np.errstate(invalid="ignore", over="ignore"):  # a limit near 1e308: bounded
            floor = 1e-9 + 1e-6 * np.nan_to_num(np.abs(y))
            for h in horizon_grid(big_h):
                f = np.take_along_axis(paths.stack(h), pick, axis=1)[:, 0] + shift * h / big_h
                sd_h = np.sqrt(np.maximum(e1 + np.maximum(e_h - e1, 0.0) * h / big_h, 0.0))
                sd_h = np.maximum(sd_h, floor)
                for limit, sign in ((upper_t, 1.0), (lower_t, -1.0)):
                    if limit is None:
                        continue
                    margin = bounded_margin(sign * (f - limit) / sd_h)
                    z = np.fmax(z, margin)
                    reached = (sign * (f - limit) >= 0) & np.isnan(eta)
                    eta[reached] = h
                if h == big_h:
                    forecast, sd = f, sd_h
        nothing = ready & np.isinf(z)  # no limit at all
        z[~ready | nothing] = np.nan
        eta[~ready] = np.nan
        forecast[~ready] = np.nan
        sd[~ready] = np.nan
        return Crossing(z, eta, model, forecast, sd)


    @property
    def recent_steps(self) -> int:
        """Steps of recent errors averaged (see ``recent_window``)."""
        return int(self.recent_window or self.recent_horizon or 1)

    def _recent_errors(self, y: np.ndarray, seen: np.ndarray, paths: _Paths) -> np.ndarray:
        """``(T, models, S)``: each forecaster's mean squared ``h_r``-step error over the
        last ``recent_window`` steps (0 with fewer than half of them)."""
        h = int(self.recent_horizon or 1)
        n, k = y.shape
        errors = np.full((n, len(MODELS), k), np.nan)
        for m in range(len(MODELS)):
            errors[h:, m] = y[h:] - paths.forecast(m, h)[:-h]
        errors[~np.broadcast_to(seen[:, None, :], errors.shape)] = np.nan
        window = self.recent_steps
        mean, count = recent_mean(errors ** 2, window)
        enough = (count >= max(window // 2, 1)) & np.isfinite(mean)
        return np.where(enough, mean, 0.0)


def failing_now(record: np.ndarray, recent: np.ndarray, scale: float, axis: int,
                factor: float = RECENT_FACTOR) -> np.ndarray:
    """The ``H``-step ``record`` of each forecaster (mean squared errors along ``axis``;
    ``inf`` where one is not used) plus ``scale`` times how far its ``recent`` mean squared
    error exceeds ``factor`` times the smallest recent one among those used.

    Forecasters that all missed alike (a jump) keep their records; one that missed by far
    more than the best did lately (a flat forecaster as a series starts to run away)
    loses the choice.

    >>> record = np.array([0.04, 1.4])
    >>> failing_now(record, np.array([100.0, 90.0]), 6.0, axis=0).tolist()  # missed alike
    [0.04, 1.4]
    >>> failing_now(record, np.array([100.0, 4.0]), 6.0, axis=0).tolist()  # 6·(100 − 2·4)
    [552.04, 1.4]
    """
    used = np.isfinite(record)
    best = np.min(np.where(used, recent, np.inf), axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):
        excess = np.maximum(recent - factor * best, 0.0)
    return np.where(used, record + scale * np.where(np.isfinite(excess), excess, 0.0), record)


def first_near_min(errors: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    """The index of the first forecaster whose error is the smallest up to rounding.

    Forecasters that agree (on a flat series, or on a series' constant past)
    have errors that differ only by rounding; taking the first of those makes
    the choice the same however the errors were summed (batch or step by step).
    ``y`` (the series' values, without the forecaster axis) sets the scale.

    >>> first_near_min(np.array([[3e-30], [0.0], [2.0]]), np.array([30.0]), axis=0).tolist()
    [0]
    >>> first_near_min(np.array([[1.0], [0.5], [0.5]]), np.array([30.0]), axis=0).tolist()
    [1]
    """
    best = np.min(errors, axis=axis, keepdims=True)
    scale = np.expand_dims(1.0 + np.nan_to_num(np.asarray(y, dtype=np.float64)) ** 2, axis)
    with np.errstate(invalid="ignore"):
        near = errors <= best + 1e-9 * np.abs(best) + 1e-20 * scale
    return np.argmax(near, axis=axis)


def horizon_grid(horizon_steps: int, most: int = MAX_HORIZONS) -> np.ndarray:
    """The steps ahead at which the path is checked: every one up to ``most``, else
    ``most`` evenly spread ones ending at the horizon (fine-grained data stays fast; the
    ETA is then as fine as the grid).

    >>> horizon_grid(5).tolist(), horizon_grid(360, most=4).tolist()
    ([1, 2, 3, 4, 5], [1, 121, 240, 360])
    """
    if horizon_steps <= most:
        return np.arange(1, horizon_steps + 1)
    return np.unique(np.round(np.linspace(1, horizon_steps, most)).astype(int))


def _limits(limit: np.ndarray | None, n: int, k: int) -> np.ndarray | None:
    if limit is None:
        return None
    array = np.asarray(limit, dtype=np.float64)
    return np.broadcast_to(array if array.ndim == 2 else array[None, :], (n, k))


def nan_median(stack: np.ndarray) -> np.ndarray:
    """The median over axis 0 (of at most 4) of the finite values (NaN where there is none).

    >>> nan_median(np.array([[1.0, np.nan, 5.0], [3.0, np.nan, np.nan], [2.0, np.nan, 7.0]]))
    array([ 2., nan,  6.])
    """
    if stack.shape[0] > 4:
        raise ValueError("nan_median takes at most 4 values per position")
    finite = np.isfinite(stack)
    count = finite.sum(axis=0)
    total = np.where(finite, stack, 0.0).sum(axis=0)
    high = np.where(finite, stack, -np.inf).max(axis=0)
    low = np.where(finite, stack, np.inf).min(axis=0)
    with np.errstate(invalid="ignore"):
        middle = total - high - low  # the middle one of 3, the middle two of 4
        return np.select([count == 4, count == 3, count == 2, count == 1],
                         [middle / 2, middle, total / 2, total], np.nan)


class _Paths:
    """Every forecaster's value ``h`` steps after each row, from rows ``≤ t`` only."""

    def __init__(self, y: np.ndarray, window: int, season: int | None):
        self.y = y
        self.season = season
        self._cache: dict[int, np.ndarray] = {}
        self.fits = [rolling_polyfit(y, window, 1), rolling_polyfit(y, 2 * window, 1),
                     rolling_polyfit(y, window, 2)]
        #: the slope of the line over the last ``window`` steps (the seasonal drifts)
        self.slope = self.fits[0][..., 1]

    def enabled(self, m: int) -> bool:
        return m != 3 or self.season is not None

    def forecast(self, m: int, h: int) -> np.ndarray:
        if h not in self._cache:
            self._cache = {h: self.stack(h)}  # one horizon at a time is all callers need
        return self._cache[h][:, m]

    def _forecast(self, m: int, h: int) -> np.ndarray:
        if m < 3:
            c = self.fits[m]
            out = c[..., 0] + c[..., 1] * h
            return out + c[..., 2] * h * h if c.shape[-1] == 3 else out
        out = np.full(self.y.shape, np.nan)
        if self.season is None:
            return out
        # for each of the last SEASON_DAYS days: the change from now to h ahead as on that
        # day at this time, plus the drift of the difference from that day (the slope now
        # minus the slope then, so a leak that already ran then is not counted twice and
        # one that started since is); the median of the days (a one-off jump is not replayed)
        n, period = self.y.shape[0], self.season
        changes = np.full((SEASON_DAYS, *self.y.shape), np.nan)
        for k in range(1, SEASON_DAYS + 1):
            lag = k * period - h  # y(t + h − k·P) is row t − lag, y(t − k·P) row t − k·P
            if lag < 0 or k * period >= n:
                break
            drift = self.slope[k * period:] - self.slope[: n - k * period]
            changes[k - 1, k * period:] = (self.y[k * period - lag: n - lag]
                                           - self.y[: n - k * period] + drift * h)
        return self.y + nan_median(changes)

    def stack(self, h: int) -> np.ndarray:
        """``(T, models, S)``: every forecaster, then the median of them (NaN left out)."""
        if h in self._cache:
            return self._cache[h]
        each = np.stack([self._forecast(m, h) for m in range(4)])
        return np.stack([*each, nan_median(each)], axis=1)


def bounded_margin(margin: np.ndarray) -> np.ndarray:
    """``margin`` within ±:data:`MAX_MARGIN` (NaN stays NaN): a limit out of any reach is a
    very large negative margin (probability 0), not the ``-inf`` of a series without one.

    >>> bounded_margin(np.array([-np.inf, 2.5, np.inf, np.nan])).tolist()
    [-1e+300, 2.5, 1e+300, nan]
    """
    return np.clip(margin, -MAX_MARGIN, MAX_MARGIN)
