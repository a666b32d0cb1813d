"""The ``reference`` detector on metrics of extreme magnitude: a node whose metrics are all
multiplied by 1e300 (or sit near the float limit) gets the scores of the same node in an
ordinary unit, with no numerical warning. Before, the training spread overflowed to
``inf``, every standardised distance was 0 and nothing could ever be flagged (silently, but
for an "overflow encountered in multiply" warning).

Family: both methods, windows 1 and 3, factors ±1e300 and 2^1000, on three noisy metrics
with a spike in the scored part.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kizashi.detectors.multivariate.reference import ReferenceDetector

FACTORS = [1e300, -1e300, 2.0 ** 1000, 1e306]


def _node() -> np.ndarray:
    rng = np.random.default_rng(11)
    values = np.column_stack([50 + rng.normal(0, 1, 400), 20 + rng.normal(0, 2, 400),
                              80 + rng.normal(0, 0.5, 400)])
    values[350, 1] += 30.0  # a spike in the scored rows
    return values


def _scores(values: np.ndarray, method: str, window: int) -> np.ndarray:
    detector = ReferenceDetector(method=method, window=window)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        detector.fit(values[:200])
        return detector.score(values[200:])


@pytest.mark.parametrize("factor", FACTORS)
@pytest.mark.parametrize("window", [1, 3])
@pytest.mark.parametrize("method", ["zscore", "pca"])
def test_scores_do_not_depend_on_the_unit(method, window, factor):
    values = _node()
    expected = _scores(values, method, window)
    got = _scores(values * factor, method, window)
    assert 150 <= np.nanargmax(expected) < 150 + window  # the control finds the spike
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
