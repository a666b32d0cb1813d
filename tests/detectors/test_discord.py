"""The streaming discord detector, against hand-computed cases and a naive double loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kizashi.detectors.registry import create


def naive(values: np.ndarray, window: int, history: int) -> np.ndarray:
    """The definition, written as plainly as possible: observed values only, each window
    against every earlier non-overlapping one at most ``history`` windows back, the RMS
    distance to the nearest divided by the sample standard deviation so far."""
    seen = [float(v) for v in values if not math.isnan(v)]
    scores = []
    for t in range(len(seen)):
        best = math.inf
        for end in range(window - 1, t - window + 1):
            if end < t - window - history:
                continue
            squared = sum((seen[t - k] - seen[end - k]) ** 2 for k in range(window))
            best = min(best, math.sqrt(squared / window))
        sigma = float(np.std(seen[:t + 1], ddof=1)) if t >= 1 else math.nan
        scores.append(0.0 if best == math.inf or not sigma > 0 else best / sigma)
    out = np.full(len(values), np.nan)
    out[~np.isnan(values)] = scores
    return out


def test_window_of_one_by_hand():
    # t=1: nearest past value 0 is 1 away, sd of [0, 1] is 0.70711 -> 1.41421
    # t=2: nearest of {0, 1} to 3 is 2 away, sd of [0, 1, 3] is 1.52753 -> 1.30931
    scores = create("discord", window=1).score([0.0, 1.0, 3.0])
    np.testing.assert_allclose(scores, [0.0, 2 / math.sqrt(2), 2 / math.sqrt(7 / 3)],
                               rtol=1e-12)


@pytest.mark.parametrize("window, history", [(1, 1), (2, 3), (3, 100), (4, 7)])
@pytest.mark.parametrize("seed", [0, 1])
def test_equals_the_naive_definition(window, history, seed):
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, 1.0, 150).round(1)
    values[rng.choice(150, 10, replace=False)] = np.nan  # missing values are skipped
    expected = naive(values, window, history)
    got = create("discord", window=window, history=history).score(values)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("split", [1, 37, 64, 65, 100, 149])
def test_blocks_and_steps_give_the_same_scores(split):
    values = np.random.default_rng(3).normal(0.0, 1.0, 150)
    batch = create("discord", window=5, history=20).score(values)
    detector = create("discord", window=5, history=20)
    first = detector.update_many(values[:split][:, None])
    rest = [detector.update([v]) for v in values[split:]]
    np.testing.assert_allclose(np.r_[np.ravel(first), np.ravel(rest)], batch,
                               rtol=1e-9, atol=1e-12, equal_nan=True)


def test_a_repeating_shape_is_familiar_and_a_new_shape_is_not():
    period = 40
    values = np.tile(np.r_[np.linspace(0, 1, 20), np.linspace(1, 0, 20)], 20)
    values[600:640] = 0.5  # a flat cycle: every value is usual, the shape is not
    scores = create("discord", window=10).score(values)
    assert scores[2 * period:600].max() < 1e-9
    assert scores[600:650].max() > 0.5


def test_an_absurd_value_leaves_the_scale_usable():
    values = np.tile(np.r_[np.linspace(0, 1, 20), np.linspace(1, 0, 20)], 20)
    values[300] = 1e308
    scores = create("discord", window=10).score(values)
    assert np.isfinite(scores[300:]).all()
    # remembered at most 10 range widths out: the sd stays a few units, not 1e306
    assert scores[300] < 100.0


@pytest.mark.parametrize("bad", [{"window": 0}, {"history": 0}, {"window": 2.5},
                                 {"max_growth": 0.0}, {"max_growth": float("inf")}])
def test_bad_parameters_are_refused(bad):
    with pytest.raises(ValueError, match="discord"):
        create("discord", **bad).score(np.zeros(5))


def naive_with_growth(values: np.ndarray, window: int, history: int,
                      growth: float) -> np.ndarray:
    """The documented rule for wild values, written plainly: a value more than ``growth``
    range widths beyond the range seen so far is clipped to that reach; the first such
    value in a row (after the warm-up) is scored as if it were remembered, then dropped;
    the next ones in a row are remembered at that reach."""
    seen: list[float] = []
    out = np.full(len(values), np.nan)
    previous_wild = False

    def score(stretch: list[float]) -> float:
        t = len(stretch) - 1
        if t < 2 * window - 1:
            return 0.0  # no candidate yet
        best = math.inf
        for end in range(max(window - 1, t - window - history), t - window + 1):
            squared = sum((stretch[t - k] - stretch[end - k]) ** 2 for k in range(window))
            best = min(best, math.sqrt(squared / window))
        return best

    for i, value in enumerate(values):
        if math.isnan(value):
            continue
        clipped = value
        if seen and max(seen) > min(seen):
            with np.errstate(over="ignore"):  # (a range of ±the largest float: inf)
                reach = growth * (max(seen) - min(seen))
            clipped = min(max(value, min(seen) - reach), max(seen) + reach)
        wild = clipped != value
        lone = wild and not previous_wild and len(seen) >= 2 * window - 1
        previous_wild = wild
        best = score([*seen, clipped])
        if not lone:
            seen.append(clipped)
        sigma = float(np.std(seen, ddof=1)) if len(seen) >= 2 else math.nan
        out[i] = best / sigma if sigma > 0 else 0.0  # inf / inf (see below) is NaN
    return out


def random_case(seed: int) -> tuple[np.ndarray, int, int]:
    """A series of the awkward family: random window and history, missing values,
    constant stretches, levels far from 0, and 1e308 / -1e308 spikes (after a constant
    stretch the range is a point, so a spike is not wild: it is remembered, the sd is
    inf, and a window holding it scores inf / inf = NaN, in both implementations)."""
    rng = np.random.default_rng(seed)
    window = int(rng.choice([1, 2, 3, 7, 8, 9, 16, 17]))
    history = int(rng.choice([1, 2, 5, 30]))
    n = int(rng.integers(1, 160))
    kind = seed % 4
    if kind == 0:
        values = rng.normal(0.0, 1.0, n).cumsum()
    elif kind == 1:
        values = np.full(n, 3.0)  # constant: the scale is 0, every score is 0
    elif kind == 2:
        values = 1e9 + 1e3 * np.sin(np.arange(n) / 4.0)  # far from 0
    else:
        values = rng.integers(0, 3, n).astype(float)  # many exact repeats
    values[rng.random(n) < 0.1] = np.nan
    for _ in range(int(rng.integers(0, 3))):
        values[rng.integers(0, n)] = rng.choice([1e308, -1e308])
    return values, window, history


def in_its_unit(values: np.ndarray) -> np.ndarray:
    """``values`` in the unit the detector scores them in (kizashi.streaming.magnitudes,
    written out here): chosen from the first non-zero value; over the first 8 non-zero
    values, a value the unit keeps within 2^±400 votes for it, one it would take beyond
    votes against it or, when the unit has only its own vote, chooses it again (a power of
    two bringing that value to [1, 2), or 1 when it lies within 2^±400 itself); a product
    beyond the float range is held at the largest float."""
    factor, seen, votes, out = math.nan, 0, 0, values.copy()
    for i, value in enumerate(values):
        if math.isfinite(value) and value != 0.0 and seen < 8:
            seen += 1
            if not math.isnan(factor) and 2.0 ** -400 <= abs(value * factor) <= 2.0 ** 400:
                votes += 1
            elif votes >= 2:
                votes -= 1
            else:
                exponent = math.frexp(value)[1]
                extreme = not 2.0 ** -400 <= abs(value) <= 2.0 ** 400
                factor = math.ldexp(1.0, max(1 - exponent, -1022)) if extreme else 1.0
                votes = 1
        product = value * (1.0 if math.isnan(factor) else factor)
        out[i] = math.copysign(1.7976931348623157e308, product) \
            if math.isinf(product) and math.isfinite(value) else product
    return out


@pytest.mark.parametrize("seed", range(40))
def test_random_family_equals_the_plain_rule(seed):
    values, window, history = random_case(seed)
    # the rule holds in the series' unit: a series starting with a 1e308 spike is compared
    # at that spike's magnitude until an ordinary value comes (kizashi.streaming.magnitudes)
    expected = naive_with_growth(in_its_unit(values), window, history, 10.0)
    got = create("discord", window=window, history=history).score(values)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("seed", range(10))
def test_many_series_at_once_equal_each_alone_in_any_blocks(seed):
    columns = [random_case(100 + 4 * seed + k)[0][:60] for k in range(4)]
    n = min(len(c) for c in columns)
    values = np.stack([c[:n] for c in columns], axis=1)
    alone = np.stack([create("discord", window=3, history=9).score(values[:, k])
                      for k in range(values.shape[1])], axis=1)
    detector = create("discord", window=3, history=9)
    cut = np.sort(np.random.default_rng(seed).integers(0, n + 1, 2))
    parts = [detector.update_many(part) for part in np.split(values, cut)]
    together = np.concatenate([np.reshape(p, (-1, values.shape[1])) for p in parts])
    np.testing.assert_array_equal(together, alone)


def test_a_long_window_uses_numpys_halves_and_still_matches():
    values = np.random.default_rng(7).normal(0.0, 1.0, 420)
    expected = naive(values, 130, 20)
    got = create("discord", window=130, history=20).score(values)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("level, noise", [(0.0, 1.0), (1e6, 1e-3), (5.0, 0.0)])
def test_a_batch_equals_steps_bit_for_bit(level, noise):
    # a batch slides the distance matrix's diagonals and sums exactly only near the
    # minimum; a single step searches plainly: both must give the same floats
    rng = np.random.default_rng(11)
    n = 1500
    values = level + np.sin(np.arange(n) / 7.0).round(2) + noise * rng.normal(size=n)
    values[rng.choice(n, 5, replace=False)] += 50.0  # spikes leave and enter windows
    values[rng.choice(n, 30, replace=False)] = np.nan
    batch = create("discord", window=8, history=300).score(values)
    detector = create("discord", window=8, history=300)
    steps = [detector.update([v])[0] for v in values]
    np.testing.assert_array_equal(np.ravel(steps), batch)
