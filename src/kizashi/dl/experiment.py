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
from kizashi.dl.trainer import MODEL, RECORD_FORMAT, Trainer, TrainResult
from kizashi.integrity import check_record


def feature_names(data: dict[str, Any], n_features: int) -> list[str]:
    """The names of the training data's features (columns), in order.

    A CSV's column names; SMD's metric names; ``s0``, ``s1``, ... otherwise.
    ``kizashi watch`` matches a trained multivariate model's inputs to series by them.
    """
    kind = data.get("source", "synthetic")
    if kind == "csv":
        return csv_table(data)[0]
    if kind == "smd":
        from kizashi.data.smd import load_smd

        frame = getattr(load_smd(data["machine"]), data.get("part", "train"))
        return [str(m) for m in frame.metrics]
    return [f"s{j}" for j in range(n_features)]


def csv_table(data: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    """The metric names and ``(rows, metrics)`` values of a ``data.source: csv`` file.

    The metrics are ``data.columns``, or else every numeric column except a time column
    (``timestamp`` or one of the file readers' other names for it, any case) and a pandas
    row index written into the file (an unnamed column counting 0, 1, 2, …): before,
    these were network inputs like any metric. Empty cells are missing; a cell that is
    not a number, or is infinite, and a column with fewer than two values are errors
    naming the column (and line): before, ``inf`` trained a network whose losses were
    NaN, and it was written out, and a column with text in it was dropped in silence.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write("timestamp,cpu,mem\\n1700000000,1,\\n1700000060,2,5\\n"
    ...                           "1700000120,3,6\\n")
    >>> names, values = csv_table({"path": path})
    >>> names, values.tolist()
    (['cpu', 'mem'], [[1.0, nan], [2.0, 5.0], [3.0, 6.0]])
    """
    import pandas as pd

    from kizashi.data.index_columns import INDEX_NAME, is_row_counter
    from kizashi.data.readers import TIME_ALIASES

    path = data["path"]
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = " ".join(str(error).split())
        raise ValueError(f"{path}: cannot read it as a CSV table ({reason})") from None
    header = [str(c) for c in table.columns]
    table.columns = header
    if data.get("columns"):
        columns = [str(c) for c in data["columns"]]
        missing = [c for c in columns if c not in header]
        if missing:
            raise ValueError(f"{path}: no column(s) {', '.join(map(repr, missing))} "
                             f"(data.columns); it has {', '.join(header)}")
    else:
        time = {"timestamp", *TIME_ALIASES}
        columns = [c for c in header
                   if c.lower() not in time and not ((not c.strip() or INDEX_NAME.match(c))
                                                     and is_row_counter(table[c].tolist()))]
        if not len(table):
            raise ValueError(f"{path}: no data rows (only a header)")
        if not columns:
            raise ValueError(f"{path}: no numeric metric column (header: "
                             f"{', '.join(header) or 'none'}); write one column per metric")
    values = np.empty((len(table), len(columns)))
    for j, name in enumerate(columns):
        cells = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(np.isinf(cells) | (np.isnan(cells) & table[name].notna().to_numpy()))
        if bad.size:
            raise ValueError(f"{path}: column {name!r}, line {int(bad[0]) + 2}: "
                             f"{str(table[name].iloc[bad[0]])!r} is not a finite number "
                             f"({bad.size} such cell(s)); fix the file, leave the cell empty, "
                             "or list the metric columns in data.columns")
        if np.isfinite(cells).sum() < 2:
            raise ValueError(f"{path}: column {name!r} has fewer than two values; a network "
                             "needs each input observed (drop it, or list the others in "
                             "data.columns)")
        values[:, j] = cells
    return columns, values


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
        if "path" not in data:
            raise ValueError(f"{source}: data.source 'csv' needs data.path")
        return csv_table(data)[1]
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
    from kizashi.dl.memory import check_memory

    check_memory(config, values.shape[0], values.shape[1])  # before the samples are built
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
    check_record(record, path, "train again (kizashi train CONFIG --out DIR)",
                 required=record.get("format") == RECORD_FORMAT)
    state = checkpoint.load(out_dir / MODEL, map_location=map_location)  # names a bad file
    checkpoint.check_state_dict(state, network, out_dir / MODEL)
    network.load_state_dict(state)
    return network.eval(), record
