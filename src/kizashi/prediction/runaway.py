"""Runaway rises: a rate that keeps growing fast, and when it reaches the limit.

The forecasters (:mod:`kizashi.prediction.limit_forecaster`) fit hours of data and
judge themselves over a day, so a series that sat flat and then runs away within
1–3 hours (a writer filling a filesystem faster and faster) is seen late, and a
parabola under-reads a rise that steepens faster than ``t²``. This test reads the
last ``3·segment`` steps directly.

The last three segments of ``segment`` steps have means ``m₃, m₂, m₁`` (oldest
first); their increments ``d₂ = m₂ − m₃`` and ``d₁ = m₁ − m₂`` are the rates
``r = d / segment`` per step, one segment apart. A series *runs away* at step
``t`` when

* the older increment is itself clearly a rise: ``d₂ > significance · σ_d``, with
  ``σ_d = σ·√(2/segment)`` the noise of an increment and ``σ`` the noise per
  step, from the second differences over the same steps (``σ² = mean((Δ²y)²)/6``,
  which a straight or gently curving trend does not inflate), taken ``lag`` steps
  apart (``kizashi predict``: 5 minutes; so on 1-minute data the slow wander of
  autocorrelated noise counts, as on 5-minute data);
* the oldest segment's own least-squares slope exceeds ``3`` of its noise standard
  deviations (:data:`ONSET_SIGNIFICANCE`): the rise was under way over the whole
  window, so the kink from a flat stretch into a straight rise (the oldest segment
  flat, the middle one half risen) is not read as a rate that doubled;
* the rate grew by at least ``ratio`` from one segment to the next: ``d₁ ≥ ratio·d₂``;
* the parabola through the three means reaches the limit within ``horizon`` steps;
* with ``memory`` (``kizashi predict``: a day), the newest mean ``m₁`` is above every
  segment mean of the ``memory`` steps before the window (:func:`past_mean_max`): the
  series is somewhere it has not been for that long. An upswing of a ripple or cycle
  steepens like a runaway but climbs where the last upswings already went; read as a
  runaway, a steady fill with a ±5 % ripple of 6 h warned 20 h before its peaks reached
  the limit, with an ETA of 1.7 h (``tests/prediction/test_ripple_fill.py``).

With ``memory``, a rise whose parabola ETA (below) has been given at every step of a
whole segment in a row also runs away, the ratio reached or not, once a whole ``memory``
has been seen (a *sustained* runaway: a filesystem filling faster and faster by a tenth
to a quarter per segment never doubles within one, and its forecasters, with a day of
flat history, see nothing until the limit).

A rise that goes on at a steady or falling rate (a copy that stops, a leak) is not
a runaway; neither is the first segment of any rise after a flat stretch (its
older increment is not a rise yet), nor a one-off jump (it shows in one increment
only). The ETA is where the parabola through the three segment means reaches the
limit (:func:`runaway_eta`); it is given wherever the older rise is significant and
the newer one steeper (``d₁ − d₂`` over 2 of its noise sds), even below the ratio,
and ``kizashi predict`` takes the earlier of it and the forecasters' ETA. Tried
first, on seeds 100–104: the *inverse-rate*
(failure-forecast) method of geophysics and materials — ``1/rate`` falling linearly
in time, its zero the blow-up time — and a rate growing geometrically by
``d₁/d₂`` per segment. At a runaway's first warning (the chosen 20-minute
segments) they put the limit at a median 0.11 and 0.61 times the time it really
took (a rate that doubles per segment "blows up" within a segment); the parabola
at 1.09 (quartiles 1.05–1.13); the forecasters gave none at those 13 steps
(``benchmarks/prediction_runaway.py --eta``, docs/prediction.md).

Values are carried forward over gaps (as the forecasters do); a series runs away
only from ``3·segment`` steps after its first value on, and not while a segment of its
window holds more than a quarter of rows laid out across a stretch with no rows
(:data:`MAX_FILLED_SHARE`; the straight line between a long stretch's ends is not a
measured rate: a daily cycle's morning across a 1-hour hole read as a steepening). A few
filled rows (dropped rows, irregular sampling) keep the window: the segment means take
their straight line, and the noise takes only the second differences whose three rows
were all observed (a line's second differences are 0 and would shrink it). :class:`RunawayStream`
is the same test one step at a time (a ring of the last ``3·segment`` values).

>>> import numpy as np
>>> t = np.arange(200.0)
>>> # flat at 40, then 40 + 60·(τ/60)³ from row 100: 100 at row 160
>>> cubic = 40 + 60 * (np.clip(t - 100, 0, None) / 60) ** 3
>>> hit, eta = runaway(cubic[:, None], np.array([100.0]), segment=4, horizon=72)
>>> np.flatnonzero(hit[:, 0]).tolist()  # 16 steps in, while the rate still doubles
[116]
>>> round(float(eta[116, 0]), 1)  # the limit came 44 steps later: the parabola is late
71.7
>>> stream = RunawayStream(segment=4, horizon=72)
>>> state = stream.fresh(1)
>>> live = [stream.step(state, np.array([v]), np.array([100.0])) for v in cubic]
>>> [bool(h[0]) for h, _ in live] == hit[:, 0].tolist()
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kizashi.prediction.local_fit import fill_forward, polyfit_filters, rolling_polyfit

__all__ = ["MAX_FILLED_SHARE", "RUNAWAY_RATIO", "RUNAWAY_SIGNIFICANCE", "RunawayStream",
           "max_filled", "past_mean_max", "runaway", "runaway_eta"]

#: The rate must grow at least this much from one segment to the next.
RUNAWAY_RATIO = 2.0
#: The older increment must exceed this many of its noise standard deviations.
RUNAWAY_SIGNIFICANCE = 12.0
#: The oldest segment's own slope must exceed this many of its noise standard deviations
#: (the rise was under way already: not a kink from flat into a straight rise).
ONSET_SIGNIFICANCE = 3.0
#: A window is judged only while no segment holds more than this share of filled rows
#: (rows laid out across a stretch with no rows; ``int(share·segment)`` rows at most).
MAX_FILLED_SHARE = 0.25


def max_filled(segment: int) -> int:
    """Filled rows a segment of ``segment`` steps may hold (:data:`MAX_FILLED_SHARE`).

    >>> [max_filled(w) for w in (2, 4, 7, 20)]
    [0, 1, 1, 5]
    """
    return int(MAX_FILLED_SHARE * int(segment))


def runaway_eta(d1: np.ndarray, d2: np.ndarray, m1: np.ndarray, limit: np.ndarray,
                segment: int) -> np.ndarray:
    """Steps from the newest row until the parabola through the three segment means
    reaches ``limit`` (for ``d₁ > d₂ > 0``; NaN elsewhere), at least 1.

    In segments ``s`` from the newest segment's centre, the parabola through
    ``(−2, m₃), (−1, m₂), (0, m₁)`` is ``m₁ + b·s + c·s²`` with ``c = (d₁ − d₂)/2`` and
    ``b = (3·d₁ − d₂)/2``.

    >>> # means 0, 1, 4 (x = (s + 2)²): 100 at s = 8, 8 segments of 4 from the newest
    >>> # segment's centre, which is 1.5 steps before the newest row
    >>> float(runaway_eta(np.array(3.0), np.array(1.0), np.array(4.0), np.array(100.0), 4))
    30.5
    """
    w = float(segment)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        valid = (d2 > 0) & (d1 > d2)
        c = (d1 - d2) / 2
        b = (3 * d1 - d2) / 2
        ahead = (-b + np.sqrt(b * b + 4 * c * (limit - m1))) / (2 * c)  # segments
        steps = ahead * w - (w - 1) / 2
        return np.where(valid & np.isfinite(steps), np.maximum(steps, 1.0), np.nan)


def _decide(d1: np.ndarray, d2: np.ndarray, m1: np.ndarray, slope3: np.ndarray,
            noise: np.ndarray, limit: np.ndarray, segment: int, horizon: int, ratio: float,
            significance: float) -> tuple[np.ndarray, np.ndarray]:
    eta = runaway_eta(d1, d2, m1, limit, segment)
    w = float(segment)
    with np.errstate(invalid="ignore"):
        sigma2 = np.maximum(noise, 0.0) / 6.0
        sd = np.sqrt(sigma2 * 2.0 / w)
        slope_sd = np.sqrt(sigma2 * 12.0 / (w * (w * w - 1.0)))
        # steeper beyond noise (2 sds of d₁ − d₂) and rounding: on a straight line
        # (a stretch laid out as the line between its ends) the sums of the batch and
        # of the stream must not decide
        steeper = d1 - d2 > 2.0 * np.sqrt(sigma2 * 6.0 / w) + 1e-9 * (np.abs(d1) + np.abs(d2))
        rising = ((d2 > significance * sd) & (slope3 > ONSET_SIGNIFICANCE * slope_sd)
                  & steeper & (eta <= horizon))
        hit = rising & (d1 >= ratio * d2)
    return hit, np.where(rising, eta, np.nan)


def past_mean_max(mean: np.ndarray, segment: int, memory: int) -> np.ndarray:
    """At each row ``t``, the largest of ``mean`` (the segment means ending at each row, NaN
    where none) at rows ``t − memory … t − 3·segment``: the highest the series was, a
    segment at a time, in the ``memory`` steps before a runaway window; −inf where none.

    >>> mean = np.array([[1.0], [5.0], [2.0], [np.nan], [3.0], [0.0]])
    >>> past_mean_max(mean, segment=1, memory=4)[:, 0].tolist()
    [-inf, -inf, -inf, 1.0, 5.0, 5.0]
    """
    from scipy.ndimage import maximum_filter1d

    width = int(memory) - 3 * int(segment) + 1
    out = np.full(mean.shape, -np.inf)
    if width < 1 or mean.shape[0] <= 3 * segment:
        return out
    finite = np.where(np.isfinite(mean), mean, -np.inf)
    trailing = maximum_filter1d(finite, size=width, axis=0, mode="constant", cval=-np.inf,
                                origin=(width - 1) // 2)  # rows t − width + 1 … t
    out[3 * segment:] = trailing[:-3 * segment]
    return out


def runaway(values: np.ndarray, limit: np.ndarray, segment: int, horizon: int,
            ratio: float = RUNAWAY_RATIO, significance: float = RUNAWAY_SIGNIFICANCE,
            lag: int = 1, observed: np.ndarray | None = None,
            memory: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(T, S)`` whether each step runs away towards ``limit`` (per series, ``(S,)``),
    and the parabola's ETA in steps wherever the rise is significant and steepening
    (``d₁ − d₂`` beyond noise), the ratio reached or not (NaN elsewhere; see the module docs).
    ``lag``: the second differences of the noise are taken ``lag`` steps apart;
    ``observed`` ``(T,)``: False at rows filled in across a stretch with no rows (a window
    with a segment holding more than :func:`max_filled` of them is not judged: the line
    laid across a long stretch is not a measured rate; the noise skips them);
    ``memory``: steps before the window that the newest segment must top (none: no such
    condition)."""
    y, seen = fill_forward(np.asarray(values, dtype=np.float64))
    n, k = y.shape
    w = int(segment)
    hit = np.zeros((n, k), dtype=bool)
    eta = np.full((n, k), np.nan)
    lag = int(lag)
    if n < 3 * w or w < 2 or 3 * w <= 2 * lag:
        return hit, eta
    zero = np.zeros((1, k))
    total = np.cumsum(np.r_[zero, np.nan_to_num(y)], axis=0)
    mean = np.full((n, k), np.nan)
    mean[w - 1:] = (total[w:] - total[:-w]) / w  # of rows t − w + 1 … t
    m1 = mean[3 * w - 1:]
    m2 = mean[2 * w - 1:n - w]
    m3 = mean[w - 1:n - 2 * w]
    measured = np.ones(n, dtype=bool) if observed is None else np.asarray(observed, dtype=bool)
    # second differences whose three rows were all observed, inside the last 3·segment rows
    whole = np.zeros(n, dtype=bool)
    whole[2 * lag:] = measured[2 * lag:] & measured[lag:-lag] & measured[:-2 * lag]
    second = np.zeros((n, k))
    second[2 * lag:] = (y[2 * lag:] - 2 * y[lag:-lag] + y[:-2 * lag]) ** 2
    second = np.where(whole[:, None], second, 0.0)
    sums = np.cumsum(np.r_[zero, second], axis=0)
    counts = np.cumsum(np.r_[0, whole])
    count = counts[3 * w:] - counts[2 * lag:n - 3 * w + 2 * lag + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        noise = ((sums[3 * w:] - sums[2 * lag:n - 3 * w + 2 * lag + 1])
                 / np.where(count > 0, count, np.nan)[:, None])
    first = np.where(seen.any(axis=0), np.argmax(seen, axis=0), n)
    rows = np.arange(3 * w - 1, n)[:, None]
    ready = rows >= first[None, :] + 3 * w - 1
    if observed is not None:  # each segment with at most max_filled(w) filled rows
        filled = np.cumsum(np.r_[0, ~measured])
        per = filled[w:] - filled[:-w]  # in rows t − w + 1 … t
        few = per <= max_filled(w)
        ready = ready & (few[2 * w:] & few[w:n - 2 * w + 1] & few[:n - 3 * w + 1])[:, None]
    limits = np.asarray(limit, dtype=np.float64)[None, :]
    slope = rolling_polyfit(y, w, 1)[..., 1]
    slope3 = slope[w - 1:n - 2 * w]  # of the oldest segment, rows t − 3w + 1 … t − 2w
    h, e = _decide(m1 - m2, m2 - m3, m1, slope3, noise, limits, w, horizon, ratio,
                   significance)
    if memory is not None:  # only where the series has not been for `memory` steps
        started = np.arange(n)[:, None] >= first[None, :] + w - 1
        topped = past_mean_max(np.where(started, mean, np.nan), w, int(memory))
        new = m1 > topped[3 * w - 1:]
        h, e = h & new, np.where(new, e, np.nan)
    e = np.where(ready, e, np.nan)
    if memory is not None:  # sustained: the parabola's ETA stood for a whole segment
        remembers = rows >= first[None, :] + int(memory) + 3 * w - 1
        h = h | (_streak(np.isfinite(e) & remembers) >= w)
    hit[3 * w - 1:] = h & ready
    eta[3 * w - 1:] = e
    return hit, eta


def _streak(mask: np.ndarray) -> np.ndarray:
    """Per column, how many rows in a row ``mask`` has been True, up to each row.

    >>> _streak(np.array([[1], [1], [0], [1], [1], [1]], dtype=bool))[:, 0].tolist()
    [1, 2, 0, 1, 2, 3]
    """
    count = np.cumsum(mask, axis=0)
    at_false = np.maximum.accumulate(np.where(mask, 0, count), axis=0)
    return count - at_false


class RunawayStream:
    """:func:`runaway` one step at a time: a ring of the last ``3·segment`` values per series.

    Its state (:meth:`fresh`) is plain arrays with the series on the last axis (each
    series counts its own steps).
    """

    def __init__(self, segment: int, horizon: int, ratio: float = RUNAWAY_RATIO,
                 significance: float = RUNAWAY_SIGNIFICANCE, lag: int = 1,
                 memory: int | None = None):
        self.segment, self.horizon, self.lag = int(segment), int(horizon), int(lag)
        self.memory = None if memory is None else int(memory)
        self.ratio, self.significance = float(ratio), float(significance)
        self.taps = polyfit_filters(self.segment, 1)[1][::-1]  # oldest first

    @property
    def length(self) -> int:
        return 3 * self.segment

    def fresh(self, n_series: int) -> dict[str, Any]:
        """The state of ``n_series`` series that have seen nothing."""
        state = {"ring": np.full((self.length, int(n_series)), np.nan),
                 "seen": np.zeros((self.length, int(n_series)), dtype=bool),
                 "count": np.zeros(int(n_series), dtype=np.int64)}
        if self.memory is not None:  # the newest segment mean of each of the last steps
            state["means"] = np.full((self.memory + 1, int(n_series)), np.nan)
            # steps in a row with an ETA (a sustained runaway: a segment of them)
            state["streak"] = np.zeros(int(n_series), dtype=np.int64)
        return state

    def upgrade(self, state: dict[str, Any]) -> dict[str, Any]:
        """A state saved by an earlier version as this version's.

        Saved before the memory (no ``means``): every earlier segment counts as lower
        until the memory has learnt them (within a day). Saved before the ring of
        observed rows (a count of the rows observed in a row, ``clean``): those rows
        observed, the rest of the ring filled (a window is judged again once the filled
        rows are few)."""
        if self.memory is not None and "means" not in state:
            state = {**state, "means": self.fresh(len(state["count"]))["means"]}
        if self.memory is not None and "streak" not in state:  # saved before: counts anew
            state = {**state, "streak": np.zeros(len(state["count"]), dtype=np.int64)}
        if "seen" in state:
            return state
        count = np.asarray(state["count"], dtype=np.int64)
        clean = np.asarray(state.get("clean", np.zeros_like(count)), dtype=np.int64)
        back = np.arange(self.length)[:, None]  # steps back from the newest row
        seen = (back < clean[None, :]) & (back < count[None, :])
        ring_seen = np.zeros((self.length, count.size), dtype=bool)
        rows = (count[None, :] - 1 - back) % self.length
        np.put_along_axis(ring_seen, rows, seen, axis=0)
        out = {key: value for key, value in state.items() if key != "clean"}
        out["seen"] = ring_seen
        return out

    def step(self, state: dict[str, Any], values: np.ndarray, limit: np.ndarray,
             observed: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Add one row of ``values`` ``(S,)`` (``observed=False``: filled in across a
        stretch with no rows); whether each series runs away, and the ETA in steps (as
        :func:`runaway`)."""
        ring, count, size, w = state["ring"], state["count"], self.length, self.segment
        columns = np.arange(ring.shape[1])
        last = np.where(count > 0, ring[(count - 1) % size, columns], np.nan)
        value = np.where(np.isfinite(values), values, last)  # carried forward
        started = np.isfinite(value)
        ring[count % size, columns] = value
        state["seen"][count % size, columns] = bool(observed)
        # oldest first: lag size − 1 … 0 of each series
        lags = (count[None, :] - np.arange(size - 1, -1, -1)[:, None]) % size
        window = np.take_along_axis(ring, lags, axis=0)
        seen = np.take_along_axis(state["seen"], lags, axis=0)
        m3, m2, m1 = (window[i * w:(i + 1) * w].mean(axis=0) for i in range(3))
        g = self.lag
        whole = seen[2 * g:] & seen[g:size - g] & seen[:size - 2 * g]
        second = (window[2 * g:] - 2 * window[g:size - g] + window[:size - 2 * g]) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            noise = (np.where(whole, second, 0.0).sum(axis=0)
                     / np.where(whole.any(axis=0), whole.sum(axis=0), np.nan))
        slope3 = self.taps @ window[:w]
        hit, eta = _decide(m1 - m2, m2 - m3, m1, slope3, noise,
                           np.asarray(limit, dtype=np.float64), w, self.horizon, self.ratio,
                           self.significance)
        if self.memory is not None:
            means, keep = state["means"], self.memory + 1
            means[count % keep, columns] = np.where(started, m1, np.nan)
            judged = np.flatnonzero(hit | np.isfinite(eta))  # only these need the memory
            if judged.size:
                # rows t − memory … t − 3·segment of each series' own steps
                lags = np.arange(3 * w, self.memory + 1)[:, None]
                back = (count[None, judged] - lags) % keep
                past = np.take_along_axis(means[:, judged], back, axis=0)
                past = np.where(lags <= count[None, judged], past, np.nan)
                new = np.ones(count.size, dtype=bool)
                with np.errstate(invalid="ignore"):
                    topped = np.max(np.where(np.isfinite(past), past, -np.inf), axis=0,
                                    initial=-np.inf)
                    new[judged] = m1[judged] > topped
                hit, eta = hit & new, np.where(new, eta, np.nan)
        few = np.all([(~seen[i * w:(i + 1) * w]).sum(axis=0) <= max_filled(w)
                      for i in range(3)], axis=0)
        ready = started & (count + 1 >= size) & few
        eta = np.where(ready, eta, np.nan)
        if self.memory is not None:  # sustained: the ETA stood for a whole segment
            remembers = count + 1 >= self.memory + size
            state["streak"] = np.where(np.isfinite(eta) & remembers, state["streak"] + 1, 0)
            hit = hit | (state["streak"] >= w)
        count += started
        return hit & ready, eta
