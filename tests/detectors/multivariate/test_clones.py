"""Clone groups and their discount: hand-made groups and hand-computed discounts."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.multivariate.clones import clone_groups, discount_clones
from kizashi.detectors.multivariate.deviation import DeviationAttribution


@pytest.mark.parametrize("scale, offset", [(1.0, 0.0), (3.0, -7.0), (1e-4, 5.0), (250.0, 1e3)])
def test_affine_copies_are_one_group_and_independent_metrics_are_alone(scale, offset):
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 800), rng.normal(0, 1, 800)
    noise = rng.normal(0, 0.01, 800)   # corr(a, a + noise) ≈ 0.99995
    train = np.c_[b, a, rng.normal(0, 1, 800), a * scale + offset, a + noise]
    assert clone_groups(train, 0.95).tolist() == [0, 1, 2, 1, 1]


def test_a_chain_of_close_pairs_is_one_group_and_constants_and_opposites_are_not():
    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, 2000)
    b = a + rng.normal(0, 0.25, 2000)   # corr(a, b) ≈ 0.97, corr(a, c) ≈ 0.94
    c = b + rng.normal(0, 0.25, 2000)   # corr(b, c) ≈ 0.97
    train = np.c_[a, b, c, np.full(2000, 4.0), -a]
    corr = np.corrcoef(np.c_[a, b, c].T)
    assert corr[0, 2] < 0.95 <= min(corr[0, 1], corr[1, 2])   # the premise of the chain
    assert clone_groups(train, 0.95).tolist() == [0, 0, 0, 3, 4]


def test_rows_with_a_missing_value_are_left_out_of_the_correlation():
    rng = np.random.default_rng(2)
    a = rng.normal(0, 1, 600)
    train = np.c_[a, a * 2.0, rng.normal(0, 1, 600)]
    train[::7, 2] = np.nan
    train[5, 1] = np.nan
    assert clone_groups(train, 0.99).tolist() == [0, 0, 2]
    assert clone_groups(np.full((10, 3), np.nan), 0.99).tolist() == [0, 1, 2]
    # a metric that is mostly missing does not hide the others' rows
    sparse = np.c_[np.full(600, np.nan), train]
    sparse[::3, 0] = 1.0
    assert clone_groups(sparse, 0.99).tolist() == [0, 1, 1, 3]


def test_the_discount_by_hand():
    # group {0, 1, 3}: ranks by deviation 3 > 2 > 1 → factors 1, 0.5, 0.25; metric 2 alone
    deviation = np.array([[1.0, 3.0, 9.0, 2.0],
                          [-1.0, 4.0, 0.5, np.nan],     # a negative part and a missing metric
                          [2.0, 2.0, 0.0, 2.0]])        # ties: the lower index first
    out = discount_clones(deviation, np.array([0, 0, 2, 0]), 0.5)
    expected = np.array([[0.25, 3.0, 9.0, 1.0],
                         [-1.0, 4.0, 0.5, np.nan],
                         [2.0, 1.0, 0.0, 0.5]])
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("seed", range(5))
def test_the_discount_keeps_each_groups_order_and_top_and_leaves_the_others(seed):
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 4, 9)
    deviation = rng.normal(1, 2, (50, 9))
    out = discount_clones(deviation, groups, 0.3)
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        part, new = deviation[:, members], out[:, members]
        top = np.argmax(part, axis=1)
        np.testing.assert_array_equal(new[np.arange(50), top], part[np.arange(50), top])
        assert (np.argsort(-new, axis=1, kind="stable")[:, 0] == top).all()
        assert (np.abs(new) <= np.abs(part) + 1e-15).all()
    np.testing.assert_array_equal(discount_clones(deviation, groups, 1.0), deviation)


def test_a_cause_is_not_pushed_out_by_three_copies_of_another():
    # metrics 0-2 are copies of one signal, 3 an independent one; from step 300 both move,
    # the copies more: without the discount the independent cause ranks 4th, with it 2nd
    rng = np.random.default_rng(3)
    base, other = rng.normal(0, 1, 3400), rng.normal(0, 1, 3400)
    rows = np.c_[base, base * 2.0, base + 1.0, other]
    rows[3300:, :3] += np.array([8.0, 16.0, 8.0])
    rows[3300:, 3] += 5.0
    train, test = rows[:3000], rows[3000:]
    judged = slice(310, 400)
    with_clones = DeviationAttribution(lag=0).fit(train).deviation(test)[judged]
    without = DeviationAttribution(lag=0, clone_factor=1.0).fit(train).deviation(test)[judged]
    rank_of_cause = (np.argsort(-with_clones, axis=1) == 3).argmax(axis=1)
    assert (rank_of_cause == 1).all()
    assert ((np.argsort(-without, axis=1) == 3).argmax(axis=1) == 3).all()


def test_a_pair_has_its_own_factor_by_hand():
    # groups: the pair {0, 1} (factor 0.8), the triple {2, 4, 5} (factor 0.5), 3 alone
    deviation = np.array([[5.0, 10.0, 4.0, 7.0, 8.0, 2.0],
                          [3.0, 3.0, -1.0, 1.0, 6.0, np.nan]])   # a tie; a negative part
    groups = np.array([0, 0, 2, 3, 2, 2])
    out = discount_clones(deviation, groups, 0.5, pair_factor=0.8)
    expected = np.array([[4.0, 10.0, 2.0, 7.0, 8.0, 0.5],
                         [3.0, 2.4, -1.0, 1.0, 6.0, np.nan]])
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    # without a pair factor the pair is discounted as the others
    np.testing.assert_array_equal(discount_clones(deviation, groups, 0.5, pair_factor=None),
                                  discount_clones(deviation, groups, 0.5))
    assert discount_clones(deviation, groups, 0.5, pair_factor=None)[0, 0] == 2.5


@pytest.mark.parametrize("copies, rank_of_other", [(2, 2), (3, 1)])
def test_a_pair_ranks_both_members_first_and_three_copies_share_one_place(copies,
                                                                        rank_of_other):
    # metrics 0..copies-1 are copies of one signal, all moving by 8 of their spreads; the
    # independent metric `copies` moves by 5. A pair (factor 0.8: 8 × 0.8 > 5) keeps both
    # members ahead of it: it ranks 3rd (0-based 2). Three copies (factor 0.3: 8 × 0.3 < 5)
    # are one signal: it ranks 2nd (0-based 1), right after the group's leader.
    rng = np.random.default_rng(4)
    base, other = rng.normal(0, 1, 3400), rng.normal(0, 1, 3400)
    scales = np.arange(1, copies + 1, dtype=float)
    rows = np.c_[base[:, None] * scales + scales, other]
    rows[3300:, :copies] += 8.0 * scales
    rows[3300:, copies] += 5.0
    train, test = rows[:3000], rows[3000:]
    assert clone_groups(train, 0.95).tolist() == [0] * copies + [copies]
    deviation = DeviationAttribution(lag=0).fit(train).deviation(test)[310:400]
    ranks = np.argsort(-deviation, axis=1, kind="stable")
    assert ((ranks == copies).argmax(axis=1) == rank_of_other).all()
