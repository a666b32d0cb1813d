"""Anomaly types on generated segments of each type, over seeds and sizes."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.engine.anomaly_type import TYPES, anomaly_type, dominant_period

N, START = 1200, 1000


def base(rng, seasonal: bool) -> np.ndarray:
    t = np.arange(N)
    level = 50 + (20 * np.sin(2 * np.pi * t / 96) if seasonal else 0)
    return level + rng.normal(0, 1.0, N)


def make(kind: str, seed: int, seasonal: bool, length: int) -> tuple[np.ndarray, int, int]:
    rng = np.random.default_rng(seed)
    x = base(rng, seasonal)
    end = START + length - 1
    seg = slice(START, end + 1)
    if kind == "level_shift":
        x[seg] += rng.choice([-1, 1]) * rng.uniform(8, 30) * (3 if seasonal else 1)
    elif kind == "spike":
        x[START] += rng.choice([-1, 1]) * rng.uniform(15, 40) * (3 if seasonal else 1)
        end = START + int(rng.integers(0, 3))
    elif kind == "trend":
        x[seg] += np.linspace(0, rng.choice([-1, 1]) * rng.uniform(15, 40), length) * \
            (4 if seasonal else 1)
    elif kind == "variance_change":
        x[seg] += rng.normal(0, rng.uniform(5, 10), length) * (3 if seasonal else 1)
    elif kind == "stall":
        if rng.random() < 0.5:
            x[seg] = np.nan
        else:
            x[seg] = x[START - 1]
    elif kind == "seasonal_break":
        x[seg] = 50 + rng.normal(0, 1.0, length)     # the cycle stops; level stays the mean
    return x, START, end


CASES = [(kind, seasonal) for kind in TYPES for seasonal in (False, True)
         if not (kind == "seasonal_break" and not seasonal)]


@pytest.mark.parametrize(("kind", "seasonal"), CASES)
@pytest.mark.parametrize("length", [24, 60, 150])
def test_generated_segments_get_their_type(kind, seasonal, length):
    hits = 0
    for seed in range(10):
        x, start, end = make(kind, seed, seasonal, length)
        hits += anomaly_type(x, start, end) == kind
    assert hits >= 9, f"{kind} (seasonal={seasonal}, length {length}): {hits}/10"


def test_period_estimate():
    t = np.arange(2000)
    assert abs(dominant_period(np.sin(2 * np.pi * t / 288)) - 288) <= 1
    assert dominant_period(np.random.default_rng(0).normal(size=2000)) is None


def test_bad_rows_are_an_error():
    with pytest.raises(ValueError, match="outside"):
        anomaly_type(np.zeros(10), 5, 10)
