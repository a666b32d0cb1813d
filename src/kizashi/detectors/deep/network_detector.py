"""What the deep detectors share: training through the one Trainer, weights kept as plain data.

A deep detector's fitted model is its network. So that a detector restores from its
JSON state alone (a daemon restarting, another machine), the network's weights
live *in* the state as float32 numpy arrays together with the streaming part (the
recent input window and the online error normaliser). Scoring rebuilds the network
once per weight set (cached by the weights' hash) for the inference backend the
``backend`` parameter picks (:mod:`kizashi.dl.inference`): by default float64 on the
CPU, so that block scoring and step-by-step streaming agree to rounding, and a fast
float32 path for large batches.

The error normaliser forgets old errors (``normaliser="discounted"``, half-life
``halflife`` steps) or not: ``cumulative`` weighs every error alike, ``fixed``
keeps the statistics of the training rows' errors and learns nothing after
``fit`` (a long anomaly is not learnt as normal; without training errors to keep — a
``kizashi train`` model installed on no rows — it learns as ``cumulative``). See
:data:`NORMALISERS`.

One wild value (a ``1e308`` from a broken exporter) is scored as it is but does
not become the model's scale: the network sees standardised inputs clipped to
±:data:`INPUT_CLIP`, and the error normaliser learns errors clipped to
:data:`ERROR_CLIP` spreads above its mean.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kizashi.detectors.base import Detector
from kizashi.state import State
from kizashi.streaming.robust import MAX_SCORE

#: torch's random generator and thread count belong to the process: two threads training
#: at once (Dask's thread workers, a thread pool) would interleave their draws and train
#: different networks from the same seed, so training takes this lock.
_TRAINING = threading.Lock()

#: Standardised values enter the network's input window clipped to ±INPUT_CLIP
#: (training standard deviations): the score uses the raw value.
INPUT_CLIP = 10.0
#: Errors further than ERROR_CLIP spreads above their running mean are learnt as that far.
ERROR_CLIP = 10.0
#: Errors the normaliser must have learnt before it clips them.
_ERRORS_BEFORE_CLIP = 10.0
#: What the ``normaliser`` parameter accepts: ``discounted`` (time-discounted with
#: ``halflife``), ``cumulative`` (no forgetting), ``fixed`` (training errors only).
NORMALISERS = ("discounted", "cumulative", "fixed")


class NetworkDetector(Detector):
    """Base of detectors whose model is a network trained by :class:`kizashi.dl.trainer.Trainer`.

    Subclasses name their network (:data:`kizashi.dl.NETWORKS`), its constructor
    arguments and how scoring turns network outputs into errors.
    """

    requires_training: ClassVar[bool] = True
    network_name: ClassVar[str] = ""
    model_keys = ("weights", "weights_key", "scale_mean", "scale_std", "trained")
    runtime_params = ("backend",)
    #: The faster CPU inference path of this detector's network, for ``backend="auto"``
    #: (measured by ``benchmarks/inference.py``).
    cpu_fast_backend: ClassVar[str] = "onnx"

    # Subclasses define these as constructor parameters.
    window: int
    epochs: int
    batch_size: int
    lr: float
    val_fraction: float
    patience: int | None
    max_samples: int | None
    halflife: float | None
    normaliser: str
    seed: int
    device: str
    threads: int | None
    backend: str

    # ------------------------------------------------------------ to implement
    @abstractmethod
    def _network_params(self, n_series: int) -> dict[str, Any]:
        """Constructor arguments of the network for data with ``n_series`` columns."""

    def _scoring_network(self, network: Any) -> Any:
        """The module scoring runs: the trained network, or a part of it that computes
        only what the scores read."""
        return network

    # ------------------------------------------------------------------ train
    def _train_network(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Train on standardised values ``z`` (time, series); the weights as float32 arrays."""
        import torch

        from kizashi.dl import network_class
        from kizashi.dl.trainer import Trainer, TrainSettings

        cls = network_class(self.network_name)
        cut = round(z.shape[0] * (1.0 - self.val_fraction))
        train = cls.samples(z[:cut], self.window)
        val = cls.samples(z[max(cut - self.window, 0):], self.window) if cut < z.shape[0] else None
        if len(train[0]) == 0:
            raise ValueError(f"{type(self).__name__}: {z.shape[0]} training rows are too few for "
                             f"window={self.window}; give more data or a smaller window")
        rng = np.random.default_rng(self.seed)
        if self.max_samples and len(train[0]) > self.max_samples:
            keep = np.sort(rng.choice(len(train[0]), self.max_samples, replace=False))
            train = tuple(a[keep] for a in train)
        if val is not None and len(val[0]) == 0:
            val = None
        settings = TrainSettings(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                                 seed=self.seed, device=self.device, patience=self.patience,
                                 threads=self.threads)
        with _TRAINING, torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            network = cls(**self._network_params(z.shape[1]))
            result = Trainer(network, train, val, settings, distributed=False).fit()
        return {k: v.detach().cpu().numpy().astype(np.float32)
                for k, v in result.model.state_dict().items()}

    def _fit(self, values: np.ndarray, t: np.ndarray | None) -> None:
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nan_to_num(np.nanmean(values, axis=0))
            std = np.nan_to_num(np.nanstd(values, axis=0))
        std = np.where(std > 1e-8 * (1.0 + np.abs(mean)), std, 1.0)
        self._install(self._train_network((values - mean) / std), mean, std, values, t)

    def _install(self, weights: dict[str, np.ndarray], mean: np.ndarray, std: np.ndarray,
                 values: np.ndarray, t: np.ndarray | None) -> None:
        """Take ``weights`` and the standardisation, then stream ``values`` to fill the
        input window and the error normaliser."""
        state = self.state_
        state["scale_mean"] = np.asarray(mean, dtype=np.float64)
        state["scale_std"] = np.asarray(std, dtype=np.float64)
        state["weights"] = weights
        state["weights_key"] = weights_key(weights)
        state["trained"] = True
        self._score_batch(state, values, t)
        if self.normaliser == "fixed" and np.all(state["errors"]["weight"] > 0):
            state["errors_fixed"] = True  # the training errors' statistics, from now on

    @classmethod
    def from_trained(cls, out_dir: Any, values: Any, timestamps: Any = None,
                     **params: Any) -> NetworkDetector:
        """A detector from a ``kizashi train`` folder, calibrated on ``values``.

        The network's sizes come from ``out_dir/config.json`` and its weights from
        ``out_dir/model.pt`` (loaded with ``weights_only=True``); ``values`` (normally the
        training rows) fill the input window and the error normaliser. ``params`` set
        the detector's other parameters (``halflife``, ...).
        """
        from kizashi.dl.experiment import load_trained

        network, record = load_trained(out_dir)
        if record["network"] != cls.network_name:
            raise ValueError(f"{out_dir}: holds a {record['network']!r} network, "
                             f"{cls.__name__} needs {cls.network_name!r}")
        path = Path(out_dir) / "config.json"
        try:  # (a record of an older kizashi carries no sha256: its parts are checked here)
            sizes = {k: v for k, v in record["params"].items() if k != "n_features"}
            mean = np.asarray(record["standardise"]["mean"], dtype=np.float64)
            std = np.asarray(record["standardise"]["std"], dtype=np.float64)
            if mean.ndim != 1 or mean.shape != std.shape:
                raise ValueError("'standardise' mean and std are not two lists of one length")
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            reason = " ".join(str(error).split())[:200]
            raise ValueError(f"{path}: not a readable kizashi training record "
                             f"({type(error).__name__}: {reason}); train again") from None
        try:
            detector = cls(**{**sizes, **params})
        except TypeError as error:  # a size the network does not take
            raise ValueError(f"{path}: its params do not fit {cls.__name__} ({error}); "
                             "train again") from None
        matrix, _ = detector._as_matrix(values)
        t = detector._timestamps(timestamps, matrix.shape[0])
        detector.reset(matrix.shape[1])
        if mean.shape != (matrix.shape[1],):
            if cls.multivariate:
                raise ValueError(f"{out_dir}: trained on {mean.size} features, "
                                 f"got {matrix.shape[1]}")
            with warnings.catch_warnings(), np.errstate(invalid="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nan_to_num(np.nanmean(matrix, axis=0))
                std = np.nan_to_num(np.nanstd(matrix, axis=0))
            std = np.where(std > 1e-8 * (1.0 + np.abs(mean)), std, 1.0)
        weights = {k: v.detach().cpu().numpy().astype(np.float32)
                   for k, v in network.state_dict().items()}
        detector._install(weights, mean, std, matrix, t)
        return detector

    # ------------------------------------------------------------------ score
    def _network(self, state: State):
        """The scoring network of ``state``'s weights, float32 on the CPU as trained (cached)."""
        import torch

        from kizashi.dl import network_class

        cache = self.__dict__.setdefault("_network_cache", {})
        key = state["weights_key"]
        if key not in cache:
            network = network_class(self.network_name)(**self._network_params(state["n_series"]))
            network.load_state_dict({k: torch.from_numpy(np.array(v))
                                     for k, v in state["weights"].items()})
            cache.clear()
            cache[key] = self._scoring_network(network.eval())
        return cache[key]

    def _forward(self, state: State, inputs: np.ndarray) -> np.ndarray:
        """The network's float64 outputs for ``inputs``, through the backend that
        ``backend`` picks for a call of this size (:mod:`kizashi.dl.inference`)."""
        from kizashi.dl.inference import cached_runner, resolve_backend

        if len(inputs) == 0:
            return np.zeros((0, *inputs.shape[1:]))
        backend = resolve_backend(self.backend, len(inputs), self.device,
                                  self.cpu_fast_backend)
        key = (type(self).__name__, state["weights_key"], state["n_series"])
        runner = cached_runner(key, lambda: self._network(state), backend, self.device,
                               self.threads)
        return runner(inputs)

    def _normalise(self, state: State, error: np.ndarray, ready: np.ndarray) -> np.ndarray:
        """Score errors ``(time, series)`` step by step against the running mean and
        spread of earlier errors, learning each step's (compiled:
        :mod:`kizashi.detectors.deep.normaliser_kernel`).

        ``ready`` false → score 0 and nothing learned; NaN error → NaN score. With
        ``normaliser="fixed"`` after ``fit``, errors are scored and nothing is learned.
        """
        from kizashi.detectors.deep.normaliser_kernel import normalise_block

        moments = state["errors"]
        for key in ("mean", "var", "weight"):
            moments[key] = np.array(moments[key], dtype=np.float64)  # writable, contiguous
        error = np.ascontiguousarray(error, dtype=np.float64)
        if state.get("errors_fixed", False):
            return fixed_scores(error, ready, moments["mean"], moments["var"])
        out = np.empty(error.shape)
        forget = self.normaliser == "discounted" and self.halflife is not None
        decay = 0.5 ** (1.0 / float(self.halflife)) if forget else 1.0
        normalise_block(error, np.ascontiguousarray(ready, dtype=np.bool_), moments["mean"],
                        moments["var"], moments["weight"], decay,
                        ERROR_CLIP, _ERRORS_BEFORE_CLIP, MAX_SCORE, out)
        return out

    @staticmethod
    def _model_input(z: np.ndarray) -> np.ndarray:
        """Standardised values as the network sees them: clipped to ±:data:`INPUT_CLIP`."""
        return np.clip(z, -INPUT_CLIP, INPUT_CLIP)

    def _check_common(self) -> None:
        if int(self.window) < 1:
            raise ValueError(f"{type(self).__name__}: window must be at least 1, got {self.window}")
        if not 0.0 <= float(self.val_fraction) < 1.0:
            raise ValueError(f"{type(self).__name__}: val_fraction must be in [0, 1)")
        if self.halflife is not None and not float(self.halflife) > 0:
            raise ValueError(f"{type(self).__name__}: halflife must be positive or None "
                             f"(never forget)")
        if self.normaliser not in NORMALISERS:
            raise ValueError(f"{type(self).__name__}: unknown normaliser {self.normaliser!r}; "
                             f"use one of {', '.join(NORMALISERS)}")
        from kizashi.dl.inference import BACKENDS

        if self.backend not in BACKENDS:
            raise ValueError(f"{type(self).__name__}: unknown backend {self.backend!r}; "
                             f"use one of {', '.join(BACKENDS)}")


def fixed_scores(error: np.ndarray, ready: np.ndarray, mean: np.ndarray,
                 var: np.ndarray) -> np.ndarray:
    """Errors ``(time, series)`` scored against fixed moments, as the normaliser's kernel
    scores them (:func:`~kizashi.detectors.deep.normaliser_kernel.normalise_block`) but
    learning nothing: ``(error − mean) / max(σ, 1e-9 · (1 + |mean|))`` bounded to
    ±``MAX_SCORE``; 0 where not ``ready``, NaN where the error is NaN.

    >>> fixed_scores(np.array([[3.0], [np.nan], [1.0]]), np.array([[True], [True], [False]]),
    ...              np.array([1.0]), np.array([4.0]))[:, 0].tolist()
    [1.0, nan, 0.0]
    """
    floor = 1e-9 * (1.0 + np.abs(mean))
    spread = np.maximum(np.sqrt(var), floor)
    with np.errstate(invalid="ignore", over="ignore"):
        score = np.clip((error - mean) / spread, -MAX_SCORE, MAX_SCORE)
    return np.where(np.isnan(error), np.nan, np.where(ready, score, 0.0))


def weights_key(weights: dict[str, np.ndarray]) -> str:
    """A short hash that names a set of weights (the network cache's key)."""
    digest = hashlib.sha1()
    for name in sorted(weights):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(weights[name]).tobytes())
    return digest.hexdigest()[:16]
