"""Numenta's anomaly likelihood: against a scalar transcription, and its streaming contract."""

from __future__ import annotations

import collections
import itertools
import json
import math

import numpy as np
import pytest

from kizashi.decision.likelihood import AnomalyLikelihood, log_scale
from kizashi.state import from_json_safe, states_equal, to_json_safe

SMALL = {"averaging_window": 4, "learning_period": 7, "estimation_samples": 13,
         "history_window": 30, "reestimation_period": 6}


class ScalarLikelihood:
    """One series, plain Python, in the reference's order of operations.

    Unlike the class under test, it keeps a deque of learned scores, fits the
    Gaussian at the *start* of a step (when it has none yet or the iteration
    is a multiple of the re-estimation period) and remembers the previous
    learned average for the red-zone filter.
    """

    def __init__(self, averaging_window=10, learning_period=288, estimation_samples=100,
                 history_window=8640, reestimation_period=100, min_mean=0.03,
                 min_variance=0.0003, two_sided=True, suppress_red_zone=True):
        self.a, self.lp, self.e = averaging_window, learning_period, estimation_samples
        self.w, self.r = history_window, reestimation_period
        self.min_mean, self.min_variance = min_mean, min_variance
        self.two_sided, self.suppress = two_sided, suppress_red_zone
        self.history = collections.deque(maxlen=history_window)
        self.iteration = 0
        self.distribution = None
        self.previous = None

    def tail(self, x):
        mean, std = self.distribution
        if self.two_sided and x < mean:
            x = 2 * mean - x
        return 0.5 * math.erfc((x - mean) / std / 1.4142)

    def fit(self):
        scores = list(self.history)
        averages = []
        for i in range(len(scores)):
            part = scores[max(0, i - self.a + 1): i + 1]
            total = 0.0
            for v in part:
                total += v
            averages.append(total / len(part))
        skip = min(self.iteration, max(0, self.lp - max(0, self.iteration - self.w)))
        used = averages[skip:]
        if not used:
            return 0.5, 1e3
        mean = 0.0
        for v in used:
            mean += v
        mean /= len(used)
        var = 0.0
        for v in used:
            var += (v - mean) * (v - mean)
        var /= len(used)
        return max(mean, self.min_mean), math.sqrt(max(var, self.min_variance))

    def step(self, x, learn=True):
        if math.isnan(x):
            return math.nan
        recent = list(self.history)[len(self.history) - (self.a - 1):] if self.a > 1 else []
        total = 0.0
        for v in recent:
            total += v
        average = (total + x) / (len(recent) + 1)
        if self.iteration < self.lp + self.e:
            out = math.nan
        else:
            if self.distribution is None or self.iteration % self.r == 0:
                self.distribution = self.fit()
            q = self.tail(average)
            red = 1.0 - 0.99999
            if self.suppress and q <= red and self.tail(self.previous) <= red:
                q = 1.0 - 0.999
            out = max(math.log(1.0000000001 - (1.0 - q)) / math.log(1.0 - 0.9999999999), 0.0)
        if learn:
            self.history.append(x)
            self.iteration += 1
            self.previous = average
        return out


def bursty_scores(n=400, n_series=4, seed=0, nan_fraction=0.05):
    """Gamma noise with bursts of large scores, some NaN, and a learn mask."""
    rng = np.random.default_rng(seed)
    scores = rng.gamma(2.0, 0.3, size=(n, n_series))
    for s in range(n_series):
        for start in rng.choice(np.arange(30, n - 10), size=6, replace=False):
            scores[start: start + rng.integers(1, 8), s] += rng.uniform(1.0, 6.0)
    scores[rng.random((n, n_series)) < nan_fraction] = np.nan
    learn = rng.random((n, n_series)) > 0.1
    return scores, learn


