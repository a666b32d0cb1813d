"""Forecast error of an LSTM, normalised online: kizashi's ``lstm`` detector."""

from __future__ import annotations

from typing import Any

import numpy as np

from kizashi.detectors.deep.network_detector import NetworkDetector
from kizashi.state import State
from kizashi.streaming.discounted import DiscountedMoments


class LstmDetector(NetworkDetector):
    """How far each value lies from an LSTM's one-step forecast, in units of recent errors.

    Each series is standardised with its training mean and deviation; an LSTM
    (:class:`kizashi.dl.lstm_forecaster.LstmForecaster`, Malhotra et al., ESANN
    2015), shared by all series, forecasts the next value from the ``window``
    values before it. The score is the absolute forecast error minus the running
    mean of earlier errors, divided by their running deviation (time-discounted with
    ``halflife`` steps), so it reads like a z-score across series of any scale.
    The forecast sees standardised values clipped to ±10 (a wild value is scored
    as it is, but does not throw the next ``window`` forecasts off by as much).
    Scores are 0 until a series has ``window`` observed values. The network is
    trained by :class:`kizashi.dl.trainer.Trainer`; its weights are part of the state.

    Parameters
    ----------
    window : int
        Past values a forecast sees.
    hidden, layers : int
        LSTM size.
    epochs, batch_size, lr, patience : training loop settings (early stopping on the
        last ``val_fraction`` of the training rows).
    val_fraction : float
        Trailing share of the training rows held out for validation.
    max_samples : int or None
        At most this many training windows (drawn with ``seed``) per epoch set.
    halflife : float or None
        Half-life, in observed steps, of the ``discounted`` error normaliser (None: it
        never forgets, as ``cumulative``).
    normaliser : str
        ``discounted`` (forgets with ``halflife``), ``cumulative`` (every error weighs
        alike) or ``fixed`` (the training rows' errors only; nothing learnt after ``fit``).
        The detector scores each series on its own: how the series' scores combine
        into one per node is the caller's (``kizashi bench smd --aggregate``).
    seed : int
        Seeds weights and shuffling: the same seed gives the same detector.
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
    >>> values = np.sin(np.arange(400) / 5) + rng.normal(0, 0.05, 400)
    >>> values[350] += 3
    >>> detector = LstmDetector(window=8, hidden=8, epochs=3, device="cpu")
    >>> scores = detector.fit(values[:300]).score(values[300:])
    >>> int(np.argmax(scores)) + 300
    350
    """

    network_name = "lstm"
    cpu_fast_backend = "float32"  # oneDNN's float32 LSTM outruns ONNX Runtime's here
    conformance_params = {"window": 8, "hidden": 8, "epochs": 2, "batch_size": 64,
                          "lr": 0.01, "max_samples": 256, "device": "cpu"}

    def __init__(self, window: int = 32, hidden: int = 32, layers: int = 1, epochs: int = 5,
                 batch_size: int = 256, lr: float = 1e-3, val_fraction: float = 0.2,
                 patience: int | None = 2, max_samples: int | None = 20000,
                 halflife: float | None = 10000.0, seed: int = 0, device: str = "auto",
                 threads: int | None = 1, backend: str = "auto",
                 normaliser: str = "discounted"):
        self.window = window
        self.hidden = hidden
        self.layers = layers
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

    @property
    def n_warmup(self) -> int:
        return int(self.window)

    def _network_params(self, n_series: int) -> dict[str, Any]:
        return {"window": int(self.window), "hidden": int(self.hidden), "layers": int(self.layers)}

    def _init_state(self, n_series: int) -> State:
        self._check_common()
        return {"n_series": n_series, "trained": False,
                "buffer": np.zeros((int(self.window), n_series)),  # series last
                "count": np.zeros(n_series, dtype=np.int64),
                "errors": DiscountedMoments().init(n_series)}

    def _standardise(self, state: State, values: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return (values - state["scale_mean"]) / state["scale_std"]

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        z = self._standardise(state, x)
        ok = ~np.isnan(z)
        ready = ok & (state["count"] >= self.window)
        error = np.full(z.shape, np.nan)
        if ready.any():
            forecast = self._forward(state, state["buffer"][:, ready].T)
            error[ready] = np.abs(z[ready] - forecast)
        error[~ready & ok] = 0.0
        score = self._normalise(state, error[None, :], ready[None, :])[0]
        buffer = state["buffer"]
        buffer[:, ok] = np.concatenate([buffer[1:, ok], self._model_input(z[None, ok])], axis=0)
        state["count"] = state["count"] + ok
        return score

    def _score_batch(self, state: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        z = self._standardise(state, values)
        ok = ~np.isnan(z)
        seen = self._model_input(z)
        w = int(self.window)
        error = np.where(ok, 0.0, np.nan)
        ready = np.zeros(z.shape, dtype=bool)
        inputs, places = [], []
        for s in range(z.shape[1]):
            rows = np.flatnonzero(ok[:, s])
            had = int(min(state["count"][s], w))
            seq = np.concatenate([state["buffer"][w - had:, s], seen[rows, s]])
            first = max(w - had, 0)  # index into rows of the first ready value
            if len(rows) > first:
                windows = np.lib.stride_tricks.sliding_window_view(seq, w)
                inputs.append(windows[had + first - w: had + len(rows) - w])
                places.append((rows[first:], s))
            tail = seq[-w:] if len(seq) >= w else np.r_[np.zeros(w - len(seq)), seq]
            state["buffer"][:, s] = tail
        if inputs:
            forecast = self._forward(state, np.concatenate(inputs))
            at = 0
            for rows, s in places:
                error[rows, s] = np.abs(z[rows, s] - forecast[at:at + len(rows)])
                ready[rows, s] = True
                at += len(rows)
        state["count"] = state["count"] + ok.sum(axis=0)
        return self._normalise(state, error, ready)
