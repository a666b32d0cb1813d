"""Small seeded synthetic series with known anomalies, for doctests, tests and examples.

Each generator returns ``(values, labels)``: float values of shape ``(n,)`` or
``(n, n_series)`` and a boolean array of the same shape marking the injected
anomalies.

>>> values, labels = spikes(n=500, n_series=3, seed=1)
>>> values.shape, int(labels.sum())
((500, 3), 15)
"""

from __future__ import annotations

import numpy as np


def _base(n: int, n_series: int, seed: int, period: int) -> tuple[np.ndarray, np.random.Generator]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n_series)
    level = rng.uniform(20, 60, n_series)
    amplitude = rng.uniform(5, 15, n_series)
    values = level + amplitude * np.sin(2 * np.pi * t / period + phase)
    values = values + rng.normal(0, 1.0, (n, n_series))
    return values, rng


def _shape(values: np.ndarray, labels: np.ndarray, n_series: int | None):
    if n_series is None:
        return values[:, 0], labels[:, 0]
    return values, labels


def spikes(n: int = 1000, n_series: int | None = None, n_spikes: int = 5,
           magnitude: float = 12.0, period: int = 100, seed: int = 0):
    """A noisy sine per series with ``n_spikes`` single-point spikes after the first 20 %."""
    k = 1 if n_series is None else n_series
    values, rng = _base(n, k, seed, period)
    labels = np.zeros((n, k), dtype=bool)
    for s in range(k):
        where = rng.choice(np.arange(n // 5, n), size=n_spikes, replace=False)
        values[where, s] += magnitude * rng.choice([-1.0, 1.0], size=n_spikes)
        labels[where, s] = True
    return _shape(values, labels, n_series)


def level_shift(n: int = 1000, n_series: int | None = None, shift: float = 15.0,
                period: int = 100, seed: int = 0):
    """A noisy sine that moves up by ``shift`` at a random point in the second half.

    Only the first ``period // 5`` points after the shift are labelled: the change,
    not the new normal.
    """
    k = 1 if n_series is None else n_series
    values, rng = _base(n, k, seed, period)
    labels = np.zeros((n, k), dtype=bool)
    for s in range(k):
        at = int(rng.integers(n // 2, n - period))
        values[at:, s] += shift
        labels[at: at + max(period // 5, 1), s] = True
    return _shape(values, labels, n_series)


def variance_change(n: int = 1000, n_series: int | None = None, factor: float = 5.0,
                    period: int = 100, seed: int = 0):
    """A noisy sine whose noise grows ``factor`` times for a stretch in the second half."""
    k = 1 if n_series is None else n_series
    values, rng = _base(n, k, seed, period)
    labels = np.zeros((n, k), dtype=bool)
    for s in range(k):
        start = int(rng.integers(n // 2, n - period))
        stop = start + period
        values[start:stop, s] += rng.normal(0, factor, stop - start)
        labels[start:stop, s] = True
    return _shape(values, labels, n_series)


def seasonal(n: int = 2016, n_series: int | None = None, period: int = 288,
             seed: int = 0):
    """A daily-looking rhythm (``period`` steps a day) without anomalies; labels are all False."""
    k = 1 if n_series is None else n_series
    values, _ = _base(n, k, seed, period)
    return _shape(values, np.zeros((n, k), dtype=bool), n_series)