@pytest.mark.parametrize("two_sided", [True, False])
@pytest.mark.parametrize("suppress", [True, False])
def test_matches_scalar_transcription(two_sided, suppress):
    scores, learn = bursty_scores()
    params = {**SMALL, "two_sided": two_sided, "suppress_red_zone": suppress}
    got = AnomalyLikelihood(**params).transform(scores, learn)
    expected = np.empty_like(scores)
    for s in range(scores.shape[1]):
        reference = ScalarLikelihood(**params)
        expected[:, s] = [reference.step(x, bool(k)) for x, k in
                          zip(scores[:, s], learn[:, s], strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, equal_nan=True)
    # The data do reach the red zone (and, when filtering, the yellow level).
    assert np.nansum(got >= AnomalyLikelihood.default_cutoff) >= 4
    yellow = float(log_scale(1.0 - (1.0 - 0.999)))
    assert suppress == bool(np.any(np.isclose(got, yellow, rtol=0, atol=1e-12)))


def test_matches_scalar_transcription_with_defaults_and_wrapping_history():
    rng = np.random.default_rng(5)
    scores = rng.uniform(0.0, 1.0, size=(9500, 1))
    scores[9000:9010] = 4.0
    got = AnomalyLikelihood().transform(scores)[:, 0]
    reference = ScalarLikelihood()
    expected = [reference.step(x) for x in scores[:, 0]]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, equal_nan=True)


def test_transform_equals_update():
    scores, learn = bursty_scores(seed=1)
    block = AnomalyLikelihood(**SMALL)
    stream = AnomalyLikelihood(**SMALL)
    batch = block.transform(scores, learn)
    rows = np.array([stream.update(x, k) for x, k in zip(scores, learn, strict=True)])
    # transform is vectorised over time: its sums and fits are those of update, in the same
    # order, but element-wise functions (log, erfc) run over other array shapes, so equality
    # is promised only up to rounding (it is usually bit for bit).
    np.testing.assert_allclose(batch, rows, rtol=1e-12, atol=1e-15, equal_nan=True)
    assert_states_close(block, stream)


def assert_states_close(got, expected):
    """Same counts and history; averages and fits equal up to rounding."""
    got, expected = got.state_dict()["state"], expected.state_dict()["state"]
    assert got["n_series"] == expected["n_series"]
    np.testing.assert_array_equal(got["count"], expected["count"])
    np.testing.assert_array_equal(got["history"], expected["history"])
    for key in ("last_average", "mean", "std"):
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, atol=1e-15,
                                   equal_nan=True, err_msg=key)


SPLIT_PARAMS = {
    "small": SMALL,
    "continuous fit, one-sided, unfiltered": {**SMALL, "reestimation_period": 1,
                                              "two_sided": False,
                                              "suppress_red_zone": False},
    "no learning period, short history": {"averaging_window": 3, "learning_period": 0,
                                          "estimation_samples": 5, "history_window": 8,
                                          "reestimation_period": 4},
    "no averaging": {"averaging_window": 1, "learning_period": 2, "estimation_samples": 1,
                     "history_window": 6, "reestimation_period": 5},
    "warm-up on a fit count": {"averaging_window": 5, "learning_period": 10,
                               "estimation_samples": 10, "history_window": 25,
                               "reestimation_period": 10, "min_mean": 0.0,
                               "min_variance": 0.0},
}


def random_splits(rng, n):
    """Cut points 0 < ... < n: single rows, short blocks and blocks longer than the history."""
    cuts, at = [0], 0
    while at < n:
        at = min(n, at + int(rng.choice([1, 1, 2, 3, 7, 19, 64, 150])))
        cuts.append(at)
    return cuts


@pytest.mark.parametrize("name", SPLIT_PARAMS)
@pytest.mark.parametrize("seed", range(4))
def test_transform_over_any_split_matches_update_and_continues_like_it(name, seed):
    params = SPLIT_PARAMS[name]
    rng = np.random.default_rng(100 + seed)
    scores, learn = bursty_scores(n=600, n_series=5, seed=seed, nan_fraction=0.08)
    scores[:, 3] = np.where(np.isnan(scores[:, 3]), np.nan, 0.5)  # flat: zero variance
    learn[:, 4] = True  # one series learns everything, the others skip different rows
    if seed % 2:
        learn = np.ones_like(learn)  # the packed fast path
    stream = AnomalyLikelihood(**params)
    expected = np.array([stream.update(x, k) for x, k in zip(scores, learn, strict=True)])
    block = AnomalyLikelihood(**params)
    cuts = random_splits(rng, scores.shape[0])
    got = np.concatenate([block.transform(scores[a:b], learn[a:b])
                          for a, b in itertools.pairwise(cuts)])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15, equal_nan=True)
    cutoff = AnomalyLikelihood.default_cutoff
    yellow = float(log_scale(1.0 - (1.0 - 0.999)))
    np.testing.assert_array_equal(got >= cutoff, expected >= cutoff)
    np.testing.assert_array_equal(got == yellow, expected == yellow)
    assert_states_close(block, stream)
    # Both continue alike, with their state saved and restored on the way.
    following = np.random.default_rng(seed).gamma(2.0, 0.3, size=(200, 5))
    following[150:160] += 5.0
    resumed = AnomalyLikelihood(**params).load_state_dict(block.state_dict())
    np.testing.assert_allclose(resumed.transform(following),
                               [stream.update(x) for x in following],
                               rtol=1e-12, atol=1e-15, equal_nan=True)


