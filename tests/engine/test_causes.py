"""Attribution from any detector, and ranked causes."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from kizashi.detectors.registry import create
from kizashi.engine.causes import attribution_of, rank_causes, shares_of


def broken(seed: int, column: int, n: int = 300, width: int = 5) -> np.ndarray:
    values = np.random.default_rng(seed).normal(0, 1, (n, width))
    values[-5:, column] += 12.0
    return values


@pytest.mark.parametrize("column", range(5))
def test_univariate_scores_blame_the_broken_metric(column):
    detector = create("threshold", window=100, min_periods=20)
    values = broken(column, column)
    shares = attribution_of(detector, values)
    assert shares.shape == values.shape
    assert (np.nanargmax(shares[-3:], axis=1) == column).all()
    np.testing.assert_allclose(np.nansum(shares[-5:], axis=1), 1.0)
    assert detector.state_ is not None and detector.state_["window"]["count"].max() == 0


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_multivariate_attribution_is_the_detectors_own():
    values = broken(1, 3, n=600, width=4)
    detector = create("autoencoder", window=4, hidden=16, latent=2, epochs=5, device="cpu")
    detector.fit(values[:400])
    shares = attribution_of(detector, values[400:])
    np.testing.assert_allclose(shares, detector.explain(values[400:]).attribution)
    assert (np.nanargmax(shares[-5:], axis=1) == 3).all()


def test_shares_and_ranking():
    np.testing.assert_allclose(shares_of(np.array([[2.0, -1.0, 6.0]])), [[0.25, 0.0, 0.75]])
    assert rank_causes([0.2, 0.5, 0.3], ["a", "b", "c"], k=2) == [("b", 0.5), ("c", 0.3)]
    assert rank_causes([0.2, 0.0, 0.8], ["a", "b", "c"], k=5) == [("c", 0.8), ("a", 0.2)]
    with pytest.raises(ValueError, match="2 names"):
        rank_causes([0.1, 0.2, 0.3], ["a", "b"])
