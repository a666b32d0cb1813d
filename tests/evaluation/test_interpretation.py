"""OmniAnomaly's HitRate@P% on hand-worked cases, and the per-row cause sets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kizashi.evaluation.interpretation import cause_sets, hit_rate_at_p, hit_rates


def test_hand_worked_hit_rates():
    # 6 dims; truth {0, 4, 5}. Ranking by contribution: 4, 1, 0, 3, 5, 2.
    contributions = [0.20, 0.25, 0.01, 0.10, 0.30, 0.09]
    truth = {0, 4, 5}
    # P=100: top ⌊1.0·3⌋ = 3 → {4, 1, 0}: hits 4, 0 → 2/3
    assert hit_rate_at_p(contributions, truth, 100) == pytest.approx(2 / 3)
    # P=150: top ⌊1.5·3⌋ = 4 → {4, 1, 0, 3}: still 2/3
    assert hit_rate_at_p(contributions, truth, 150) == pytest.approx(2 / 3)
    # P=200: top 6 → every dim: 3/3
    assert hit_rate_at_p(contributions, truth, 200) == 1.0
    # the mlnext reference example: truth {6, 2}, ranking 6 5 1 4 3 2 → 0.5 at 100 %
    ranking = [6, 5, 1, 4, 3, 2]
    contrib = np.zeros(7)
    contrib[ranking] = np.arange(len(ranking), 0, -1)
    assert hit_rate_at_p(contrib, {6, 2}, 100) == 0.5


def test_floor_of_p_times_causes():
    # 1 cause at 150 %: ⌊1.5⌋ = 1 dim looked at; 3 causes at 150 %: ⌊4.5⌋ = 4
    assert hit_rate_at_p([0.5, 0.6], {0}, 150) == 0.0
    assert hit_rate_at_p([0.9, 0.6, 0.5, 0.4, 0.0], {1, 2, 4}, 150) == pytest.approx(2 / 3)


def test_ties_and_nan_rank_deterministically():
    assert hit_rate_at_p([1.0, 1.0, 1.0], {0}, 100) == 1.0      # stable: lower index first
    assert hit_rate_at_p([np.nan, 0.1, 0.0], {0}, 150) == 0.0   # NaN ranks last


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(ValueError, match="no ground-truth"):
        hit_rate_at_p([1.0], set(), 100)
    with pytest.raises(ValueError, match="out of range"):
        hit_rate_at_p([1.0, 2.0], {2}, 100)


def test_mean_over_detected_anomalous_rows_only():
    attribution = np.array([
        [0.0, 0.0, 1.0],     # row 0: not labelled → ignored though detected
        [0.1, 0.8, 0.1],     # row 1: truth {1}: hit
        [0.7, 0.2, 0.1],     # row 2: truth {1}: miss
        [0.1, 0.8, 0.1],     # row 3: truth {1, 2} but not detected → ignored
        [np.nan] * 3,        # row 4: no attribution → ignored
    ])
    segments = [(1, 2, (1,)), (3, 4, (1, 2))]
    detected = np.array([True, True, True, False, True])
    out = hit_rates(attribution, segments, detected)
    assert out == {"hitrate_100": 0.5, "hitrate_150": 0.5, "n_points": 2}
    every = hit_rates(attribution, segments, None)       # every labelled row with attribution
    assert every["n_points"] == 3
    assert every["hitrate_100"] == pytest.approx((1 + 0 + 0.5) / 3)
    assert every["hitrate_150"] == pytest.approx((1 + 0 + 1) / 3)   # ⌊3⌋ = 3 dims for row 3


def test_no_detected_row_gives_nan():
    out = hit_rates(np.ones((3, 2)) / 2, [(0, 0, (0,))], np.zeros(3, dtype=bool))
    assert math.isnan(out["hitrate_150"]) and out["n_points"] == 0


def test_overlapping_segments_join_their_causes():
    assert cause_sets([(0, 1, (0,)), (1, 2, (2,))], 4) == [
        frozenset({0}), frozenset({0, 2}), frozenset({2}), None]


@pytest.mark.parametrize("seed", range(5))
def test_perfect_and_reversed_rankings(seed):
    rng = np.random.default_rng(seed)
    n_dims = int(rng.integers(4, 20))
    truth = set(rng.choice(n_dims, size=int(rng.integers(1, n_dims // 2 + 1)), replace=False)
                .tolist())
    perfect = np.array([1.0 if d in truth else 0.0 for d in range(n_dims)]) + rng.random(n_dims)
    assert hit_rate_at_p(perfect, truth, 100) == 1.0
    assert hit_rate_at_p(-perfect, truth, 100) == 0.0 or 2 * len(truth) > n_dims