def test_red_zone_suppression_is_exercised_by_the_split_test():
    scores, learn = bursty_scores(n=600, n_series=5, seed=0, nan_fraction=0.08)
    out = AnomalyLikelihood(**SMALL).transform(scores, learn)
    free = AnomalyLikelihood(**SMALL, suppress_red_zone=False).transform(scores, learn)
    yellow = float(log_scale(1.0 - (1.0 - 0.999)))
    assert ((free >= AnomalyLikelihood.default_cutoff) & (out == yellow)).sum() >= 3


def test_transform_in_small_pieces_of_memory_is_the_same(monkeypatch):
    import kizashi.decision.likelihood as module

    scores, learn = bursty_scores(n=500, n_series=6, seed=13)
    whole = AnomalyLikelihood(**SMALL)
    expected = whole.transform(scores, learn)
    # A few scores per block (several rows, then one row at a time when series are many)
    # and per fit: every chunking loop runs many times.
    monkeypatch.setattr(module, "_BLOCK_ELEMENTS", 40)
    monkeypatch.setattr(module, "_CHUNK_ELEMENTS", 50)
    pieces = AnomalyLikelihood(**SMALL)
    np.testing.assert_allclose(pieces.transform(scores, learn), expected, rtol=1e-12,
                               atol=1e-15, equal_nan=True)
    assert_states_close(pieces, whole)
    monkeypatch.setattr(module, "_BLOCK_ELEMENTS", 5)
    single = AnomalyLikelihood(**SMALL)
    np.testing.assert_allclose(single.transform(scores, learn), expected, rtol=1e-12,
                               atol=1e-15, equal_nan=True)


def test_long_block_with_defaults_matches_update_past_the_history_window():
    rng = np.random.default_rng(14)
    scores = rng.gamma(2.0, 0.3, size=(9300, 2))
    scores[9000:9008] += 4.0
    learn = np.ones(scores.shape, dtype=bool)
    learn[5000:5300, 1] = False
    scores[rng.random(scores.shape) < 0.01] = np.nan
    block, stream = AnomalyLikelihood(), AnomalyLikelihood()
    got = np.concatenate([block.transform(scores[:4000], learn[:4000]),
                          block.transform(scores[4000:], learn[4000:])])
    expected = np.array([stream.update(x, k) for x, k in zip(scores, learn, strict=True)])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15, equal_nan=True)
    assert np.nansum(got >= AnomalyLikelihood.default_cutoff) >= 2
    assert_states_close(block, stream)


def test_empty_block():
    calibrator = AnomalyLikelihood(**SMALL)
    assert calibrator.transform(np.zeros((0, 3))).shape == (0, 3)
    assert calibrator.state_["count"].tolist() == [0, 0, 0]


def test_one_dimensional_block_is_one_series():
    scores, _ = bursty_scores(n_series=1, seed=2)
    one = AnomalyLikelihood(**SMALL).transform(scores[:, 0])
    two = AnomalyLikelihood(**SMALL).transform(scores)
    assert one.shape == (scores.shape[0],)
    np.testing.assert_array_equal(one, two[:, 0])


def test_state_round_trip_continues_bit_for_bit():
    scores, learn = bursty_scores(seed=3)
    uninterrupted = AnomalyLikelihood(**SMALL).transform(scores, learn)
    first = AnomalyLikelihood(**SMALL)
    first.transform(scores[:150], learn[:150])
    text = json.dumps(to_json_safe(first.state_dict()))
    resumed = AnomalyLikelihood(**SMALL).load_state_dict(from_json_safe(json.loads(text)))
    assert states_equal(resumed.state_dict(), first.state_dict())
    np.testing.assert_array_equal(resumed.transform(scores[150:], learn[150:]),
                                  uninterrupted[150:])


def test_state_from_other_parameters_is_refused():
    state = AnomalyLikelihood(**SMALL).reset(2).state_dict()
    with pytest.raises(ValueError, match="parameters"):
        AnomalyLikelihood().load_state_dict(state)


