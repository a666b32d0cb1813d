"""Inference backends for the deep detectors' scoring: exact eager float64 or a fast path.

A deep detector's network turns a batch of windows into forecasts or
reconstructions. The reference path, ``eager``, runs the PyTorch network in float64
on the CPU: block scoring, step-by-step streaming and a restored state agree to
rounding. The fast paths run float32 (or int8) versions of the same weights:

========== ================================================================ ==============
backend    what runs                                                        device
========== ================================================================ ==============
eager      the PyTorch network, float64 (exact reference)                  CPU
float32    the PyTorch network, float32                                     CUDA if any, or CPU
onnx       the network exported to ONNX, float32, run by ONNX Runtime       CPU (CUDA with
                                                                            onnxruntime-gpu)
compile    ``torch.compile`` of the float32 network, fixed-size chunks      CUDA if any, or CPU
quantized  ``torch.ao.quantization.quantize_dynamic``: int8 Linear/LSTM     CPU
========== ================================================================ ==============

``auto`` (the detectors' default) keeps ``eager`` for calls with fewer than
:data:`AUTO_MIN_INPUTS` network inputs — streaming steps and small blocks stay
exact — and for larger batches picks float32 on CUDA when present, else the
network's faster CPU path: ONNX Runtime for the autoencoder (when installed, else
float32), PyTorch float32 for the LSTM (its oneDNN kernel outran ONNX Runtime's
LSTM by 1.2–1.8× in ``benchmarks/inference.py``). Float32 paths change scores by at most
:data:`FLOAT32_SCORE_TOLERANCE` (absolute, on the z-scored output; or
:data:`FLOAT32_SCORE_RTOL` of a score far out; tested), the int8
path by much more (:data:`QUANTIZED_SCORE_TOLERANCE`): it is never chosen by ``auto``.

>>> import torch
>>> from kizashi.dl.window_autoencoder import WindowAutoencoder
>>> _ = torch.manual_seed(0)
>>> net = WindowAutoencoder(n_features=2, window=3, hidden=8, latent=2)
>>> x = np.random.default_rng(0).normal(size=(100, 3, 2))
>>> exact, fast = make_runner(net, "eager"), make_runner(net, "float32", device="cpu")
>>> bool(np.abs(exact(x) - fast(x)).max() < 1e-5)
True
>>> resolve_backend("auto", n_inputs=10, device="cpu")
'eager'
"""

from __future__ import annotations

import copy
import importlib.util
import io
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np
import torch
from torch import nn

#: The backends a deep detector's ``backend`` parameter accepts.
BACKENDS = ("auto", "eager", "float32", "onnx", "compile", "quantized")
#: ``auto`` runs a fast path only for calls with at least this many network inputs
#: (windows): below it the exact float64 path is fast enough and keeps streaming ==
#: batch scoring to rounding.
AUTO_MIN_INPUTS = 10_000
#: Largest absolute score difference of a float32 backend from ``eager`` (tested on
#: noisy series and on many series; measured differences are below 1e-5) ...
FLOAT32_SCORE_TOLERANCE = 1e-3
#: ... or, for scores far out (a spike of 1e6 training deviations), this share of the
#: score, whichever is larger.
FLOAT32_SCORE_RTOL = 1e-5
#: Largest absolute score difference of the int8 ``quantized`` backend from ``eager``
#: (tested on the same data; it is lossy and never chosen by ``auto``).
QUANTIZED_SCORE_TOLERANCE = 1.0
#: Inputs per call of the float64 network (as before the fast paths).
EXACT_CHUNK = 4096
#: Inputs per call of a float32 network: small enough for the LSTM's gates to stay
#: in cache (1,024 scored 1.3× faster than 4,096 here; 16,384 2× slower).
FAST_CHUNK = 1024

Runner = Callable[[np.ndarray], np.ndarray]


def onnx_available() -> bool:
    """Whether ONNX Runtime and the ONNX exporter's needs are installed (extra ``[fast]``)."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def cuda_wanted(device: str) -> bool:
    """Whether ``device`` (``auto``, ``cpu``, ``cuda``, ``cuda:N``) means a CUDA device here."""
    if device == "cpu":
        return False
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no CUDA device")
    return torch.cuda.is_available()


def resolve_backend(backend: str, n_inputs: int, device: str = "auto",
                    cpu_fast: str = "onnx") -> str:
    """The backend that runs ``n_inputs`` network inputs (``auto`` resolved).

    ``cpu_fast`` is the network's faster CPU path as measured by
    ``benchmarks/inference.py`` (``onnx`` or ``float32``); ``onnx`` falls back to
    ``float32`` when ONNX Runtime is not installed.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    if n_inputs < AUTO_MIN_INPUTS:
        return "eager"
    if cuda_wanted(device):
        return "float32"
    return "onnx" if cpu_fast == "onnx" and onnx_available() else "float32"


