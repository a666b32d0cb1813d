"""``kizashi train``: from a run config to a trained network in an output folder.

The folder holds ``model.pt`` (a plain ``state_dict``, load it with
``torch.load(path, weights_only=True)``), ``config.json`` (how to rebuild the
network and standardise its input), ``curves.csv`` / ``curves.png`` and
``checkpoint.pt`` (for ``--resume``). :func:`load_trained` reads it back.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from kizashi import __version__
from kizashi.dl import network_class
from kizashi.dl.config import RunConfig
from kizashi.dl.trainer import MODEL, Trainer, TrainResult


def feature_names(data: dict[str, Any], n_features: int) -> list[str]:
    """The names of the training data's features (columns), in order.

    A CSV's column names; SMD's metric names; ``s0``, ``s1``, ... otherwise.
    ``kizashi watch`` matches a trained multivariate model's inputs to series by them.
    """
    kind = data.get("source", "synthetic")
    if kind == "csv":
        import pandas as pd

        columns = data.get("columns") or list(
            pd.read_csv(data["path"], nrows=5).select_dtypes("number").columns)
        return [str(c) for c in columns]
    if kind == "smd":
        from kizashi.data.smd import load_smd

        frame = getattr(load_smd(data["machine"]), data.get("part", "train"))
        return [str(m) for m in frame.metrics]
    return [f"s{j}" for j in range(n_features)]


def load_values(data: dict[str, Any], source: str = "config") -> np.ndarray:
    """The training rows ``(time, features)`` that ``data`` names."""
    kind = data.get("source", "synthetic")
    if kind == "smd":
        from kizashi.data.smd import load_smd

        machine = data.get("machine")
        if not machine:
            raise ValueError(f"{source}: data.source 'smd' needs data.machine, e.g. machine-1-6")
        frame = getattr(load_smd(machine), data.get("part", "train"))
        return frame.values
    if kind == "csv":
        import pandas as pd

        if "path" not in data:
            raise ValueError(f"{source}: data.source 'csv' needs data.path")
        table = pd.read_csv(data["path"])
        columns = data.get("columns") or list(table.select_dtypes("number").columns)
        return table[columns].to_numpy(dtype=np.float64)
    if kind == "synthetic":
        from kizashi.data import synthetic

        values, _ = synthetic.spikes(n=int(data.get("n", 2000)),
                                     n_series=int(data.get("n_series", 4)),
                                     seed=int(data.get("seed", 0)), n_spikes=0)
        return values
    raise ValueError(f"{source}: unknown data.source {kind!r}; use smd, csv or synthetic")


def network_params(config: RunConfig, n_features: int) -> dict[str, Any]:
    """The network's constructor arguments (``n_features`` added where it takes one)."""
    params = {k: v for k, v in config.model.items() if k != "name"}
    cls = network_class(config.model["name"])
    if "n_features" in inspect.signature(cls.__init__).parameters:
        params["n_features"] = int(n_features)
    return params


def prepare(config: RunConfig) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...] | None,
                                        dict[str, Any]]:
    """Train and validation samples, and the standardisation used (from the train rows)."""
    values = load_values(config.data, config.source)
    cls = network_class(config.model["name"])
    window = int(config.model.get("window", inspect.signature(cls.__init__)
                                  .parameters["window"].default))
    val_fraction = float(config.data.get("val_fraction", 0.2))
    cut = round(values.shape[0] * (1.0 - val_fraction))
    mean = np.nanmean(values[:cut], axis=0)
    std = np.nanstd(values[:cut], axis=0)
    std = np.where(std > 1e-8 * (1.0 + np.abs(mean)), std, 1.0)
    z = (values - mean) / std
    train = cls.samples(z[:cut], window)
    stride = int(config.data.get("stride", 1))
    if stride > 1:
        train = tuple(a[::stride] for a in train)
    val = cls.samples(z[max(cut - window, 0):], window) if cut < len(z) else None
    if val is not None and len(val[0]) == 0:
        val = None
    stats = {"mean": mean.tolist(), "std": std.tolist(), "n_features": int(values.shape[1])}
    return train, val, stats


def train_from_config(config: RunConfig, out_dir: str | Path | None, resume: bool = False,
                      distributed: bool | None = None,
                      epoch_callback: Callable[[int, float, float], None] | None = None,
                      progress: bool | None = None,
                      step_callback: Callable[[int], None] | None = None) -> TrainResult:
    """Train the network ``config`` describes; files go to ``out_dir`` (rank 0 only)."""
    train, val, stats = prepare(config)
    params = network_params(config, stats["n_features"])
    settings = config.settings()
    if progress is not None:
        settings.progress = progress
    torch.manual_seed(settings.seed)
    network = network_class(config.model["name"])(**params)
    record = {"kizashi": __version__, "network": config.model["name"], "params": params,
              "features": feature_names(config.data, stats["n_features"]),
              "standardise": {"mean": stats["mean"], "std": stats["std"]},
              "run": config.to_dict()}
    trainer = Trainer(network, train, val, settings, out_dir=out_dir, config=record,
                      distributed=distributed, epoch_callback=epoch_callback,
                      step_callback=step_callback)
    return trainer.fit(resume=resume)


def load_trained(out_dir: str | Path, map_location: str = "cpu"):
    """The trained network of a ``kizashi train`` folder and its ``config.json``.

    Weights load with ``weights_only=True``: a model file cannot run code.
    """
    from kizashi.dl import checkpoint

    out_dir = Path(out_dir)
    path = out_dir / "config.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        network = network_class(record["network"])(**record["params"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a readable kizashi training record ({error})") from None
    state = checkpoint.load(out_dir / MODEL, map_location=map_location)  # names a bad file
    checkpoint.check_state_dict(state, network, out_dir / MODEL)
    network.load_state_dict(state)
    return network.eval(), record