def test_warm_up_is_nan_then_values_in_unit_interval():
    rng = np.random.default_rng(4)
    calibrator = AnomalyLikelihood(learning_period=20, estimation_samples=30)
    assert calibrator.n_warmup == 50
    out = calibrator.transform(rng.gamma(2.0, 0.3, size=(300, 3)))
    assert np.isnan(out[:50]).all()
    assert np.isfinite(out[50:]).all()
    assert (out[50:] >= 0).all() and (out[50:] <= 1).all()


def test_stationary_noise_rarely_crosses_the_cutoff():
    # Gaussian scores: the ten-score average is Gaussian, its two-sided red zone has
    # probability 2e-5, i.e. about 2 expected crossings in 5 x ~19,600 steps.
    rng = np.random.default_rng(6)
    out = AnomalyLikelihood().transform(rng.normal(1.0, 0.3, size=(20_000, 5)))
    assert np.nansum(out >= AnomalyLikelihood.default_cutoff) <= 10
    # The median of |z| is 0.674, tail probability 1/4: log scale of likelihood 3/4.
    assert np.nanmedian(out) == pytest.approx(math.log(0.25) / math.log(1e-10), abs=0.005)


def test_skewed_noise_crosses_as_often_as_its_tail_says():
    # Gamma(2, 0.3) scores: their ten-score average is Gamma(20, 0.3), whose tail
    # beyond mean + 4.265 sd (the red line) is 2.9e-4: about 28 expected crossings.
    from scipy.stats import gamma

    rng = np.random.default_rng(6)
    out = AnomalyLikelihood().transform(rng.gamma(2.0, 0.3, size=(20_000, 5)))
    n_scored = np.isfinite(out).sum()
    expected = n_scored * gamma.sf(20 + 4.2649 * math.sqrt(20), 20)
    assert expected / 3 < np.nansum(out >= AnomalyLikelihood.default_cutoff) < 3 * expected


def test_sustained_jump_gives_values_near_one():
    rng = np.random.default_rng(7)
    raw = np.r_[rng.uniform(0.0, 1.0, 600), np.full(30, 5.0)]
    free = AnomalyLikelihood(suppress_red_zone=False).transform(raw)
    assert np.nanmax(free[:600]) < AnomalyLikelihood.default_cutoff
    assert (free[601:630] > 0.99).all()
    filtered = AnomalyLikelihood().transform(raw)
    crossing = np.flatnonzero(filtered >= AnomalyLikelihood.default_cutoff)
    assert crossing.tolist() == [600]  # the onset only: red after red becomes yellow
    assert filtered[600] == free[600]
    np.testing.assert_allclose(filtered[601:630], math.log(0.0010000001) / math.log(1e-10),
                               rtol=1e-6)


def test_low_scores_count_only_when_two_sided():
    rng = np.random.default_rng(8)
    raw = np.r_[rng.uniform(0.5, 1.5, 600), np.zeros(20)]
    assert np.nanmax(AnomalyLikelihood(suppress_red_zone=False).transform(raw)[600:]) > 0.99
    one_sided = AnomalyLikelihood(two_sided=False, suppress_red_zone=False).transform(raw)[600:]
    assert np.nanmax(one_sided) < 0.01
    assert np.nanmin(one_sided) == 0.0  # q near 1 would give -4e-12: clipped to 0


def test_nan_gives_nan_and_leaves_that_series_alone():
    scores, _ = bursty_scores(nan_fraction=0.0, seed=9)
    with_gap = AnomalyLikelihood(**SMALL)
    with_gap.transform(scores[:200])
    before = with_gap.state_dict()["state"]
    out = with_gap.update(np.array([np.nan, 0.5, np.nan, 0.7]))
    assert np.isnan(out[[0, 2]]).all() and np.isfinite(out[[1, 3]]).all()
    after = with_gap.state_dict()["state"]
    for key in ("count", "last_average", "mean", "std"):
        np.testing.assert_array_equal(after[key][[0, 2]], before[key][[0, 2]])
    np.testing.assert_array_equal(after["history"][:, [0, 2]], before["history"][:, [0, 2]])
    assert (after["count"][[1, 3]] == before["count"][[1, 3]] + 1).all()


def test_nan_row_is_as_if_it_never_arrived():
    scores, _ = bursty_scores(nan_fraction=0.0, seed=10)
    gappy = scores.copy()
    gappy[100] = np.nan
    out = AnomalyLikelihood(**SMALL).transform(gappy)
    without = AnomalyLikelihood(**SMALL).transform(np.delete(scores, 100, axis=0))
    assert np.isnan(out[100]).all()
    np.testing.assert_array_equal(np.delete(out, 100, axis=0), without)


