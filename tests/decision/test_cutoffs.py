from __future__ import annotations

import numpy as np
import pytest

from kizashi.decision import parse_cutoff


def test_forms():
    assert parse_cutoff("default").resolve(default=3.0, n_series=2).tolist() == [3.0, 3.0]
    assert parse_cutoff(0.1).resolve(n_series=1).tolist() == [0.1]
    assert str(parse_cutoff("q0.999")) == "q0.999"


def test_quantile_is_per_series_and_ignores_nan():
    reference = np.array([[0.0, 5.0], [1.0, np.nan], [2.0, 7.0]])
    assert parse_cutoff("q0.5").resolve(reference=reference).tolist() == [1.0, 6.0]


def test_quantile_of_an_empty_series_flags_nothing():
    assert parse_cutoff("q0.9").resolve(reference=np.full((3, 1), np.nan)).tolist() == [np.inf]


@pytest.mark.parametrize("text", ["q2", "q", "high", "q0"])
def test_bad_cutoffs(text):
    with pytest.raises(ValueError, match="cutoff"):
        parse_cutoff(text)


def test_default_without_detector_default():
    with pytest.raises(ValueError, match="no default threshold"):
        parse_cutoff("default").resolve(default=None, n_series=1)
