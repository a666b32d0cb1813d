"""The fixed-reference multivariate detector, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.registry import create

TRAIN = np.array([[0.0, 0.0], [2.0, 4.0]])  # mean (1, 2), std (1, 2)


@pytest.mark.parametrize(("aggregate", "expected"), [("mean", 1.0), ("l2", np.sqrt(2.0)),
                                                     ("max", 2.0)])
def test_zscore_aggregates_by_hand(aggregate, expected):
    detector = create("reference", method="zscore", aggregate=aggregate).fit(TRAIN)
    assert detector.score(np.array([[3.0, 2.0]]))[0] == pytest.approx(expected)


@pytest.mark.parametrize(("power", "expected"), [
    (0.5, 2.25),                      # ((√1 + √4) / 2)² = 1.5²
    (0.25, ((1 + np.sqrt(2)) / 2) ** 4),
    (1.0, 2.5),                       # the mean
    (2.0, np.sqrt(8.5)),              # l2: √((1 + 16) / 2)
    (3.0, (65 / 2) ** (1 / 3)),
])
def test_power_aggregate_is_the_generalised_mean_by_hand(power, expected):
    # the row (2, 10) standardises to |z| = (1, 4) against TRAIN's mean (1, 2), std (1, 2)
    detector = create("reference", method="zscore", aggregate="power", power=power).fit(TRAIN)
    assert detector.score(np.array([[2.0, 10.0]]))[0] == pytest.approx(expected)


@pytest.mark.parametrize("power", [0.3, 0.7, 1.5])
def test_power_aggregate_lies_between_the_smallest_and_largest_distance(power):
    # a generalised mean of exponent p is a mean: within [min, max], and it grows with p
    rng = np.random.default_rng(int(power * 10))
    train, rows = rng.normal(0, 1, (300, 6)), rng.normal(0, 3, (50, 6))
    detector = create("reference", method="zscore", aggregate="power", power=power).fit(train)
    z = np.abs((rows - train.mean(axis=0)) / train.std(axis=0))
    scores = detector.score(rows)
    assert (scores >= z.min(axis=1) - 1e-9).all() and (scores <= z.max(axis=1) + 1e-9).all()
    higher = create("reference", method="zscore", aggregate="power", power=power + 0.5)
    assert (higher.fit(train).score(rows) >= scores - 1e-9).all()


def test_a_row_with_a_missing_metric_scores_nan():
    detector = create("reference", method="zscore").fit(TRAIN)
    scores = detector.score(np.array([[3.0, np.nan], [np.nan, np.nan], [3.0, 2.0]]))
    assert np.isnan(scores[0]) and np.isnan(scores[1]) and scores[2] == pytest.approx(1.0)


def test_pca_residual_is_zero_on_the_training_line_and_not_off_it():
    rng = np.random.default_rng(0)
    t = rng.normal(0, 1, 400)
    train = np.column_stack([t, 2 * t + 1])          # one direction of variation
    detector = create("reference", method="pca", variance=0.9).fit(train)
    on_line, off_line = detector.score(np.array([[3.0, 7.0], [3.0, -5.0]]))
    assert on_line == pytest.approx(0.0, abs=1e-9) and off_line > 2.0
    plain = create("reference", method="zscore").fit(train)
    assert plain.score(np.array([[3.0, 7.0]]))[0] > 2.0  # far, but along the usual direction


def test_nothing_is_learned_while_scoring():
    detector = create("reference").fit(np.random.default_rng(1).normal(0, 1, (100, 3)))
    before = detector.score(np.zeros((1, 3)))[0]
    detector.update_many(np.full((500, 3), 10.0))
    assert detector.score(np.zeros((1, 3)))[0] == pytest.approx(before)


def test_attribution_names_the_metric_that_moved():
    rng = np.random.default_rng(2)
    detector = create("reference").fit(rng.normal(0, 1, (300, 5)))
    rows = rng.normal(0, 1, (20, 5))
    rows[:, 3] += 12.0
    out = detector.explain(rows)
    np.testing.assert_allclose(out.attribution.sum(axis=1), 1.0)
    assert (np.argmax(out.attribution, axis=1) == 3).all()


def test_needs_training_and_checks_parameters():
    with pytest.raises(ValueError, match="fitted"):
        create("reference").score(np.zeros((3, 2)))
    for bad in ({"method": "svd"}, {"aggregate": "median"}, {"variance": 0.0},
                {"min_std": -1.0}, {"power": 0.0}, {"power": -1.0},
                {"power": float("nan")}, {"power": float("inf")}):
        with pytest.raises(ValueError):
            create("reference", **bad).fit(TRAIN)


ALTERNATING = np.tile([5.0, 3.0], 200)  # mean 4, std 1: standardised ±1


def test_a_window_sees_a_broken_alternation_that_single_rows_do_not():
    # Training windows (z_{t-1}, z_t) are (1, -1) and (-1, 1) (plus the first row padded
    # to (1, 1)): the kept axis is (1, -1)/√2, so a window on it has no residual and a
    # window (1, 1) keeps all of it: |1| per entry, mean 1 per metric (to O(1/rows): the
    # padded first window and the odd count of the others tilt the axis slightly).
    windowed = create("reference", window=2, variance=0.9).fit(ALTERNATING[:, None])
    stream = np.array([[5.0], [3.0], [5.0], [5.0]])  # z = 1, -1, 1, 1
    np.testing.assert_allclose(windowed.score(stream), [1.0, 0.0, 0.0, 1.0], atol=1e-4)
    # one metric on its own has no axis to keep: every row is |z| = 1
    single = create("reference", variance=0.9).fit(ALTERNATING[:, None])
    np.testing.assert_allclose(single.score(stream), [1.0, 1.0, 1.0, 1.0])


def test_a_windowed_stream_continues_across_calls():
    rng = np.random.default_rng(3)
    detector = create("reference", window=4).fit(rng.normal(0, 1, (300, 3)))
    rows = rng.normal(0, 1, (40, 3))
    whole = detector.score(rows)
    first = detector.update_many(rows[:25])
    np.testing.assert_allclose(np.r_[first, detector.update_many(rows[25:])], whole)
    assert np.isnan(detector.score(np.array([[0.0, np.nan, 1.0]])))[0]


@pytest.mark.parametrize("window", [0, -2, 1.5, True])
def test_window_must_be_a_whole_number_of_rows(window):
    with pytest.raises(ValueError, match="window"):
        create("reference", window=window).fit(TRAIN)