def test_learn_false_calibrates_but_changes_nothing():
    scores, _ = bursty_scores(nan_fraction=0.0, seed=11)
    calibrator = AnomalyLikelihood(**SMALL)
    calibrator.transform(scores[:200])
    before = calibrator.state_dict()
    row = np.array([0.2, 9.0, 0.4, 3.0])
    read = calibrator.update(row, learn=np.zeros(4, dtype=bool))
    assert states_equal(before, calibrator.state_dict())
    # The engine reads a step with learn=False, then learns what it did not protect:
    # the level is the same both times, and only the learned series move.
    mask = np.array([True, False, True, False])
    np.testing.assert_array_equal(calibrator.update(row, learn=mask), read)
    after = calibrator.state_dict()["state"]
    assert (after["count"] == before["state"]["count"] + mask).all()
    np.testing.assert_array_equal(after["history"][:, ~mask], before["state"]["history"][:, ~mask])


def test_a_protected_stretch_is_left_out_of_the_baseline():
    rng = np.random.default_rng(12)
    raw = np.r_[rng.uniform(0.0, 1.0, 500), np.full(300, 4.0), rng.uniform(0.0, 1.0, 5)]
    learn = np.ones(raw.shape, dtype=bool)
    learn[500:800] = False
    protected = AnomalyLikelihood().transform(raw, learn)
    learned = AnomalyLikelihood(suppress_red_zone=False).transform(raw)
    assert (protected[510:800] > 0.29).all()  # still yellow or red after 300 steps
    assert learned[799] < 0.3  # learning the shift made it the new normal


def test_default_cutoff_is_numentas_red_line():
    by_hand = math.log(1.0000000001 - 0.99999) / math.log(1.0 - 0.9999999999)
    assert AnomalyLikelihood.default_cutoff == pytest.approx(by_hand, rel=1e-12)
    assert AnomalyLikelihood().default_cutoff == pytest.approx(0.5, abs=1e-6)
    assert log_scale(1.0 - 0.99e-5) >= AnomalyLikelihood.default_cutoff
    assert log_scale(1.0 - 1.01e-5) < AnomalyLikelihood.default_cutoff


def test_params_and_errors():
    calibrator = AnomalyLikelihood(history_window=500)
    assert calibrator.get_params()["history_window"] == 500
    assert calibrator.state_ is None
    with pytest.raises(ValueError, match="history_window"):
        AnomalyLikelihood(history_window=50).reset(1)
    with pytest.raises(ValueError, match="averaging_window"):
        AnomalyLikelihood(averaging_window=0).reset(1)
    with pytest.raises(ValueError, match="reset"):
        AnomalyLikelihood().reset(2).update(np.zeros(3))
    with pytest.raises(ValueError, match="learn"):
        AnomalyLikelihood().reset(2).update(np.zeros(2), learn=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="no state"):
        AnomalyLikelihood().state_dict()


@pytest.mark.parametrize("segment", [1, 3, 7, 64])
@pytest.mark.parametrize("name", ["small", "no learning period, short history"])
def test_fits_of_any_split_are_the_streams_bit_for_bit(monkeypatch, segment, name):
    """Each fit combines segments aligned on the learned index; the block path reads whole
    ones from a table, the stream sums the same ones afresh: after every cut the fitted
    mean and std are the stream's exactly (short segments: many whole ones per fit)."""
    from kizashi.decision import likelihood_kernel

    monkeypatch.setattr(likelihood_kernel, "SEGMENT", segment)
    params = SPLIT_PARAMS[name]
    rng = np.random.default_rng(segment)
    scores, learn = bursty_scores(n=500, n_series=4, seed=segment, nan_fraction=0.08)
    scores[:, 1] += 1e6  # far from 0
    scores[:, 2] = np.where(np.isnan(scores[:, 2]), np.nan, 0.07)  # flat
    stream, block = AnomalyLikelihood(**params), AnomalyLikelihood(**params)
    for a, b in itertools.pairwise(random_splits(rng, len(scores))):
        block.transform(scores[a:b], learn[a:b])
        for x, k in zip(scores[a:b], learn[a:b], strict=True):
            stream.update(x, k)
        for key in ("mean", "std"):
            np.testing.assert_array_equal(block.state_[key], stream.state_[key], err_msg=key)
    assert np.isfinite(block.state_["std"]).all()
