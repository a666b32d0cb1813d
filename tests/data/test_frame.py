from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.data.synthetic import level_shift, seasonal, spikes, variance_change


def make():
    return SeriesFrame.from_arrays(np.arange(4) * 60.0, np.arange(12.0).reshape(4, 3),
                                   entities=["a", "a", "b"], metrics=["cpu", "mem", "cpu"])


def test_select_and_column():
    frame = make()
    assert frame.select(metrics=["cpu"]).keys == [("a", "cpu"), ("b", "cpu")]
    assert frame.column("b", "cpu").tolist() == [2.0, 5.0, 8.0, 11.0]
    with pytest.raises(KeyError, match="no series b/mem"):
        frame.column("b", "mem")
    assert frame.unique_entities() == ["a", "b"] and frame.step() == 60.0


def test_to_long_keeps_every_value():
    long = make().to_long()
    assert len(long) == 12 and long.value.sum() == np.arange(12.0).sum()
    assert long.iloc[5].tolist()[1:] == ["b", "cpu", 5.0]


def test_invariants_are_enforced():
    with pytest.raises(ValueError, match="strictly increasing"):
        SeriesFrame.from_arrays([0.0, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="one entity and one metric"):
        SeriesFrame.from_arrays([0.0], [[1.0, 2.0]], entities=["a"], metrics=["m"])


@pytest.mark.parametrize("generator", [spikes, level_shift, variance_change, seasonal])
def test_generators_are_seeded_and_labelled(generator):
    a, labels_a = generator(n=600, n_series=2, seed=4)
    b, _ = generator(n=600, n_series=2, seed=4)
    np.testing.assert_array_equal(a, b)
    assert a.shape == labels_a.shape == (600, 2)
    one, labels = generator(n=600, seed=4)
    assert one.shape == labels.shape == (600,)
