"""Forecast errors of a dilated 1D-CNN over all metrics of a node, standardised: ``cnn``."""

from __future__ import annotations

from typing import Any

import numpy as np

from kizashi.detectors.deep.aggregate import AGGREGATES, aggregate_errors
from kizashi.detectors.deep.network_detector import NetworkDetector
from kizashi.state import State
from kizashi.streaming.discounted import DiscountedMoments
from kizashi.streaming.robust import bounded


class CnnDetector(NetworkDetector):
    """How far each metric of a node lies from a small CNN's forecast, metrics combined.

    All metrics of one node are read together (``multivariate``). Each metric is
    standardised with its training mean and deviation; a
    :class:`kizashi.dl.cnn_forecaster.CnnForecaster` (dilated causal convolutions,
    DeepAnT-like) forecasts the next row of every metric from the ``window`` rows
    before it. Each metric's absolute forecast error is standardised against that
    metric's earlier errors (its mean and deviation: see ``normaliser``), and the
    row's score combines the standardised errors of all metrics (``aggregate``:
    ``mean``, ``l2`` or ``max``, :mod:`kizashi.detectors.deep.aggregate`). The
    network sees standardised values clipped to ±10; the error uses the raw value.
    A row with any NaN scores NaN and is skipped. Scores are 0 until ``window`` rows
    have been seen. :meth:`explain` gives each metric's share of the row's positive
    standardised errors (the metrics to blame).

    Parameters
    ----------
    window : int
        Past rows a forecast sees.
    channels, kernel, layers : int
        Convolution width, taps and depth (layer ``i`` dilated by ``2**i``).
    epochs, batch_size, lr, patience : training loop settings (early stopping on the
        last ``val_fraction`` of the training rows).
    val_fraction : float
        Trailing share of the training rows held out for validation.
    max_samples : int or None
        At most this many training windows (drawn with ``seed``).
    normaliser : str
        ``fixed`` (the statistics of the training rows' errors, learning nothing
        afterwards: a long anomaly is not learnt as normal), ``cumulative`` (every
        error weighs alike) or ``discounted`` (half-life ``halflife`` rows).
    halflife : float
        Half-life, in observed rows, of the ``discounted`` normaliser.
    aggregate : str
        How the metrics' standardised errors combine into the row's score.
    seed : int
        Seeds weights and shuffling.
    device : str
        ``auto`` (CUDA when present), ``cpu`` or ``cuda`` for training and for the
        fast inference backends; exact scoring runs on the CPU in float64.
    threads : int or None
        torch CPU threads while training and scoring (``None``: torch's default).
    backend : str
        Inference backend (:mod:`kizashi.dl.inference`): ``auto``, ``eager``,
        ``float32``, ``onnx``, ``compile`` or ``quantized``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(600)[:, None]
    >>> values = np.sin(t / 7 + np.arange(4)) + rng.normal(0, 0.05, (600, 4))
    >>> values[550, 2] += 2  # one metric of one row breaks the pattern
    >>> detector = CnnDetector(window=8, channels=16, layers=2, epochs=20, lr=0.01, device="cpu")
    >>> scores = detector.fit(values[:400]).score(values[400:])
    >>> int(np.argmax(scores)) + 400
    550
    >>> int(np.argmax(detector.explain(values[400:]).attribution[150]))
    2
    """

    multivariate = True
    network_name = "cnn"
    conformance_params = {"window": 8, "channels": 8, "layers": 2, "epochs": 2,
                          "batch_size": 32, "lr": 0.01, "device": "cpu"}

    def __init__(self, window: int = 32, channels: int = 32, kernel: int = 3, layers: int = 4,
                 epochs: int = 10, batch_size: int = 128, lr: float = 1e-3,
                 val_fraction: float = 0.2, patience: int | None = 3,
                 max_samples: int | None = 20000, normaliser: str = "fixed",
                 halflife: float = 10000.0, aggregate: str = "mean", seed: int = 0,
                 device: str = "auto", threads: int | None = 1, backend: str = "auto"):
        self.window = window
        self.channels = channels
        self.kernel = kernel
        self.layers = layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.val_fraction = val_fraction
        self.patience = patience
        self.max_samples = max_samples
        self.normaliser = normaliser
        self.halflife = halflife
        self.aggregate = aggregate
        self.seed = seed
        self.device = device
        self.threads = threads
        self.backend = backend

    @property
    def n_warmup(self) -> int:
        return int(self.window)

    @property
    def baseline_steps(self) -> int:
        """Its input window: protected longer than that, the forecast's inputs go stale
        (after a level shift it would forecast from the last pre-incident rows forever
        and never resolve), so the decider lets it learn again after one window."""
        return int(self.window)

    def _network_params(self, n_series: int) -> dict[str, Any]:
        return {"n_features": int(n_series), "window": int(self.window),
                "channels": int(self.channels), "kernel": int(self.kernel),
                "layers": int(self.layers)}

    def _init_state(self, n_series: int) -> State:
        self._check_common()
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"CnnDetector: unknown aggregate {self.aggregate!r}; "
                             f"use one of {', '.join(AGGREGATES)}")
        return {"n_series": n_series, "trained": False,
                "buffer": np.zeros((int(self.window), n_series)), "count": 0,
                "errors": DiscountedMoments().init(n_series)}

    def _errors(self, state: State, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-row ready flags and per-metric absolute forecast errors; moves the window
        to the end of ``values`` (rows with NaN are skipped)."""
        w = int(self.window)
        with np.errstate(over="ignore"):
            z = (values - state["scale_mean"]) / state["scale_std"]
        ok = ~np.isnan(z).any(axis=1)
        rows = np.flatnonzero(ok)
        had = int(min(state["count"], w))
        seq = np.concatenate([state["buffer"][w - had:], self._model_input(z[rows])])
        first = max(w - had, 0)  # index into rows of the first row with a full window
        errors = np.where(ok[:, None], 0.0, np.nan) * np.ones(z.shape)
        if len(rows) > first:
            windows = np.lib.stride_tricks.sliding_window_view(seq, w, axis=0).transpose(0, 2, 1)
            forecast = self._forward(state, windows[had + first - w: had + len(rows) - w])
            with np.errstate(over="ignore", invalid="ignore"):
                errors[rows[first:]] = bounded(np.abs(z[rows[first:]] - forecast))
        keep = seq[max(len(seq) - w, 0):]
        state["buffer"] = np.concatenate([np.zeros((w - len(keep), z.shape[1])), keep])
        state["count"] = int(state["count"]) + len(rows)
        ready = np.zeros(z.shape[0], dtype=bool)
        ready[rows[first:]] = True
        return ready, errors

    def _standardised(self, state: State, values: np.ndarray) -> np.ndarray:
        """Each metric's standardised error ``(time, metrics)``, learnt into the normaliser."""
        ready, errors = self._errors(state, values)
        return self._normalise(state, errors, np.repeat(ready[:, None], errors.shape[1], axis=1))

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        return self._score_batch(state, x[None, :], None)[0]

    def _score_batch(self, state: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        return aggregate_errors(self._standardised(state, values), self.aggregate)[:, None]

    def _explain(self, state: State, values: np.ndarray, t: np.ndarray | None
                 ) -> dict[str, np.ndarray]:
        """Scores, and each metric's share of the row's positive standardised errors
        (rows sum to 1; NaN where no metric is above its usual error)."""
        z = self._standardised(state, values)
        positive = np.maximum(z, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = positive / positive.sum(axis=1, keepdims=True)
        return {"score": aggregate_errors(z, self.aggregate)[:, None], "attribution": shares}
