"""Fully connected autoencoder of multivariate windows (in the spirit of USAD, KDD 2020)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class WindowAutoencoder(nn.Module):
    """Compress a window of all metrics of a node through a narrow code and rebuild it.

    What the network cannot rebuild is what it has not seen in training; the error
    on each metric says how much that metric is to blame. This is the
    reconstruction core of USAD (Audibert et al., KDD 2020) without its adversarial
    second decoder: windows of ``window`` rows × ``n_features`` metrics, flattened,
    go through ``hidden → latent → hidden``.

    Parameters
    ----------
    n_features : int
        Metrics per row.
    window : int
        Rows per window.
    hidden : int
        Width of the hidden layers.
    latent : int
        Width of the code.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = WindowAutoencoder(n_features=3, window=4, hidden=16, latent=2)
    >>> inputs, targets = WindowAutoencoder.samples(np.zeros((10, 3)), window=4)
    >>> inputs.shape, tuple(net(torch.from_numpy(inputs)).shape)
    ((7, 4, 3), (7, 4, 3))
    """

    def __init__(self, n_features: int, window: int = 10, hidden: int = 64, latent: int = 8):
        super().__init__()
        if min(n_features, window, hidden, latent) < 1:
            raise ValueError("autoencoder: n_features, window, hidden and latent must be positive")
        size = n_features * window
        self.n_features = n_features
        self.window = window
        self.encoder = nn.Sequential(nn.Linear(size, hidden), nn.ReLU(),
                                     nn.Linear(hidden, latent), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(),
                                     nn.Linear(hidden, size))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(batch, window, n_features)`` → reconstruction of the same shape."""
        flat = inputs.reshape(inputs.shape[0], -1)
        return self.decoder(self.encoder(flat)).reshape(inputs.shape)

    def newest_row(self) -> nn.Module:
        """A network that rebuilds only each window's newest row: ``(batch, window,
        n_features)`` → ``(batch, n_features)``, equal to ``self(inputs)[:, -1]`` (what
        scoring reads) with a tenth of the output layer's work for ``window=10``."""
        return NewestRow(self)

    @staticmethod
    def loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean squared reconstruction error."""
        return torch.mean((outputs - targets) ** 2)

    @staticmethod
    def samples(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
        """Every window of ``window`` consecutive rows of ``values`` (time, features)
        without NaN, as both input and target."""
        values = np.asarray(values, dtype=np.float32)
        if values.shape[0] < window:
            empty = np.zeros((0, window, values.shape[1]), np.float32)
            return empty, empty
        cut = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)
        cut = cut.transpose(0, 2, 1)  # (n, window, features)
        cut = np.ascontiguousarray(cut[~np.isnan(cut).any(axis=(1, 2))])
        return cut, cut


class NewestRow(nn.Module):
    """The newest-row reconstruction of a :class:`WindowAutoencoder` (shares its weights).

    The flattened reconstruction is row-major, so the newest row is the output
    layer's last ``n_features`` units: the same dot products, fewer of them.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = WindowAutoencoder(n_features=3, window=4, hidden=16, latent=2)
    >>> x = torch.randn(5, 4, 3)
    >>> bool(torch.allclose(NewestRow(net)(x), net(x)[:, -1], atol=1e-6))
    True
    """

    def __init__(self, autoencoder: WindowAutoencoder):
        super().__init__()
        self.encoder = autoencoder.encoder
        self.hidden = autoencoder.decoder[:-1]
        last = autoencoder.decoder[-1]
        n = autoencoder.n_features
        self.output = nn.Linear(last.in_features, n, dtype=last.weight.dtype,
                                device=last.weight.device)
        with torch.no_grad():
            self.output.weight.copy_(last.weight[-n:])
            self.output.bias.copy_(last.bias[-n:])

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(batch, window, n_features)`` → ``(batch, n_features)``."""
        return self.output(self.hidden(self.encoder(inputs.reshape(inputs.shape[0], -1))))
