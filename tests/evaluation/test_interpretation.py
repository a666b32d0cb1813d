"""OmniAnomaly's HitRate@P% on hand-worked cases, and the per-row cause sets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kizashi.evaluation.interpretation import (
    cause_sets,
    hit_rate_at_p,
    hit_rates,
    incident_attribution,
    incident_runs,
)


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


# Two incidents (runs of detected rows 1–3 and 5–6) of a hand-made attribution; truth {0}
# in rows 1–3, {2} in rows 5–6. Top-1 (⌊1·1⌋ = ⌊1.5·1⌋ = 1 dim looked at) by hand:
#   row 1 ranks dim 1 (miss), row 2 and 3 dim 0 (hit), row 5 dim 2 (hit), row 6 dim 0 (miss).
#   whole incident 1: means (0.5, 0.4, 0.1) → dim 0 for rows 1–3; incident 2: (0.3, 0.25,
#   0.45) → dim 2 for rows 5–6: every row hits.
#   so far: row 1 its own (miss); row 2 (0.4, 0.5, 0.1) → dim 1 (miss); row 3 the whole
#   (hit); row 5 its own (hit); row 6 the whole of incident 2 (hit).
HAND_ATTRIBUTION = np.array([
    [0.9, 0.05, 0.05],   # 0: not detected
    [0.2, 0.7, 0.1],
    [0.6, 0.3, 0.1],
    [0.7, 0.2, 0.1],
    [0.0, 0.0, 1.0],     # 4: not detected
    [0.1, 0.1, 0.8],
    [0.5, 0.4, 0.1],
    [0.3, 0.3, 0.4],     # 7: not detected
])
HAND_DETECTED = np.array([0, 1, 1, 1, 0, 1, 1, 0], dtype=bool)
HAND_SEGMENTS = [(1, 3, (0,)), (5, 6, (2,))]


def test_incident_runs_by_hand():
    assert incident_runs(HAND_DETECTED) == [(1, 3), (5, 6)]
    assert incident_runs(np.ones(3, dtype=bool)) == [(0, 2)]
    assert incident_runs(np.zeros(4, dtype=bool)) == []


def test_incident_hit_rates_by_hand():
    row = hit_rates(HAND_ATTRIBUTION, HAND_SEGMENTS, HAND_DETECTED)
    whole = hit_rates(incident_attribution(HAND_ATTRIBUTION, HAND_DETECTED), HAND_SEGMENTS,
                      HAND_DETECTED)
    so_far = hit_rates(incident_attribution(HAND_ATTRIBUTION, HAND_DETECTED, so_far=True),
                       HAND_SEGMENTS, HAND_DETECTED)
    assert row == {"hitrate_100": 3 / 5, "hitrate_150": 3 / 5, "n_points": 5}
    assert whole == {"hitrate_100": 1.0, "hitrate_150": 1.0, "n_points": 5}
    assert so_far == {"hitrate_100": 3 / 5, "hitrate_150": 3 / 5, "n_points": 5}


def test_incident_attribution_means_by_hand():
    whole = incident_attribution(HAND_ATTRIBUTION, HAND_DETECTED)
    np.testing.assert_allclose(whole[1:4], [[0.5, 0.4, 0.1]] * 3)
    np.testing.assert_allclose(whole[5:7], [[0.3, 0.25, 0.45]] * 2)
    assert np.isnan(whole[[0, 4, 7]]).all()
    so_far = incident_attribution(HAND_ATTRIBUTION, HAND_DETECTED, so_far=True)
    np.testing.assert_allclose(so_far[1:4], [[0.2, 0.7, 0.1], [0.4, 0.5, 0.1],
                                             [0.5, 0.4, 0.1]])
    # a metric missing on a row is averaged over the rows that have it
    gappy = HAND_ATTRIBUTION.copy()
    gappy[2, 1] = np.nan
    np.testing.assert_allclose(incident_attribution(gappy, HAND_DETECTED)[1], [0.5, 0.45, 0.1])
    np.testing.assert_allclose(incident_attribution(gappy, HAND_DETECTED, so_far=True)[2],
                               [0.4, 0.7, 0.1])


@pytest.mark.parametrize("seed", range(8))
def test_incidents_are_the_engines_runs_and_means(seed):
    """The runs are ``kizashi detect``'s incidents of one entity (engine.batch.incidents),
    the whole-incident ranking is diagnosis' mean over them, and the last row of a run
    knows as much as the whole (random flags and attributions)."""
    from kizashi.engine.batch import incidents

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    flags = rng.random(n) < rng.uniform(0.1, 0.9)
    attribution = rng.random((n, 4))
    engine = [(i.start, i.end) for i in incidents(flags[:, None])]
    assert incident_runs(flags) == engine
    whole = incident_attribution(attribution, flags)
    so_far = incident_attribution(attribution, flags, so_far=True)
    for start, end in engine:
        np.testing.assert_allclose(whole[start:end + 1],
                                   np.repeat(attribution[start:end + 1].mean(axis=0)[None],
                                             end - start + 1, axis=0))
        np.testing.assert_allclose(so_far[end], whole[end])
        np.testing.assert_allclose(so_far[start], attribution[start])
    assert np.isnan(whole[~flags]).all() and np.isnan(so_far[~flags]).all()


def test_incident_attribution_bad_shapes_are_one_line_errors():
    with pytest.raises(ValueError, match="must be"):
        incident_attribution(np.ones(3), np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="verdicts"):
        incident_attribution(np.ones((3, 2)), np.ones(4, dtype=bool))
