"""``infinite_as_missing``: ±inf become NaN, one warning per episode, counted per watch."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from kizashi.watch.finite_values import infinite_as_missing
from kizashi.watch.sources import Samples


def _samples(values: list[list[float]]) -> Samples:
    values_array = np.array(values, dtype=float)
    labels = [{"instance": f"n{j}"} for j in range(values_array.shape[1])]
    return Samples(np.arange(values_array.shape[0], dtype=float), labels, values_array)


@pytest.mark.parametrize("odd", [np.inf, -np.inf, float("1e309"), -float("1e309")])
def test_each_infinite_value_becomes_missing_and_the_rest_stays(odd: float) -> None:
    values = [[1.0, odd, 3.0], [odd, 5.0, np.nan]]
    out = infinite_as_missing(_samples(values), "w", set())
    expected = np.array([[1.0, np.nan, 3.0], [np.nan, 5.0, np.nan]])
    np.testing.assert_array_equal(out.values, expected)  # NaN in the same places
    assert out.labels == _samples(values).labels


def test_finite_answers_pass_unchanged_and_close_the_episode() -> None:
    samples = _samples([[1.0, np.nan, -2.5]])
    warned = {"w"}
    out = infinite_as_missing(samples, "w", warned)
    assert out is samples
    assert warned == set()


def test_one_warning_per_episode_and_every_value_counted(caplog) -> None:
    warned: set[str] = set()
    counts: dict[str, int] = {}
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        infinite_as_missing(_samples([[np.inf, np.inf]]), "w", warned, counts)  # 2, warns
        infinite_as_missing(_samples([[np.inf, 1.0]]), "w", warned, counts)     # 1, quiet
        infinite_as_missing(_samples([[1.0, 1.0]]), "w", warned, counts)        # ends it
        infinite_as_missing(_samples([[-np.inf, 1.0]]), "w", warned, counts)    # warns again
    assert counts == {"w": 4}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert all("\n" not in r.getMessage() for r in warnings)
