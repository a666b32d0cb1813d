"""An anomaly's type does not depend on the unit of its series: every generated segment of
``test_anomaly_type`` gets the same type when the series is multiplied by 1e300 (values a
broken exporter writes) or 1e-300, with no numerical warning. Before, the cycle search
squared 1e300 values to ``inf`` ("overflow encountered in matmul" on every
``kizashi detect --explain`` of such a file)."""

from __future__ import annotations

import warnings

import pytest
from test_anomaly_type import CASES, make

from kizashi.engine.anomaly_type import anomaly_type

FACTORS = [1e300, 1e305, 2.0 ** -1000, 1e-300]  # values up to ~300: all finite


@pytest.mark.parametrize("factor", FACTORS)
@pytest.mark.parametrize(("kind", "seasonal"), CASES)
def test_the_type_does_not_depend_on_the_unit(kind, seasonal, factor):
    for seed in range(3):
        x, start, end = make(kind, seed, seasonal, 60)
        expected = anomaly_type(x, start, end)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            assert anomaly_type(x * factor, start, end) == expected, (seed, factor)
