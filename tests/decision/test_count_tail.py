"""The count-aware calibration: Poisson / negative-binomial tails of recent event counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kizashi.decision.count_tail import CountTail, sparse_counts
from kizashi.decision.likelihood import log_scale


def poisson_tail(k: int, mu: float) -> float:
    """P(N >= k) for N ~ Poisson(mu), by hand."""
    return 1.0 - sum(math.exp(-mu) * mu ** i / math.factorial(i) for i in range(k))


def learned(history: np.ndarray, window: int = 10) -> CountTail:
    tail = CountTail(window=window).reset(history.shape[1])
    tail.transform(history)
    return tail


@pytest.mark.parametrize("events", [1, 2, 3, 4])
def test_a_regular_history_gives_the_poisson_tail_of_the_window_count(events):
    # 20 events in 10 000 steps, evenly spread: no extra dispersion, a rate of
    # (20 + 0.5) / 10 000 per step; ten steps later the window holds ``events``
    history = np.zeros((10_000, 1))
    history[::500] = 1.0
    tail = learned(history)
    step = np.zeros((10, 1))
    step[10 - events:] = 1.0
    level = tail.transform(step)[-1, 0]
    # the window being judged (the last ten steps) is never in the model: it holds the
    # 10 000 steps before them (20 events)
    mu = 10 * 20.5 / 10_000
    # no extra dispersion (window counts are 0 or 1): the Gamma(20.5, 10 000)-Poisson
    # predictive, a negative binomial of size 20.5 and mean mu, summed by hand
    size = 20.5
    p = size / (size + mu)
    below = sum(math.exp(math.lgamma(i + size) - math.lgamma(size) - math.lgamma(i + 1))
                * p ** size * (1 - p) ** i for i in range(events))
    assert level == pytest.approx(float(log_scale(1.0 - (1.0 - below))), rel=1e-9)
    # and close to the plain Poisson tail of the same mean
    assert level == pytest.approx(float(log_scale(1.0 - poisson_tail(events, mu))), rel=0.05)


def test_one_event_is_ordinary_and_a_burst_crosses_the_red_line():
    rng = np.random.default_rng(4)
    history = (rng.random((8000, 3)) < 0.002).astype(float)
    tail = learned(history)
    one = np.zeros((10, 3))
    one[-1] = 1.0
    assert (tail.transform(one)[-1] < 0.5).all()
    burst = np.zeros((10, 3))
    burst[-4:] = 1.0
    assert (tail.transform(burst)[-1] >= 0.5).all()


def test_a_series_that_never_had_an_event_is_not_infinitely_surprised():
    tail = learned(np.zeros((5000, 1)))
    step = np.zeros((1, 1))
    step[0] = 1.0
    level = tail.transform(step)[0, 0]
    # Jeffreys' half event over the 4991 steps before the window (the last nine are held
    # out): a negative binomial of size 0.5 and p = 4991 / 5001, P(N >= 1) = 1 - p ** 0.5
    expected = float(log_scale(1.0 - (1.0 - (4991 / 5001) ** 0.5)))
    assert level == pytest.approx(expected, rel=1e-6)
    assert level < 0.5


def test_bursty_history_widens_the_tail():
    # the same number of events, once alone and once in pairs: pairs are usual for
    # the bursty series, so a pair in the window is less surprising there
    lone, pairs = np.zeros((8000, 1)), np.zeros((8000, 1))
    lone[::200] = 1.0
    pairs[::400] = 1.0
    pairs[1::400] = 1.0
    pair = np.zeros((10, 1))
    pair[-2:] = 1.0
    assert learned(pairs).transform(pair)[-1, 0] < learned(lone).transform(pair)[-1, 0]


@pytest.mark.parametrize("seed", range(5))
def test_blocks_cut_anywhere_give_the_row_by_row_answer(seed):
    rng = np.random.default_rng(seed)
    values = rng.poisson(0.05, (600, 2)).astype(float)
    values[rng.random(values.shape) < 0.05] = np.nan
    whole = CountTail(window=7).reset(2).transform(values)
    rows = CountTail(window=7).reset(2)
    by_row = np.vstack([rows.transform(values[i:i + 1]) for i in range(len(values))])
    np.testing.assert_allclose(by_row, whole, rtol=1e-12, equal_nan=True)
    cuts = np.sort(rng.choice(np.arange(1, 600), 5, replace=False))
    pieces = CountTail(window=7).reset(2)
    chunked = np.vstack([pieces.transform(part) for part in np.split(values, cuts)])
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, equal_nan=True)


def test_a_missing_value_is_as_if_it_never_arrived():
    rng = np.random.default_rng(1)
    values = rng.poisson(0.1, (300, 1)).astype(float)
    gap = values.copy()
    gap[120] = np.nan
    with_gap = CountTail().reset(1).transform(gap)
    without = CountTail().reset(1).transform(np.delete(values, 120, axis=0))
    assert np.isnan(with_gap[120, 0])
    np.testing.assert_allclose(np.delete(with_gap, 120, axis=0), without, equal_nan=True)


@pytest.mark.parametrize("values, sparse", [
    ([0, 0, 1, 0, 2, 0], True),      # whole numbers, mostly zeros
    ([0, 1, 1, 2, 1, 0] * 5, False),  # whole numbers, not sparse
    ([0, 0, 0.5, 0, 0, 0], False),   # a fraction
    ([0, 0, -1, 0, 0, 0], False),    # a negative value
    ([0, 0, 20, 0, 0, 0], False),    # whole, sparse, but not single events: a measurement
])
def test_which_series_are_sparse_counts(values, sparse):
    values = np.asarray(values, dtype=float)
    values = np.concatenate([np.zeros(24), values])  # at least 90 % zeros where sparse
    positive = values[values > 0]
    assert bool(sparse_counts(np.array([values.size]), np.array([(values == 0).sum()]),
                              np.array([((values < 0) | (values % 1 != 0)).sum()]),
                              np.array([positive.min() if positive.size else np.inf]))[0]
                ) is sparse
    _, mask = CountTail().reset(1).assess(CountTail().initial_state(1), values[:, None])
    assert bool(mask[-1, 0]) is sparse


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="window"):
        CountTail(window=0).reset(1)
    with pytest.raises(ValueError, match="prior_events"):
        CountTail(prior_events=0.0).reset(1)


@pytest.mark.parametrize("huge", [2.0 ** 53 + 2, 1e300, 1e308, np.finfo(float).max])
def test_a_value_beyond_exact_counts_ends_a_count_series_without_overflow(huge):
    # whole floats above 2**53 are not exact counts: the series turns into a measurement
    # (judged elsewhere), and neither it nor a measurement next to it warns of overflow
    rng = np.random.default_rng(0)
    counts = (rng.random(400) < 0.02).astype(float)
    measurement = 50 + rng.normal(0, 1, 400)
    counts[300] = huge
    measurement[300] = huge
    tail = CountTail(window=10)
    tail.reset(2)
    with np.errstate(all="raise"):
        _, sparse = tail.assess(tail.state_, np.column_stack([counts, measurement]))
    assert sparse[299, 0] and not sparse[300:, 0].any()
    assert not sparse[:, 1].any()


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("huge", [1e300, -1e300, 1.7e308])
def test_a_measurement_of_extreme_size_leaves_a_finite_state(huge):
    """A measurement (not a count) of 1e300 squared its window sums past the float range in
    the count model it never uses; that model is emptied once a series is a measurement.
    The count series beside it is judged exactly as alone, in any blocks."""
    rng = np.random.default_rng(4)
    counts = np.where(rng.random(400) < 0.95, 0.0, 1.0)
    values = np.column_stack([counts, 10 + rng.normal(size=400)])
    values[200, 1] = huge
    whole = CountTail(window=7).reset(2)
    levels = whole.transform(values)
    pieces = CountTail(window=7).reset(2)
    parts = [pieces.transform(values[a:b]) for a, b in ((0, 150), (150, 201), (201, 400))]
    np.testing.assert_array_equal(np.vstack(parts), levels)
    alone = CountTail(window=7).reset(1).transform(counts[:, None])
    np.testing.assert_array_equal(levels[:, :1], alone)
    assert np.isnan(levels[:, 1]).all()
    for key, array in whole.state_.items():
        if key != "smallest":  # (inf there: no positive value yet)
            assert not np.isinf(array).any(), key
