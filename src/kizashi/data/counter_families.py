"""Counters and gauges with counters' names: the series a counter rule must tell apart.

A counter's level has no band to leave, so ``kizashi predict`` gives it no anomaly-ahead
prediction (:mod:`kizashi.prediction.counters`); a gauge named like a counter must still
be predicted. The families here are drawn from a seed, each series without a limit:

``sparse_errors``
    an error count: 0.5–30 errors a day (a quarter of them in bursts of 5), integers.
``restarting_errors``
    the same, its process restarted 1–4 times (counting from 0 again).
``restarting_bytes``
    bytes written on a daily rhythm, restarted 1–4 times (after a restart: what it wrote
    since, under a step's worth).
``odd_totals``
    seven odd counters: 1e17 with increments partly rounded away, increments of 1e-9, a
    CPU-seconds counter stepping back by a tick (a billionth) at 2 % of its steps,
    constant, all zero, 10 % missing with its first day missing, every other day without
    a rise.
``named_gauges``
    three gauges: a queue length (AR wander on a daily rhythm), sessions open on a daily
    rhythm, and one that leaves its band on day 4 (up by 40 % over 3 h, back after 5 h).

>>> values = sparse_errors(2304, seed=1)
>>> bool(np.all(np.diff(values) >= 0)), bool(values[-1] > values[0])
(True, True)
>>> odd_totals(2304, seed=1).shape, named_gauges(2304, seed=1).shape
((2304, 7), (2304, 3))
"""

from __future__ import annotations

import numpy as np

__all__ = ["COUNTER_SUFFIXES_SEEN", "LEAVING", "named_gauges", "odd_totals",
           "restarting_bytes", "sparse_errors"]

STEP = 300.0
DAY = 288
#: The suffixes a generated counter or misnamed gauge is given by the tests and benchmark.
COUNTER_SUFFIXES_SEEN = ("_total", "_count", "_sum", "_bucket", "_created")
#: Rows of the ramp out of its band of the third named gauge: (start, end), in days × DAY.
LEAVING = (4 * DAY, 4 * DAY + 60)


def _hours(n: int) -> np.ndarray:
    return np.arange(n) * STEP / 3600


def sparse_errors(n: int, seed: int, resets: bool = False) -> np.ndarray:
    """An error count (see the module docs); with ``resets`` restarted 1–4 times."""
    rng = np.random.default_rng(seed)
    per_day = rng.uniform(0.5, 30)
    events = rng.poisson(per_day / DAY, n) * rng.choice([1, 1, 1, 5], n)
    count = np.cumsum(events).astype(float)
    if resets:
        for at in np.sort(rng.choice(np.arange(DAY, n), rng.integers(1, 5), replace=False)):
            count[at:] -= count[at - 1]
    return count


def restarting_bytes(n: int, seed: int) -> np.ndarray:
    """Bytes written on a daily rhythm, restarted 1–4 times (see the module docs)."""
    rng = np.random.default_rng(seed)
    rate = rng.uniform(1e5, 1e7) * (1.2 + np.cos(2 * np.pi * (_hours(n) - 14) / 24))
    written = rate * STEP * np.exp(rng.normal(0, 0.3, n))
    starts = np.sort(rng.choice(np.arange(DAY, n), rng.integers(1, 5), replace=False))
    count = np.cumsum(written)
    for at in starts:
        count[at:] -= count[at - 1] - rng.uniform(0, 1) * written[at]
    return count


def odd_totals(n: int, seed: int) -> np.ndarray:
    """``(n, 7)``: the odd counters of the module docs."""
    rng = np.random.default_rng(seed)
    huge = 1e17 + np.cumsum(rng.uniform(0, 4e3, n))  # float spacing 16: partly rounded away
    tiny = 1e-3 + np.cumsum(rng.uniform(0, 1e-9, n))
    seconds = rng.uniform(0.5, 4, n) * STEP
    back = rng.random(n) < 0.02  # steps back by a billionth of its value now and then
    cpu = 1e6 + np.cumsum(np.where(back, -1e-9 * (1e6 + np.cumsum(seconds)), seconds))
    constant = np.full(n, rng.uniform(1, 1e9))
    zeros = np.zeros(n)
    gappy = np.cumsum(rng.poisson(2.0, n)).astype(float)
    gappy[rng.random(n) < 0.1] = np.nan
    gappy[:DAY] = np.nan
    quiet_days = (_hours(n) // 24) % 2 == 0
    bursts = np.cumsum(np.where(quiet_days, 0, rng.poisson(5.0, n))).astype(float)
    return np.column_stack([huge, tiny, cpu, constant, zeros, gappy, bursts])


def named_gauges(n: int, seed: int) -> np.ndarray:
    """``(n, 3)``: the gauges of the module docs (the third leaves its band at
    :data:`LEAVING`)."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    hours = _hours(n)
    wander = lfilter([1.0], [1.0, -0.95], rng.normal(0, 8, n))
    queue = np.maximum(0.0, 200 + wander + 50 * np.cos(2 * np.pi * (hours - 15) / 24))
    sessions = 1000 + 400 * np.cos(2 * np.pi * (hours - 14) / 24) + rng.normal(0, 10, n)
    leaving = 500 + 20 * np.cos(2 * np.pi * (hours - 10) / 24) + rng.normal(0, 3, n)
    rows = np.arange(n)
    ramp = np.clip((rows - LEAVING[0]) / 36, 0, 1) * (rows < LEAVING[1])
    return np.column_stack([queue, sessions, leaving + 200 * ramp])
