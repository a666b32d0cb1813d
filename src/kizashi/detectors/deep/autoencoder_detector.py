"""Reconstruction error of a window autoencoder over all metrics of a node: ``autoencoder``."""

from __future__ import annotations

from typing import Any

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.detectors.deep.aggregate import AGGREGATES, aggregate_errors
from kizashi.detectors.deep.network_detector import NetworkDetector
from kizashi.state import State, copy_state
from kizashi.streaming.discounted import DiscountedMoments
from kizashi.streaming.robust import bounded


class AutoencoderDetector(NetworkDetector):
    """How badly an autoencoder trained on normal windows rebuilds the newest row.

    All metrics of one node are read together (``multivariate``). Each metric is
    standardised with its training mean and deviation; the newest row and the
    ``window − 1`` rows before it go through a
    :class:`kizashi.dl.window_autoencoder.WindowAutoencoder` (the reconstruction core
    of USAD, Audibert et al., KDD 2020). The squared error of each metric in the
    newest row is that metric's *contribution* (:meth:`contributions`; the metrics
    to blame, for diagnosis; the network sees standardised values clipped to ±10, the
    contribution uses the raw one); their mean is the raw error, and the score is the raw
    error minus the running mean of earlier errors over their running deviation
    (time-discounted with ``halflife`` steps; see ``normaliser``). With ``aggregate``
    ``mean``, ``l2`` or ``max`` each metric's contribution is standardised against
    that metric's own earlier contributions instead, and the row's score combines
    them (:mod:`kizashi.detectors.deep.aggregate`). A row with any NaN scores NaN and is
    skipped. Scores are 0 until ``window − 1`` rows have been seen.

    Parameters
    ----------
    window : int
        Rows per window (the newest included).
    hidden, latent : int
        Widths of the hidden layers and of the code.
    epochs, batch_size, lr, patience : training loop settings (early stopping on the
        last ``val_fraction`` of the training rows).
    val_fraction : float
        Trailing share of the training rows held out for validation.
    max_samples : int or None
        At most this many training windows (drawn with ``seed``).
    halflife : float or None
        Half-life, in observed rows, of the ``discounted`` error normaliser (None: it
        never forgets, as ``cumulative``).
    normaliser : str
        ``discounted`` (forgets with ``halflife``), ``cumulative`` (every error weighs
        alike) or ``fixed`` (the training rows' errors only; nothing learnt after ``fit``).
    aggregate : str
        ``pooled`` (the mean contribution, standardised as one error) or ``mean``,
        ``l2``, ``max`` of the metrics' standardised contributions.
    seed : int
        Seeds weights and shuffling.
    device : str
        ``auto`` (CUDA when present), ``cpu`` or ``cuda`` for training and for the
        fast inference backends; exact scoring runs on the CPU in float64.
    threads : int or None
        torch CPU threads while training and scoring (``None``: torch's default);
        networks this small run fastest on one.
    backend : str
        Inference backend (:mod:`kizashi.dl.inference`): ``auto`` (exact float64 for
        small calls, a float32 fast path for batches of at least
        :data:`~kizashi.dl.inference.AUTO_MIN_INPUTS` windows), ``eager``, ``float32``,
        ``onnx``, ``compile`` or ``quantized``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(600)[:, None]
    >>> values = np.sin(t / 7 + np.arange(4)) + rng.normal(0, 0.05, (600, 4))
    >>> values[550, 2] += 2  # one metric of one row breaks the pattern
    >>> detector = AutoencoderDetector(window=4, hidden=32, latent=4, epochs=20, device="cpu")
    >>> scores = detector.fit(values[:400]).score(values[400:])
    >>> int(np.argmax(scores)) + 400, int(np.argmax(detector.contributions(values[400:])[150]))
    (550, 2)
    """

    multivariate = True
    network_name = "autoencoder"
    conformance_params = {"window": 4, "hidden": 16, "latent": 4, "epochs": 3,
                          "batch_size": 32, "lr": 0.01, "device": "cpu"}

    def __init__(self, window: int = 10, hidden: int = 64, latent: int = 8, epochs: int = 20,
                 batch_size: int = 128, lr: float = 1e-3, val_fraction: float = 0.2,
                 patience: int | None = 3, max_samples: int | None = None,
                 halflife: float | None = 10000.0, seed: int = 0, device: str = "auto",
                 threads: int | None = 1, backend: str = "auto",
                 normaliser: str = "discounted", aggregate: str = "pooled"):
        self.window = window
        self.hidden = hidden
        self.latent = latent
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.val_fraction = val_fraction
        self.patience = patience
        self.max_samples = max_samples
        self.halflife = halflife
        self.seed = seed
        self.device = device
        self.threads = threads
        self.backend = backend
        self.normaliser = normaliser
        self.aggregate = aggregate

    @property
    def n_warmup(self) -> int:
        return int(self.window) - 1

    def _network_params(self, n_series: int) -> dict[str, Any]:
        return {"n_features": int(n_series), "window": int(self.window),
                "hidden": int(self.hidden), "latent": int(self.latent)}

    def _scoring_network(self, network: Any) -> Any:
        return network.newest_row()  # scoring reads only the newest row

    def _init_state(self, n_series: int) -> State:
        self._check_common()
        if self.aggregate != "pooled" and self.aggregate not in AGGREGATES:
            raise ValueError(f"AutoencoderDetector: unknown aggregate {self.aggregate!r}; "
                             f"use pooled or one of {', '.join(AGGREGATES)}")
        return {"n_series": n_series, "trained": False,
                "buffer": np.zeros((int(self.window) - 1, n_series)), "count": 0,
                "errors": DiscountedMoments().init(1 if self.aggregate == "pooled"
                                                   else n_series)}

    def contributions(self, values: Any) -> np.ndarray:
        """Per-metric squared reconstruction errors ``(time, features)`` of ``values``
        scored as a stream from the current state (which is left unchanged); rows with
        NaN and warm-up rows are NaN."""
        matrix, _ = self._as_matrix(values)
        state = copy_state(self._state_for(matrix.shape[1]))
        Detector._check_training(self)
        return self._errors(state, matrix)[1]

    def _explain(self, state: State, values: np.ndarray, t: np.ndarray | None
                 ) -> dict[str, np.ndarray]:
        """Scores, and each metric's share of the reconstruction error (rows sum to 1)."""
        errors = self._errors(copy_state(state), values)[1]
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = errors / np.nansum(errors, axis=1, keepdims=True)
        return {"score": self._score_batch(state, values, t), "attribution": shares}

    def _errors(self, state: State, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-row ready flags and per-metric errors; moves the window to the end of ``values``."""
        w = int(self.window)
        with np.errstate(over="ignore"):
            z = (values - state["scale_mean"]) / state["scale_std"]
        ok = ~np.isnan(z).any(axis=1)
        rows = np.flatnonzero(ok)
        had = int(min(state["count"], w - 1))
        seq = np.concatenate([state["buffer"][w - 1 - had:], self._model_input(z[rows])])
        first = max(w - 1 - had, 0)
        contributions = np.full(z.shape, np.nan)
        if len(rows) > first:
            windows = np.lib.stride_tricks.sliding_window_view(seq, w, axis=0).transpose(0, 2, 1)
            inputs = windows[had + first - (w - 1): had + len(rows) - (w - 1)]
            rebuilt = self._forward(state, inputs)  # the newest rows
            with np.errstate(over="ignore"):  # the raw newest row against its reconstruction
                contributions[rows[first:]] = bounded((z[rows[first:]] - rebuilt) ** 2)
        keep = seq[max(len(seq) - (w - 1), 0):]
        state["buffer"] = np.concatenate([np.zeros((w - 1 - len(keep), z.shape[1])), keep])
        state["count"] = int(state["count"]) + len(rows)
        ready = np.zeros(z.shape[0], dtype=bool)
        ready[rows[first:]] = True
        return ready, contributions

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        return self._score_batch(state, x[None, :], None)[0]

    def _score_batch(self, state: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        ready, contributions = self._errors(state, values)
        if self.aggregate != "pooled":  # each metric against its own contributions
            ok = ~np.isnan(values).any(axis=1)
            per_metric = np.where((ok & ~ready)[:, None], 0.0, contributions)
            scores = self._normalise(state, per_metric,
                                     np.repeat(ready[:, None], values.shape[1], axis=1))
            return aggregate_errors(scores, self.aggregate)[:, None]
        error = contributions.mean(axis=1)
        ok = ~np.isnan(values).any(axis=1)
        error = np.where(ok & ~ready, 0.0, error)
        return self._normalise(state, error[:, None], ready[:, None])
