"""Training run configuration: one YAML or TOML file says data, model, optimiser and loop.

Example (``examples/train-smd.yaml``)::

    seed: 0
    epochs: 10
    batch_size: 128
    patience: 3
    checkpoint_every: 200
    device: auto
    out: runs/smd-autoencoder          # --out on the command line wins
    data: {source: smd, machine: machine-1-6, val_fraction: 0.2}
    model: {name: autoencoder, window: 10, hidden: 64, latent: 8}
    optimiser: {name: adam, lr: 0.001, weight_decay: 0.0}
    scheduler: {name: cosine}

``data.source`` is ``smd`` (``machine``, found through ``KIZASHI_DATA``, see
:mod:`kizashi.data.paths`), ``csv`` (``path``: a numeric table, one column per
metric) or ``synthetic`` (``n``, ``n_series``, ``seed``: spikes on noisy sines,
for tests). ``search`` (only read by ``kizashi tune``) maps dotted keys to ranges.

>>> config = RunConfig.from_dict({"model": {"name": "lstm", "window": 8}, "epochs": 2})
>>> config.settings().epochs, config.model["window"]
(2, 8)
"""

from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from kizashi.dl.trainer import TrainSettings


@dataclass
class RunConfig:
    """A training run, as read from a config file (see the module docstring)."""

    data: dict[str, Any] = field(default_factory=lambda: {"source": "synthetic"})
    model: dict[str, Any] = field(default_factory=lambda: {"name": "autoencoder"})
    optimiser: dict[str, Any] = field(default_factory=lambda: {"name": "adam", "lr": 1e-3})
    scheduler: dict[str, Any] = field(default_factory=lambda: {"name": "none"})
    epochs: int = 10
    batch_size: int = 128
    seed: int = 0
    device: str = "auto"
    patience: int | None = 3
    min_delta: float = 0.0
    checkpoint_every: int = 200
    max_steps: int | None = None
    progress: bool = True
    threads: int | None = None
    out: str | None = None
    search: dict[str, Any] = field(default_factory=dict)
    source: str = "<dict>"

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "<dict>") -> RunConfig:
        known = {f.name for f in fields(cls)} - {"source"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"{source}: unknown key(s) {', '.join(unknown)}; "
                             f"known keys: {', '.join(sorted(known))}")
        for section in ("data", "model", "optimiser", "scheduler", "search"):
            if section in raw and not isinstance(raw[section], dict):
                raise ValueError(f"{source}: '{section}' must be a mapping")
        config = cls(**copy.deepcopy(raw), source=source)
        if "name" not in config.model:
            raise ValueError(f"{source}: model needs a 'name' (lstm, autoencoder or cnn)")
        config.settings()  # validates the loop settings
        return config

    def settings(self) -> TrainSettings:
        """The Trainer's settings."""
        opt = dict(self.optimiser)
        sched = dict(self.scheduler)
        try:
            return TrainSettings(
                epochs=int(self.epochs), batch_size=int(self.batch_size),
                optimiser=str(opt.pop("name", "adam")), lr=float(opt.pop("lr", 1e-3)),
                weight_decay=float(opt.pop("weight_decay", 0.0)),
                momentum=float(opt.pop("momentum", 0.9)),
                scheduler=str(sched.pop("name", "none")),
                step_size=int(sched.pop("step_size", 10)), gamma=float(sched.pop("gamma", 0.5)),
                seed=int(self.seed), device=str(self.device),
                patience=None if self.patience is None else int(self.patience),
                min_delta=float(self.min_delta), checkpoint_every=int(self.checkpoint_every or 0),
                max_steps=None if self.max_steps is None else int(self.max_steps),
                progress=bool(self.progress),
                threads=None if self.threads is None else int(self.threads))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{self.source}: {error}") from None

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self)}
        out.pop("source")
        return out

    def with_values(self, dotted: dict[str, Any]) -> RunConfig:
        """A copy with ``{"model.hidden": 32, "epochs": 3}``-style overrides."""
        raw = self.to_dict()
        for key, value in dotted.items():
            target = raw
            *parents, last = key.split(".")
            for part in parents:
                target = target.setdefault(part, {})
            target[last] = value
        return RunConfig.from_dict(raw, self.source)


def load_config(path: str | Path) -> RunConfig:
    """Read a ``.yaml``/``.yml``/``.toml``/``.json`` run config."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            raw = tomllib.loads(text)
        elif suffix == ".json":
            raw = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(text)
        else:
            raise ValueError(f"{path}: config must be .yaml, .yml, .toml or .json")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: {error}") from None
    except ImportError:
        raise
    except Exception as error:  # yaml.YAMLError without importing yaml at module top
        if type(error).__module__.startswith("yaml"):
            from kizashi.yaml_errors import yaml_reason

            raise ValueError(f"{path}: not valid YAML: {yaml_reason(error)}") from None
        raise
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping at the top of the file")
    return RunConfig.from_dict(raw, str(path))
