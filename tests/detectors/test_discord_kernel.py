"""The discord kernel's sums of squares: numpy's own floats, and abandoning only when
a candidate cannot be the nearest."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.pattern.discord_kernel import _squared


@pytest.mark.parametrize("window", [1, 3, 7, 8, 9, 16, 31, 32, 33, 100, 128, 129, 300])
def test_sums_are_numpys_to_the_last_bit(window):
    rng = np.random.default_rng(window)
    full = np.r_[rng.normal(0.0, 1.0, window), rng.normal(0.0, 1e3, window)]
    expected = ((full[:window] - full[window:]) ** 2).sum()  # numpy's pairwise order
    assert _squared(full, 0, window, window, np.inf, 1.0) == expected


@pytest.mark.parametrize("window", [16, 32, 129])  # a check after each 8 terms
def test_abandons_only_above_the_best(window):
    rng = np.random.default_rng(1)
    full = rng.normal(0.0, 1.0, 2 * window)
    exact = _squared(full, 0, window, window, np.inf, 1.0)
    margin = 1.0 - 4.0 * (window + 16) * np.finfo(float).eps
    # a best just above the sum: never abandoned; far below it: abandoned
    assert _squared(full, 0, window, window, exact, margin) == exact
    assert _squared(full, 0, window, window, exact * (1 + 1e-9), margin) == exact
    assert _squared(full, 0, window, window, exact / 100, margin) == np.inf
