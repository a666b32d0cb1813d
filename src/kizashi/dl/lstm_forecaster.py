"""LSTM one-step forecaster of a single standardised series (Malhotra et al., ESANN 2015)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class LstmForecaster(nn.Module):
    """Predict ``x[t]`` from the ``window`` values before it with a stacked LSTM.

    The network is univariate and shared by every series: its training samples are
    the windows of all series together, so one model serves any number of series.
    (Malhotra, Vig, Shroff, Agarwal: "Long Short Term Memory Networks for Anomaly
    Detection in Time Series", ESANN 2015.)

    Parameters
    ----------
    window : int
        Past values the forecast sees.
    hidden : int
        LSTM hidden size.
    layers : int
        Stacked LSTM layers.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = LstmForecaster(window=4, hidden=8)
    >>> inputs, targets = LstmForecaster.samples(np.arange(12.0)[:, None], window=4)
    >>> inputs.shape, targets.shape, tuple(net(torch.from_numpy(inputs)).shape)
    ((8, 4), (8,), (8,))
    """

    def __init__(self, window: int = 32, hidden: int = 32, layers: int = 1):
        super().__init__()
        if window < 1 or hidden < 1 or layers < 1:
            raise ValueError("lstm: window, hidden and layers must be positive")
        self.window = window
        self.lstm = nn.LSTM(1, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(batch, window)`` past values → ``(batch,)`` forecasts of the next one."""
        out, _ = self.lstm(inputs.unsqueeze(-1))
        return self.head(out[:, -1]).squeeze(-1)

    @staticmethod
    def loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean squared forecast error."""
        return torch.mean((outputs - targets) ** 2)

    @staticmethod
    def samples(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
        """Training pairs (past ``window`` values, next value) from every column of
        ``values`` (time, series); windows touching a NaN are left out."""
        values = np.asarray(values, dtype=np.float32)
        if values.shape[0] <= window:
            return np.zeros((0, window), np.float32), np.zeros(0, np.float32)
        cut = np.lib.stride_tricks.sliding_window_view(values, window + 1, axis=0)
        cut = cut.transpose(1, 0, 2).reshape(-1, window + 1)  # series-major
        cut = cut[~np.isnan(cut).any(axis=1)]
        return np.ascontiguousarray(cut[:, :-1]), np.ascontiguousarray(cut[:, -1])