def make_runner(network: nn.Module, backend: str, device: str = "auto",
                threads: int | None = 1) -> Runner:
    """A function from float64 inputs ``(batch, ...)`` to the network's float64 outputs.

    ``network`` is not changed (each backend works on its own copy). ``threads``
    caps torch's (or ONNX Runtime's) CPU threads while running; ``None``: the default.
    """
    if backend == "auto" or backend not in BACKENDS:
        raise ValueError(f"make_runner needs a concrete backend, got {backend!r}")
    network = copy.deepcopy(network).eval()
    if backend == "eager":
        return _torch_runner(network.double(), torch.float64, torch.device("cpu"), threads)
    if backend == "quantized":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's notes on its quantised tensor API
            quantized = torch.ao.quantization.quantize_dynamic(
                network.float(), {nn.Linear, nn.LSTM}, dtype=torch.qint8)
        return _torch_runner(quantized, torch.float32, torch.device("cpu"), threads)
    target = torch.device("cuda" if cuda_wanted(device) else "cpu")
    if backend == "float32":
        return _torch_runner(network.float().to(target), torch.float32, target, threads)
    if backend == "compile":
        compiled = torch.compile(network.float().to(target), dynamic=False)
        return _torch_runner(compiled, torch.float32, target, threads, pad=True)
    return _onnx_runner(network.float(), target, threads)


#: Runners kept by :func:`cached_runner` (least recently used dropped first).
CACHE_SIZE = 32
_cache: OrderedDict[tuple, Runner] = OrderedDict()
_cache_lock = threading.Lock()


def cached_runner(key: Hashable, build: Callable[[], nn.Module], backend: str,
                  device: str = "auto", threads: int | None = 1) -> Runner:
    """The runner of the network ``key`` names (e.g. its weights' hash), built once per
    process and backend: the detectors of many nodes that share a trained model share
    one exported, compiled or quantised copy of it."""
    full = (key, backend, device, threads)
    with _cache_lock:
        if full in _cache:
            _cache.move_to_end(full)
            return _cache[full]
    runner = make_runner(build(), backend, device, threads)
    with _cache_lock:
        _cache[full] = runner
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return runner


def _chunks(inputs: np.ndarray, run: Callable[[np.ndarray], np.ndarray],
            size: int = FAST_CHUNK) -> np.ndarray:
    out = [run(inputs[start:start + size]) for start in range(0, len(inputs), size)]
    if not out:
        return np.zeros((0,), dtype=np.float64)
    return np.concatenate(out).astype(np.float64, copy=False)


def _torch_runner(network: nn.Module, dtype: torch.dtype, device: torch.device,
                  threads: int | None, pad: bool = False) -> Runner:
    numpy_dtype = np.float64 if dtype == torch.float64 else np.float32
    size = EXACT_CHUNK if dtype == torch.float64 else FAST_CHUNK

    def run_chunk(chunk: np.ndarray) -> np.ndarray:
        n = len(chunk)
        batch = np.require(chunk, numpy_dtype, ["C", "W"])  # torch wants writable memory
        if pad and n < size:  # one shape only: a compiled graph is not built again
            batch = np.concatenate([batch, np.zeros((size - n, *batch.shape[1:]), numpy_dtype)])
        out = network(torch.from_numpy(batch).to(device))
        return out[:n].detach().to("cpu").numpy()

    def run(inputs: np.ndarray) -> np.ndarray:
        before = torch.get_num_threads()
        if threads:
            torch.set_num_threads(int(threads))
        try:
            with torch.inference_mode():
                return _chunks(inputs, run_chunk, size)
        finally:
            torch.set_num_threads(before)

    return run


def export_onnx(network: nn.Module, example: torch.Tensor) -> bytes:
    """``network`` (float32, CPU) as an ONNX model with a dynamic batch axis."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
        torch.onnx.export(network, (example,), buffer, input_names=["inputs"],
                          output_names=["outputs"], dynamo=False,
                          dynamic_axes={"inputs": {0: "batch"}, "outputs": {0: "batch"}})
    return buffer.getvalue()


def _onnx_runner(network: nn.Module, device: torch.device, threads: int | None) -> Runner:
    if not onnx_available():
        raise ValueError("backend 'onnx' needs onnxruntime and onnx: pip install 'kizashi[fast]'")
    import onnxruntime

    state: dict[str, onnxruntime.InferenceSession] = {}

    def session(example: np.ndarray) -> onnxruntime.InferenceSession:
        if "session" not in state:
            model = export_onnx(network, torch.from_numpy(example))
            options = onnxruntime.SessionOptions()
            if threads:
                options.intra_op_num_threads = int(threads)
                options.inter_op_num_threads = 1
            providers = ["CPUExecutionProvider"]
            if device.type == "cuda" and \
                    "CUDAExecutionProvider" in onnxruntime.get_available_providers():
                providers.insert(0, "CUDAExecutionProvider")
            state["session"] = onnxruntime.InferenceSession(model, options, providers=providers)
        return state["session"]

    def run_chunk(chunk: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(chunk, dtype=np.float32)
        return session(batch[:1]).run(None, {"inputs": batch})[0]

    return lambda inputs: _chunks(inputs, run_chunk)
