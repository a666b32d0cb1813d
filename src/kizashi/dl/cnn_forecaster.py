"""Dilated causal 1D-CNN forecaster of all metrics of a node (in the spirit of TCN / DeepAnT)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class CnnForecaster(nn.Module):
    """Predict the next row of every metric from the ``window`` rows before it.

    A stack of ``layers`` causal convolutions over time, the ``i``-th dilated by
    ``2**i`` (so the receptive field, ``1 + (kernel − 1)(2**layers − 1)`` rows, grows
    exponentially with depth: Bai, Kolter, Koltun, "An Empirical Evaluation of
    Generic Convolutional and Recurrent Networks for Sequence Modeling", 2018),
    with residual connections after the first; a linear head reads the newest
    position's channels and forecasts one value per metric. All metrics of a node
    enter as input channels, so a forecast uses how they move together (the
    forecasting core of DeepAnT, Munir et al., IEEE Access 2019).

    Parameters
    ----------
    n_features : int
        Metrics per row (input channels and outputs).
    window : int
        Past rows a forecast sees.
    channels : int
        Width of every convolution.
    kernel : int
        Taps per convolution.
    layers : int
        Convolutions in the stack.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = CnnForecaster(n_features=3, window=8, channels=4)
    >>> inputs, targets = CnnForecaster.samples(np.zeros((20, 3)), window=8)
    >>> inputs.shape, targets.shape, tuple(net(torch.from_numpy(inputs)).shape)
    ((12, 8, 3), (12, 3), (12, 3))
    >>> net.receptive_field
    15
    """

    def __init__(self, n_features: int, window: int = 32, channels: int = 32, kernel: int = 3,
                 layers: int = 3):
        super().__init__()
        if min(n_features, window, channels, kernel, layers) < 1:
            raise ValueError("cnn: n_features, window, channels, kernel and layers "
                             "must be positive")
        self.n_features = n_features
        self.window = window
        self.convs = nn.ModuleList(
            nn.Conv1d(n_features if i == 0 else channels, channels, kernel, dilation=2 ** i)
            for i in range(layers))
        self.head = nn.Linear(channels, n_features)

    @property
    def receptive_field(self) -> int:
        """Rows the newest position's output depends on (capped by ``window`` in use)."""
        return 1 + sum((c.kernel_size[0] - 1) * c.dilation[0] for c in self.convs)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(batch, window, n_features)`` past rows → ``(batch, n_features)`` forecasts."""
        x = inputs.transpose(1, 2)  # (batch, channels, time)
        for i, conv in enumerate(self.convs):
            pad = (conv.kernel_size[0] - 1) * conv.dilation[0]
            y = F.relu(conv(F.pad(x, (pad, 0))))  # left padding only: causal
            x = y if i == 0 else x + y
        return self.head(x[:, :, -1])

    @staticmethod
    def loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean squared forecast error."""
        return torch.mean((outputs - targets) ** 2)

    @staticmethod
    def samples(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
        """Training pairs (the ``window`` rows before, the next row) of ``values``
        (time, features); pairs touching a NaN are left out."""
        values = np.asarray(values, dtype=np.float32)
        n_features = values.shape[1]
        if values.shape[0] <= window:
            return (np.zeros((0, window, n_features), np.float32),
                    np.zeros((0, n_features), np.float32))
        cut = np.lib.stride_tricks.sliding_window_view(values, window + 1, axis=0)
        cut = cut.transpose(0, 2, 1)  # (n, window + 1, features)
        cut = cut[~np.isnan(cut).any(axis=(1, 2))]
        return np.ascontiguousarray(cut[:, :-1]), np.ascontiguousarray(cut[:, -1])
