"""The contextual (pattern) detector, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.registry import create


def test_a_repeated_value_grows_familiar_as_one_over_one_plus_count():
    detector = create("context", max_order=1, min_periods=0)
    np.testing.assert_allclose(detector.score([5.0, 5.0, 5.0, 5.0]), [1, 1 / 2, 1 / 3, 1 / 4])


def test_counts_forget_with_a_halflife():
    detector = create("context", max_order=1, min_periods=0, halflife=1.0)
    # each step the count halves before the new one is added: 0, 1*0.5 -> 1.5, ...
    scores = detector.score([5.0, 5.0, 5.0])
    np.testing.assert_allclose(scores, [1.0, 1 / (1 + 1.0), 1 / (1 + 1.5)])


def test_a_value_beyond_the_range_is_wholly_new():
    values = np.r_[np.tile([0.0, 1.0, 2.0, 3.0], 100), 10.0]
    scores = create("context").score(values)
    assert scores[-1] > 0.8 and scores[300:-1].max() < 0.05


def test_a_usual_value_out_of_its_place_is_contextual():
    values = np.tile([0.0, 1.0, 2.0, 3.0], 100)
    values[350] = 3.0  # a value seen every cycle, after the wrong neighbour
    scores = create("context").score(values)
    assert int(np.argmax(scores[100:])) + 100 in (350, 351)
    assert scores[350] > 0.3


def test_nothing_before_min_periods_and_nan_is_nan():
    scores = create("context", min_periods=5).score([1.0, 2.0, np.nan, 3.0, 4.0, 9.0, 1.0])
    assert (scores[[0, 1, 3, 4, 5]] == 0).all() and np.isnan(scores[2])
    assert scores[6] > 0  # the first value after five observed ones


@pytest.mark.parametrize("bad", [{"levels": 1}, {"max_order": 0}, {"table_size": 4},
                                 {"halflife": 0.0}, {"range_halflife": -1.0},
                                 {"min_periods": 1.5}, {"tolerance": -0.1}])
def test_bad_parameters_are_refused(bad):
    with pytest.raises(ValueError, match="context"):
        create("context", **bad).score([1.0, 2.0])
