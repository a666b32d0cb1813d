"""Seasonal baseline: compare each value with what is usual for that hour of the week."""

from __future__ import annotations

from typing import Any

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.detectors.threshold.seasonal_kernel import seasonal_block
from kizashi.durations import parse_duration
from kizashi.state import State
from kizashi.streaming import DiscountedMoments

#: How many times further out than ``clip`` values are kept before a series is scored.
WARM_UP_REACH = 10.0
DAY = 86400.0
WEEK = 7 * DAY
#: Sunday's day in an epoch week (1970-01-01, day 0, was a Thursday).
SUNDAY = 3


class SeasonalThreshold(Detector):
    """A level that follows the recent weeks plus a profile of each slot of the period.

    The value expected at time ``t`` is ``level + profile[slot(t)]``, where
    ``slot(t)`` is e.g. the hour of the week. The level follows the data with a
    half-life of ``level_halflife`` (so a quiet season — April, when people come
    and go — moves the baseline instead of firing for weeks, as a fixed
    threshold does); each slot's profile is a time-discounted mean of
    ``x − level`` seen in that slot (half-life ``season_halflife``). The score is
    ``|x − expected| / σ`` with σ the discounted spread of past residuals.

    A series scores 0 until it has been seen for ``warmup_periods`` whole periods. Residuals
    larger than ``clip``·σ are clipped before they update the baseline, so an
    incident (or one wild value, a ``1e308`` from a broken exporter) does not
    teach the baseline that it is normal; the score uses the raw value. Before
    that, from a series' third value on, values are kept within
    ``WARM_UP_REACH · clip`` standard deviations of the level (10 · 5 = 50 by
    default) so that one wild value cannot become the level either.

    Parameters
    ----------
    period : str or float
        Length of the season (``"1w"``, ``"1d"`` or seconds).
    slot : str or float
        Width of a slot of the period (``"1h"``).
    level_halflife, season_halflife : str or float
        How fast the level and the slot profile forget.
    k : float
        The default decision threshold, in σ.
    clip : float
        Residuals beyond ``clip``·σ update the baseline as if they were ``clip``·σ.
    warmup_periods : float
        Periods a series must be seen before it is scored.
    holidays : str, sequence of str or None
        Dates (``YYYY-MM-DD``, UTC days; a comma-separated string is accepted,
        as ``--param holidays=2026-03-20,2026-04-29`` gives) that are run like a
        Sunday: with a weekly period each of their slots is compared with, and
        teaches, the same hour of the Sunday profile, so a bank holiday is
        neither an incident nor a lesson that spoils the weekday profile.
    min_std : float or None
        A floor under σ, in the data's units: for sparse counts (restarts per
        interval) whose spread is nearly 0, so that one event is not infinitely odd.
        ``None`` means a thousandth of the expected value, at least 1e-9 (see
        :func:`kizashi.streaming.robust.spread_floor`); ``0.0`` means no floor.

    Examples
    --------
    >>> hours = np.arange(24 * 21)
    >>> values = 50 + 30 * (hours % 24 >= 9) * (hours % 24 < 18)
    >>> values = values + np.random.default_rng(1).normal(0, 1, hours.size)
    >>> values[-5] = 50.0 + 30 * ((hours[-5] % 24) < 18) + 12  # an odd evening
    >>> detector = SeasonalThreshold(period="1d", slot="1h")
    >>> scores = detector.score(values, timestamps=hours * 3600.0)
    >>> int(np.argmax(scores)) == hours.size - 5
    True
    """

    unit_params = ("min_std",)

    requires_timestamps = True
    conformance_params = {"period": "10m", "slot": "1m"}

    def __init__(self, period: str | float = "1w", slot: str | float = "1h",
                 level_halflife: str | float = "1d", season_halflife: str | float = "4w",
                 k: float = 4.0, clip: float = 5.0, warmup_periods: float = 2.0,
                 min_std: float | None = None, holidays: str | tuple[str, ...] | None = None):
        self.period = period
        self.slot = slot
        self.level_halflife = level_halflife
        self.season_halflife = season_halflife
        self.k = k
        self.clip = clip
        self.warmup_periods = warmup_periods
        self.min_std = min_std
        self.holidays = holidays

    @property
    def default_threshold(self) -> float:  # type: ignore[override]
        return float(self.k)

    def _layout(self) -> tuple[float, float, int]:
        period = parse_duration(self.period)
        slot = parse_duration(self.slot)
        n_slots = round(period / slot)
        if n_slots < 1 or abs(n_slots * slot - period) > 1e-6 * period:
            raise ValueError(
                f"seasonal_threshold: period {self.period!r} is not a whole number of "
                f"slots of {self.slot!r}"
            )
        return period, slot, n_slots

    def _holiday_days(self, period: float) -> set[int]:
        """The holidays as whole days since 1970-01-01 (UTC)."""
        if not self.holidays:
            return set()
        items = self.holidays.split(",") if isinstance(self.holidays, str) else self.holidays
        if abs(period - WEEK) > 1e-6:
            raise ValueError("seasonal_threshold: holidays need a weekly period (period='1w')")
        try:
            return {int(np.datetime64(str(item).strip(), "D").astype(np.int64)) for item in items}
        except ValueError:
            raise ValueError(f"seasonal_threshold: holidays must be dates YYYY-MM-DD, got "
                             f"{self.holidays!r}") from None

    def _slot_times(self, t: np.ndarray, period: float) -> np.ndarray:
        """The times that pick each row's profile slot: ``t``, with a holiday moved to
        the Sunday of its week."""
        holidays = self._holiday_days(period)
        if not holidays:
            return t
        moved = np.isin(np.floor(t / DAY).astype(np.int64), sorted(holidays))
        # epoch weeks start on a Thursday: Sunday is day 3
        return np.where(moved, t - t % WEEK + SUNDAY * DAY + t % DAY, t)

    def _init_state(self, n_series: int) -> State:
        _, _, n_slots = self._layout()
        self._holiday_days(self._layout()[0])
        moments = DiscountedMoments()
        return {
            "n_series": n_series,
            "first_seen": np.full(n_series, np.nan),
            "last_seen": np.full(n_series, np.nan),
            "level": moments.init(n_series),
            "residual": moments.init(n_series),
            "profile": np.zeros((n_slots, n_series)),
            "profile_weight": np.zeros((n_slots, n_series)),
            "profile_seen": np.full((n_slots, n_series), np.nan),
        }

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        if t is None:
            raise ValueError("seasonal_threshold needs timestamps")
        return self._score_batch(state, x[None, :], np.array([t], dtype=np.float64))[0]

    def _score_batch(self, state: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        """One compiled pass over the block (:mod:`.seasonal_kernel`)."""
        times, slot_times, *rest = self.kernel_arguments(state, t)
        values = np.ascontiguousarray(values, dtype=np.float64)
        scores = np.empty(values.shape)
        seasonal_block(values, times, slot_times, scores, *rest)
        return scores

    def kernel_arguments(self, state: State, t: np.ndarray | None) -> tuple[Any, ...]:
        """The compiled kernels' arguments after ``values`` (and ``scores``): times, slot
        times, the state's arrays (made contiguous in ``state``, which they update in
        place) and the parameters; shared with the engine's fused stream."""
        if t is None:
            raise ValueError("seasonal_threshold needs timestamps")
        period, slot_width, _ = self._layout()
        layout = (float(period), float(slot_width), float(parse_duration(self.level_halflife)),
                  float(parse_duration(self.season_halflife)))

        def arrays(part: State, keys: tuple[str, ...]) -> tuple[np.ndarray, ...]:
            for key in keys:
                part[key] = np.ascontiguousarray(part[key], dtype=np.float64)
            return tuple(part[key] for key in keys)

        level = arrays(state["level"], ("mean", "var", "weight"))
        residuals = arrays(state["residual"], ("mean", "var", "weight"))
        profile, weight, seen, first, last = arrays(
            state, ("profile", "profile_weight", "profile_seen", "first_seen", "last_seen"))
        times = np.ascontiguousarray(t, dtype=np.float64)
        slot_times = np.ascontiguousarray(self._slot_times(times, period), dtype=np.float64)
        return (times, slot_times, level, residuals, profile, weight, seen, first, last, layout,
                float(self.clip), float(self.warmup_periods),
                np.nan if self.min_std is None else float(self.min_std), WARM_UP_REACH)
