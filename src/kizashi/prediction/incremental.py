"""The limit forecaster one step at a time: :class:`LimitForecaster`'s answers, without re-fitting.

:meth:`LimitForecaster.crossing` computes every step of a whole series at
once. A daemon gets one new step per series per tick; re-running the batch
forecaster over the stored history each tick costs the whole history every
time. :class:`IncrementalForecaster` keeps, per series, only what the next
step needs, as plain arrays (:meth:`~IncrementalForecaster.fresh`):

* ``hist`` — a ring of the last values (as far back as any forecaster looks:
  the long line's window, three days and a fit window for the seasonal forecaster);
* ``f1``, ``fH`` — each forecaster's forecast 1 step ahead made at the last
  step, and ``H`` steps ahead made at each of the last ``H`` steps (a ring):
  what the realised errors are measured against;
* ``err`` — a ring of the realised errors, and their running sums and counts
  over the error window (and the bias window), refreshed from the ring once
  per turn of it so that rounding cannot pile up.

A step then costs the fits over the windows (a matrix product with the
least-squares taps of :func:`~kizashi.prediction.local_fit.polyfit_filters`),
the forecasts on the horizon grid and a few running sums: a fixed amount of
work per series, whatever the length of the history, vectorised over series.
Its answers are the batch forecaster's up to rounding (the tests compare both
on generated scenarios, and a state cut anywhere and restored goes on bit for
bit).

A series not yet observed is left out (NaN) until its first value; its
history before that is taken to be that first value, as
:func:`~kizashi.prediction.local_fit.fill_forward` does in the batch.

>>> import numpy as np
>>> forecaster = LimitForecaster(horizon_steps=60, window=48, error_window=96)
>>> t = np.arange(600.0)
>>> rising = 10 + 0.1 * t + np.random.default_rng(0).normal(0, 0.2, 600)
>>> live = IncrementalForecaster(forecaster)
>>> state = live.fresh(1)
>>> steps = [live.step(state, np.array([v]), np.array([70.0]), np.array([np.nan]))
...          for v in rising]
>>> whole = forecaster.crossing(rising[:, None], upper=np.array([70.0]))
>>> int(steps[580].eta_steps[0]), int(whole.eta_steps[580, 0])
(20, 20)
>>> bool(np.isclose(steps[-1].z[0], whole.z[-1, 0]))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kizashi.prediction.limit_forecaster import (
    MODELS,
    SEASON_DAYS,
    Crossing,
    LimitForecaster,
    bounded_margin,
    failing_now,
    first_near_min,
    horizon_grid,
    nan_median,
)
from kizashi.prediction.local_fit import polyfit_filters

__all__ = ["IncrementalForecaster", "StepCrossing"]

_N_MODELS = len(MODELS)
_SEASONAL = MODELS.index("seasonal")


@dataclass(frozen=True, eq=False)
class StepCrossing(Crossing):
    """One step's answer per series: a :class:`~kizashi.prediction.limit_forecaster.Crossing`
    (margin ``z``, ``eta_steps``, ``model`` (−1 while learning), the forecast and its
    standard deviation at the horizon) with the whole chosen path on the horizon grid
    (``path``, ``path_sd``: ``(len(grid), series)``)."""

    path: np.ndarray
    path_sd: np.ndarray


class IncrementalForecaster:
    """:class:`LimitForecaster` fed one step at a time (see the module docs).

    The state (:meth:`fresh`) is a dict of arrays, each with the series on its
    last axis except ``row`` (the steps seen, shared by all series).
    """

    def __init__(self, forecaster: LimitForecaster):
        forecaster._check()
        self.forecaster = forecaster
        f = forecaster
        self.horizon = int(f.horizon_steps)
        self.window = int(f.window)
        self.season = None if f.season_steps is None else int(f.season_steps)
        self.grid = horizon_grid(self.horizon)
        #: the recent errors' horizon and window (see LimitForecaster.recent_horizon)
        self.recent = int(f.recent_horizon or 0)
        self.recent_window = f.recent_steps
        self._ends = np.array([1, self.horizon, max(self.recent, 1)])
        self.error_window = int(f.error_window)
        self.bias_window = int(f.bias_window) if f.bias_window else 0
        self.ring = max(self.error_window, self.bias_window)
        self.needed = f.min_errors or max(self.error_window // 4, 1)
        reach = 2 * self.window
        if self.season is not None:
            # the seasonal drifts need the line's slope SEASON_DAYS days ago
            reach = max(reach, SEASON_DAYS * self.season + self.window)
        self.history = reach + 1
        self.taps_line = polyfit_filters(self.window, 1)
        self.taps_long = polyfit_filters(2 * self.window, 1)
        self.taps_quad = polyfit_filters(self.window, 2)
        self.allowed = np.isin(np.array(MODELS), f.candidates)
        self.enabled = np.array([m != _SEASONAL or self.season is not None
                                 for m in range(_N_MODELS)])
        #: the first row at which each forecaster (median aside) has a forecast
        self.starts = np.array([self.window - 1, 2 * self.window - 1, self.window - 1,
                                np.inf if self.season is None else self.season + self.window - 1])

    def fresh(self, n_series: int) -> dict[str, Any]:
        """The state of ``n_series`` series that have seen nothing."""
        s, m = int(n_series), _N_MODELS
        return {"n_series": s, "row": np.zeros(1, dtype=np.int64),
                "seen": np.zeros(s, dtype=bool), "last": np.full(s, np.nan),
                "hist": np.full((self.history, s), np.nan),
                "f1": np.full((m, s), np.nan), "fH": np.full((self.horizon, m, s), np.nan),
                "err": np.full((self.ring, 2, m, s), np.nan),
                "sq_sum": np.zeros((2, m, s)), "sq_count": np.zeros((2, m, s)),
                "bias_sum": np.zeros((m, s)), "bias_count": np.zeros((m, s)),
                "fR": np.full((max(self.recent, 1), m, s), np.nan),
                "errR": np.full((self.recent_window, m, s), np.nan)}

    def relay(self, hist: np.ndarray, rows_seen: int) -> np.ndarray:
        """A ``hist`` ring saved with another length, laid into this one's (rows it did not
        keep are NaN: a seasonal day needing them is left out until they are seen)."""
        hist = np.asarray(hist, dtype=np.float64)
        out = np.full((self.history, hist.shape[1]), np.nan)
        back = np.arange(min(hist.shape[0], self.history, rows_seen))
        out[(rows_seen - 1 - back) % self.history] = hist[(rows_seen - 1 - back) % hist.shape[0]]
        return out

    # ----------------------------------------------------------------- one step
    def step(self, state: dict[str, Any], values: np.ndarray, upper: np.ndarray,
             lower: np.ndarray) -> StepCrossing:
        """Learn one new value per series (NaN: missing) and measure its margin against
        ``upper`` and ``lower`` (NaN where a series has none); ``state`` changes in place."""
        t = int(state["row"][0])
        y = np.asarray(values, dtype=np.float64)
        seen = np.isfinite(y)
        first = seen & ~state["seen"]
        if first.any():
            self._first_sight(state, first, y[first], t)
        filled = np.where(seen, y, state["last"])
        state["last"] = filled
        hist = state["hist"]
        hist[t % self.history] = filled
        coefs = self._coefs(hist, filled, t)
        ends = self._paths(coefs, hist, filled, t, self._ends, np.arange(filled.size))
        self._record_errors(state, filled, seen, t)
        state["f1"] = ends[0].copy()
        state["fH"][t % self.horizon] = ends[1]
        if self.recent:
            state["fR"][t % self.recent] = ends[2]
        state["row"][0] = t + 1
        return self._crossing(state, coefs, hist, filled, t, upper, lower)

    def _first_sight(self, state: dict[str, Any], first: np.ndarray, value: np.ndarray,
                     t: int) -> None:
        """A series' first value: its past is that value, and so are the forecasts made
        from that past (a constant series forecasts itself), where a forecaster had one."""
        state["hist"][:, first] = value
        state["seen"] = state["seen"] | first

        def past(row: int) -> np.ndarray:        # (models, first): the constant or NaN
            out = np.where((row >= self.starts)[:, None], value[None, :], np.nan)
            some = np.isfinite(out).any(axis=0)
            return np.vstack([out, np.where(some, value, np.nan)[None, :]])

        if t >= 1:
            state["f1"][:, first] = past(t - 1)
        for row in range(max(t - self.horizon, 0), t):
            state["fH"][row % self.horizon][:, first] = past(row)
        for row in range(max(t - self.recent, 0), t):
            state["fR"][row % self.recent][:, first] = past(row)

    def _lags(self, t: int, lags: np.ndarray) -> np.ndarray:
        return (t - lags) % self.history

    def _coefs(self, hist: np.ndarray, y: np.ndarray, t: int) -> dict[str, Any]:
        """The fits at row ``t``: the lines, the parabola and the day-over-day drift (None
        before a forecaster has its window)."""
        w = self.window
        out: dict[str, Any] = {"line": None, "long": None, "quad": None, "drift": None}
        if t < w - 1:
            return out
        recent = hist[self._lags(t, np.arange(w))]
        out["line"] = _apply(self.taps_line, recent)
        out["quad"] = _apply(self.taps_quad, recent)
        if t >= 2 * w - 1:
            out["long"] = _apply(self.taps_long, hist[self._lags(t, np.arange(2 * w))])
        if self.season is not None and t >= self.season + w - 1:
            diff = recent - hist[self._lags(t, self.season + np.arange(w))]
            out["drift"] = _apply(self.taps_line[1:], diff)[0]
        return out

    def _paths(self, coefs: dict[str, Any], hist: np.ndarray, y: np.ndarray, t: int,
               steps: np.ndarray, columns: np.ndarray,
               models: tuple[int, ...] = tuple(range(_N_MODELS))) -> np.ndarray:
        """``(len(steps), models, len(columns))``: the forecasters' values ``steps`` ahead for
        the series ``columns`` (NaN for the models not asked for, or without a fit)."""
        hs = steps.astype(np.float64)[:, None]
        out = np.full((steps.size, _N_MODELS, columns.size), np.nan)
        wanted = set(models) | ({0, 1, 2, 3} if _N_MODELS - 1 in models else set())
        for m, key in ((0, "line"), (1, "long"), (2, "quad")):
            c = coefs[key]
            if m not in wanted or c is None:
                continue
            c = c[:, columns]
            path = c[0] + c[1] * hs
            out[:, m] = path + c[2] * hs * hs if c.shape[0] == 3 else path
        if _SEASONAL in wanted and coefs["drift"] is not None:
            period = self.season
            changes = np.full((SEASON_DAYS, steps.size, columns.size), np.nan)
            for k in range(1, SEASON_DAYS + 1):
                if k * period > t:
                    break
                past = t - k * period
                if past < self.window - 1:  # no slope then: this day is left out
                    continue
                rows = (t + steps - k * period) % self.history
                ahead = hist[np.ix_(rows, columns)]
                then = hist[self._lags(past, np.arange(self.window))][:, columns]
                drift = coefs["line"][1, columns] - _apply(self.taps_line[1:], then)[0]
                changes[k - 1] = (ahead - hist[past % self.history, columns][None, :]
                                  + drift[None, :] * hs)
            out[:, _SEASONAL] = y[columns] + nan_median(changes)
        if _N_MODELS - 1 in models:
            out[:, -1] = nan_median(np.moveaxis(out[:, :-1], 1, 0))
        return out

    def _record_errors(self, state: dict[str, Any], y: np.ndarray, seen: np.ndarray,
                       t: int) -> None:
        """The realised errors of the forecasts made 1 and ``H`` steps ago, into the ring
        and the running sums over the error and bias windows."""
        with np.errstate(invalid="ignore"):
            new = np.stack([y - state["f1"], y - state["fH"][t % self.horizon]])
        new[:, :, ~seen] = np.nan
        err, ring = state["err"], self.ring
        gone = err[(t - self.error_window) % ring]
        _add(state["sq_sum"], state["sq_count"], new * new, gone * gone)
        if self.bias_window:
            gone_bias = err[(t - self.bias_window) % ring, 1]
            _add(state["bias_sum"], state["bias_count"], new[1], gone_bias)
        err[t % ring] = new
        if (t + 1) % ring == 0:  # once per turn of the ring: the sums afresh (no drift)
            self._resum(state, t)
        if self.recent:
            with np.errstate(invalid="ignore"):
                recent = y - state["fR"][t % self.recent]
            recent[:, ~seen] = np.nan
            state["errR"][t % self.recent_window] = recent * recent

    def _recent_errors(self, state: dict[str, Any], t: int) -> np.ndarray:
        """``(models, series)``: the recent ``h_r``-step squared errors' mean (0 with fewer
        than half the window), summed lag by lag as
        :func:`~kizashi.prediction.local_fit.recent_mean` does."""
        ring = state["errR"]
        total = np.zeros(ring.shape[1:])
        count = np.zeros(ring.shape[1:])
        for lag in range(min(self.recent_window, t + 1)):
            value = ring[(t - lag) % self.recent_window]
            finite = np.isfinite(value)
            total += np.where(finite, value, 0.0)
            count += finite
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        enough = (count >= max(self.recent_window // 2, 1)) & np.isfinite(mean)
        return np.where(enough, mean, 0.0)

    def _resum(self, state: dict[str, Any], t: int) -> None:
        err, ring = state["err"], self.ring
        rows = err[self._ring_rows(t, self.error_window)]
        state["sq_sum"] = np.nansum(rows * rows, axis=0)
        state["sq_count"] = np.isfinite(rows).sum(axis=0).astype(np.float64)
        if self.bias_window:
            bias_rows = err[self._ring_rows(t, self.bias_window), 1]
            state["bias_sum"] = np.nansum(bias_rows, axis=0)
            state["bias_count"] = np.isfinite(bias_rows).sum(axis=0).astype(np.float64)
        del ring

    def _ring_rows(self, t: int, length: int) -> np.ndarray:
        return (t - np.arange(min(length, t + 1))) % self.ring

    def _crossing(self, state: dict[str, Any], coefs: dict[str, Any], hist: np.ndarray,
                  y: np.ndarray, t: int, upper: np.ndarray, lower: np.ndarray
                  ) -> StepCrossing:
        """The choice of forecaster, its band and the margin (as LimitForecaster.crossing)."""
        count = state["sq_count"]
        with np.errstate(invalid="ignore", divide="ignore"):
            mse = np.where(count > 0, state["sq_sum"] / np.maximum(count, 1), np.nan)
        mse_1, mse_h = mse[0], mse[1]
        usable = (count[1] >= self.needed) & np.isfinite(mse_h)
        choice = np.where(usable & self.allowed[:, None], mse_h, np.inf)
        if self.recent:
            choice = failing_now(choice, self._recent_errors(state, t),
                                 self.horizon / self.recent, axis=0)
        if self.bias_window:
            bc = state["bias_count"]
            with np.errstate(invalid="ignore", divide="ignore"):
                bias = np.where(bc > 0, state["bias_sum"] / np.maximum(bc, 1), np.nan)
            bias = np.where(bc >= max(self.bias_window // 4, 1), bias, 0.0)
            if self.bias_window == self.error_window:
                mse_h = np.maximum(mse_h - bias ** 2, 0.0)
        ready = usable[self.enabled].all(axis=0)
        model = np.where(ready, first_near_min(choice, y, axis=0), -1)
        pick = np.maximum(model, 0)[None, :]
        e1 = np.take_along_axis(mse_1, pick, axis=0)[0]
        e_h = np.take_along_axis(mse_h, pick, axis=0)[0]
        shift = np.take_along_axis(bias, pick, axis=0)[0] if self.bias_window else 0.0
        big_h = float(self.horizon)
        hs = self.grid.astype(np.float64)[:, None]
        chosen = np.full((hs.shape[0], y.size), np.nan)
        for m in np.unique(model[ready]).tolist():   # each series' chosen forecaster only
            columns = np.flatnonzero(model == m)
            chosen[:, columns] = self._paths(coefs, hist, y, t, self.grid, columns, (m,))[:, m]
        with np.errstate(invalid="ignore", over="ignore"):  # a limit near 1e308: z = ±inf
            path = chosen + shift * hs / big_h
            sd = np.sqrt(np.maximum(e1 + np.maximum(e_h - e1, 0.0) * hs / big_h, 0.0))
            sd = np.maximum(sd, 1e-9 + 1e-6 * np.nan_to_num(np.abs(y)))
            over = bounded_margin((path - upper) / sd)
            under = bounded_margin(-(path - lower) / sd)
            z = np.fmax(np.fmax.reduce(over, axis=0), np.fmax.reduce(under, axis=0))
            reached = (path - upper >= 0) | (-(path - lower) >= 0)
        z = np.where(np.isnan(z), -np.inf, z)
        eta = np.where(reached.any(axis=0), self.grid[np.argmax(reached, axis=0)], np.nan)
        z = np.where(ready & ~np.isinf(z), z, np.nan)
        eta = np.where(ready, eta, np.nan)
        path = np.where(ready, path, np.nan)
        sd = np.where(ready, sd, np.nan)
        return StepCrossing(z, eta.astype(np.float64), model, path[-1], sd[-1], path, sd)


def _apply(taps: np.ndarray, window: np.ndarray) -> np.ndarray:
    """``taps @ window``, summed in a fixed order (halves added pairwise), so that each
    series' result does not depend on how many series are computed with it (a BLAS product
    blocks the columns differently for different widths).

    >>> taps, window = np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 0.5], [1.0, 0.5], [1.0, 0.5]])
    >>> _apply(taps, window).tolist()
    [[6.0, 3.0]]
    """
    products = taps.T[:, :, None] * window[:, None, :]       # (window, coefficients, series)
    while products.shape[0] > 1:
        half = products.shape[0] // 2
        pairs = products[:half] + products[half:2 * half]
        products = np.concatenate([pairs, products[2 * half:]]) if products.shape[0] % 2 \
            else pairs
    return products[0]


def _add(total: np.ndarray, count: np.ndarray, new: np.ndarray, gone: np.ndarray) -> None:
    """Running sum and count of the finite values: ``new`` enters, ``gone`` leaves."""
    total += np.where(np.isfinite(new), new, 0.0) - np.where(np.isfinite(gone), gone, 0.0)
    count += np.isfinite(new).astype(np.float64) - np.isfinite(gone).astype(np.float64)
