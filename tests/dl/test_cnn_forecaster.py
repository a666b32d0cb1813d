"""The dilated causal CNN forecaster: its samples, its causality and that it learns."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kizashi.dl import network_class  # noqa: E402
from kizashi.dl.cnn_forecaster import CnnForecaster  # noqa: E402


def test_registered_as_a_network():
    assert network_class("cnn") is CnnForecaster


def test_samples_are_the_window_before_and_the_next_row():
    values = np.arange(14.0).reshape(7, 2)
    values[5, 1] = np.nan  # pairs touching row 5 go: those ending at 5 and 6 (window 2)
    inputs, targets = CnnForecaster.samples(values, window=2)
    # pairs (rows 0-1 → 2), (1-2 → 3), (2-3 → 4); (3-4 → 5) and (4-5 → 6) touch the NaN
    np.testing.assert_array_equal(inputs, [values[0:2], values[1:3], values[2:4]])
    np.testing.assert_array_equal(targets, [values[2], values[3], values[4]])
    assert inputs.dtype == targets.dtype == np.float32


def test_too_short_data_gives_no_samples():
    inputs, targets = CnnForecaster.samples(np.zeros((3, 4)), window=3)
    assert inputs.shape == (0, 3, 4) and targets.shape == (0, 4)


@pytest.mark.parametrize(("kernel", "layers"), [(2, 1), (3, 2), (3, 3), (2, 4)])
def test_the_forecast_depends_on_exactly_its_receptive_field(kernel, layers):
    torch.manual_seed(0)
    window = 20
    net = CnnForecaster(n_features=2, window=window, channels=6, kernel=kernel,
                        layers=layers).double()
    field = 1 + (kernel - 1) * (2 ** layers - 1)  # dilations 1, 2, 4, ...
    assert net.receptive_field == field
    bases = torch.randn(8, window, 2, dtype=torch.float64)
    with torch.no_grad():
        before = net(bases)
        for row in range(window):
            # a ReLU may swallow one nudge of one input: try several, both ways
            changed = False
            for sign in (5.0, -5.0):
                moved = bases.clone()
                moved[:, row] += sign
                changed |= not torch.equal(net(moved), before)
            assert changed == (row >= window - field), (row, field)


def test_rejects_non_positive_sizes():
    with pytest.raises(ValueError, match="positive"):
        CnnForecaster(n_features=0)


def test_learns_to_forecast_a_pair_of_sines():
    from kizashi.dl.trainer import Trainer, TrainSettings

    t = np.arange(600)[:, None]
    values = np.sin(t / 5 + np.array([0.0, 1.0]))
    train = CnnForecaster.samples(values[:500], window=12)
    torch.manual_seed(0)
    net = CnnForecaster(n_features=2, window=12, channels=8, layers=3)
    settings = TrainSettings(epochs=15, batch_size=32, lr=0.01, seed=0, device="cpu",
                             patience=None, progress=False)
    model = Trainer(net, train, None, settings, distributed=False).fit().model.eval()
    inputs, targets = CnnForecaster.samples(values[488:], window=12)
    with torch.no_grad():
        forecast = model(torch.from_numpy(inputs)).numpy()
    naive = np.mean((targets - inputs[:, -1]) ** 2)  # tomorrow is like today
    assert np.mean((forecast - targets) ** 2) < 0.1 * naive
