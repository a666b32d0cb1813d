"""How much memory a ``kizashi train`` run will take, estimated before it takes it.

A config asking for a huge window, batch or network (``window: 100000``, ``hidden:
1000000``, ``batch_size: 10000000``) used to start allocating and either end in the
allocator's "can't allocate memory" after minutes of swapping, or take the machine with
it. :func:`check_memory` estimates the run from the config and the shape of its data —
the training samples (float32 windows, copied once while the windows with a NaN are left
out), the network's parameters with their gradients and the optimiser's two moments
(counted on PyTorch's ``meta`` device: nothing is allocated), and one batch's activations
and their gradients — and refuses the run in one line when the estimate is above a cap:
``max_memory`` in the config (``--max-memory`` on the command line), by default three
quarters of the machine's physical memory.

The estimate is of the order of what a run takes (the activations are a rough bound of
the widest layer over the window), meant to stop the absurd, not to budget a tight run.

>>> from kizashi.dl.config import RunConfig
>>> config = RunConfig.from_dict({"model": {"name": "autoencoder", "window": 10}})
>>> parts = estimate_bytes(config, n_rows=2000, n_features=4)
>>> sorted(parts), parts["samples"]  # 1991 windows of 10 x 4 floats, 9 bytes each
(['batch', 'network', 'samples'], 716760)
>>> try:
...     check_memory(RunConfig.from_dict({"model": {"name": "autoencoder", "window": 1000},
...                                       "max_memory": "1MiB"}), 2000, 4)
... except ValueError as error:
...     print(error)  # doctest: +NORMALIZE_WHITESPACE
<dict>: training would take about 54 MiB (samples 34 MiB, network 7.9 MiB, batch 12 MiB),
above max_memory of 1 MiB: use a smaller model.window, batch_size or model size, or raise
max_memory (--max-memory)
"""

from __future__ import annotations

import inspect
import os
import re
from typing import Any

__all__ = ["DEFAULT_SHARE", "check_memory", "estimate_bytes", "memory_cap", "parse_bytes",
           "size_text"]

#: The share of the machine's physical memory a run may take when the config sets no cap.
DEFAULT_SHARE = 0.75
#: When the machine's memory is unknown: this many bytes.
FALLBACK_CAP = 16 * 2**30
#: Bytes a sample's float takes while the samples are built: the float32 windows, their
#: copy without the windows that touch a NaN, and the mask (one byte) that picks them.
_SAMPLE_BYTES = 4 + 4 + 1
#: Bytes per parameter: float32 weights, their gradients and Adam's two moments.
_PARAM_BYTES = 16
#: Bytes per activation: float32 forward, its gradient, and a temporary of the backward.
_ACTIVATION_BYTES = 12
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "tib": 2**40}


def parse_bytes(value: Any, key: str = "max_memory") -> int:
    """A size in bytes: a whole number, or text such as ``"8GiB"``, ``"512 MB"``, ``"2e9"``.

    >>> parse_bytes("8GiB"), parse_bytes("512 MB"), parse_bytes(4096), parse_bytes("1.5k")
    (8589934592, 512000000, 4096, 1500)
    """
    if isinstance(value, bool):
        raise ValueError(f"{key} must be a size in bytes (8GiB, 512MB, 4096), got {value!r}")
    if isinstance(value, (int, float)):
        number, unit = float(value), ""
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*",
                             str(value))
        if match is None or match.group(2).lower() not in _UNITS:
            raise ValueError(f"{key} must be a size in bytes (8GiB, 512MB, 4096), "
                             f"got {value!r}")
        number, unit = float(match.group(1)), match.group(2).lower()
    size = number * _UNITS[unit]
    if not size >= 1 or size > 2**62:
        raise ValueError(f"{key} must be a size from 1 byte to 4 EiB, got {value!r}")
    return int(size)


def memory_cap(config: Any) -> int:
    """The cap of a run: its ``max_memory``, else :data:`DEFAULT_SHARE` of the machine's
    physical memory (:data:`FALLBACK_CAP` when unknown)."""
    if getattr(config, "max_memory", None) is not None:
        return parse_bytes(config.max_memory, f"{config.source}: max_memory")
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return FALLBACK_CAP
    return int(total * DEFAULT_SHARE) if total > 0 else FALLBACK_CAP


def estimate_bytes(config: Any, n_rows: int, n_features: int) -> dict[str, int]:
    """Bytes of the run's ``samples``, ``network`` (with gradients and optimiser state)
    and one ``batch``'s activations, for data of ``n_rows`` rows of ``n_features``."""
    import torch

    from kizashi.dl import network_class
    from kizashi.dl.experiment import network_params

    cls = network_class(config.model["name"])
    defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters
                .items() if p.default is not inspect.Parameter.empty}
    sizes = {**defaults, **{k: v for k, v in config.model.items() if k != "name"}}
    window = int(sizes.get("window", 1))
    # every window of window + 1 rows (the autoencoder's: of window rows) of every feature
    span = window if config.model["name"] == "autoencoder" else window + 1
    samples = max(n_rows - span + 1, 0) * span * n_features * _SAMPLE_BYTES
    with torch.device("meta"):  # the network's shape only: nothing is allocated
        network = cls(**network_params(config, n_features))
    parameters = sum(p.numel() for p in network.parameters())
    batch = int(config.batch_size) * _activations(config.model["name"], sizes, window,
                                                  n_features) * _ACTIVATION_BYTES
    return {"samples": samples, "network": parameters * _PARAM_BYTES, "batch": batch}


def _activations(name: str, sizes: dict[str, Any], window: int, n_features: int) -> int:
    """Activations one sample keeps for the backward pass (its input and output too)."""
    size = {k: int(v) for k, v in sizes.items()
            if isinstance(v, int) and not isinstance(v, bool)}
    layers = size.get("layers", 1)
    if name == "autoencoder":   # flattened window in and out, the hidden and latent layers
        return 2 * window * n_features + 2 * size.get("hidden", 1) + size.get("latent", 1)
    if name == "lstm":          # per step and layer: four gates, the cell and the output
        return window + 6 * window * size.get("hidden", 1) * layers
    # a convolution stack: per layer its output and its activation, over the window
    width = max(size.get("channels", 1), size.get("hidden", 1), n_features)
    return (window + 1) * n_features + 2 * window * width * layers


def size_text(n: float) -> str:
    """Bytes in the largest binary unit, two significant digits below 10.

    >>> size_text(512), size_text(1536), size_text(3.5 * 2**30), size_text(40 * 2**20)
    ('512 B', '1.5 KiB', '3.5 GiB', '40 MiB')
    """
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            value = n / scale
            return f"{value:.2g} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{n:.0f} B"


def check_memory(config: Any, n_rows: int, n_features: int) -> None:
    """Refuse, in one line naming the config, a run whose estimate is above its cap.

    Raises
    ------
    ValueError
        The estimate, its parts, the cap and what to change.
    """
    parts = estimate_bytes(config, n_rows, n_features)
    need, cap = sum(parts.values()), memory_cap(config)
    if need <= cap:
        return
    named = ", ".join(f"{k} {size_text(v)}" for k, v in parts.items())
    whose = "max_memory" if getattr(config, "max_memory", None) is not None else \
        f"{DEFAULT_SHARE:.0%} of this machine's memory"
    raise ValueError(f"{config.source}: training would take about {size_text(need)} ({named}), "
                     f"above {whose} of {size_text(cap)}: use a smaller model.window, batch_size "
                     "or model size, or raise max_memory (--max-memory)")
