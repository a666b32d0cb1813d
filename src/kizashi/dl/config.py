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
from kizashi.yaml_errors import bounded_repr as _r

#: the largest ``seed`` (the seeds of numpy's and the CLI's generators are 32-bit)
MAX_SEED = 2**32 - 1
#: the largest rate (lr, weight_decay, momentum, gamma): torch keeps them as 32-bit floats,
#: and a larger one ends in its overflow error rather than a diverged run
MAX_RATE = 1e30
#: the most CPU ``threads`` a run may ask for (torch crashes, not refuses, far above it)
MAX_THREADS = 1024


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
    #: the most memory the run may take (bytes, or "8GiB"); None: 3/4 of the machine's
    #: (:mod:`kizashi.dl.memory`)
    max_memory: int | str | None = None
    out: str | None = None
    search: dict[str, Any] = field(default_factory=dict)
    source: str = "<dict>"

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "<dict>") -> RunConfig:
        known = {f.name for f in fields(cls)} - {"source"}
        unknown = sorted(map(str, set(raw) - known))
        if unknown:
            from kizashi.spelling import did_you_mean

            raise ValueError(f"{source}: unknown key(s) {', '.join(unknown)}"
                             f"{did_you_mean(unknown[0], known)}; "
                             f"known keys: {', '.join(sorted(known))}")
        for section in ("data", "model", "optimiser", "scheduler", "search"):
            if section in raw and not isinstance(raw[section], dict):
                raise ValueError(f"{source}: '{section}' must be a mapping")
        config = cls(**copy.deepcopy(raw), source=source)
        if "name" not in config.model:
            raise ValueError(f"{source}: model needs a 'name' (lstm, autoencoder or cnn)")
        from kizashi.dl.config_values import check_data, check_model

        check_model(config.model, source)
        check_data(config.data, source)
        if config.out is not None and (not isinstance(config.out, str) or not config.out.strip()):
            raise ValueError(f"{source}: out must be a folder name (text), got {_r(config.out)}")
        config.settings()  # validates the loop settings
        if config.max_memory is not None:
            from kizashi.dl.memory import parse_bytes

            parse_bytes(config.max_memory, f"{source}: max_memory")
        return config

    def settings(self) -> TrainSettings:
        """The Trainer's settings, each value of its documented kind (else a ValueError
        naming the key: ``epochs: 2.5`` or ``progress: "false"`` are refused, not cast)."""
        from kizashi.dl.config_values import Checks

        check = Checks(self.source)
        opt = check.section("optimiser", self.optimiser, ("name", "lr", "weight_decay",
                                                          "momentum"))
        sched = check.section("scheduler", self.scheduler, ("name", "step_size", "gamma"))
        try:
            return TrainSettings(
                epochs=check.whole("epochs", self.epochs, 1),
                batch_size=check.whole("batch_size", self.batch_size, 1),
                optimiser=check.text("optimiser.name", opt.get("name", "adam")),
                lr=check.number("optimiser.lr", opt.get("lr", 1e-3), positive=True, high=MAX_RATE),
                weight_decay=check.number("optimiser.weight_decay", opt.get("weight_decay", 0.0),
                                          high=MAX_RATE),
                momentum=check.number("optimiser.momentum", opt.get("momentum", 0.9),
                                      high=MAX_RATE),
                scheduler=check.text("scheduler.name", sched.get("name", "none")),
                step_size=check.whole("scheduler.step_size", sched.get("step_size", 10), 1),
                gamma=check.number("scheduler.gamma", sched.get("gamma", 0.5), positive=True,
                                   high=MAX_RATE),
                seed=check.whole("seed", self.seed, 0, high=MAX_SEED),
                device=check.text("device", self.device),
                patience=check.whole("patience", self.patience, 0, optional=True),
                min_delta=check.number("min_delta", self.min_delta),
                checkpoint_every=check.whole("checkpoint_every", self.checkpoint_every or 0, 0),
                max_steps=check.whole("max_steps", self.max_steps, 1, optional=True),
                progress=check.flag("progress", self.progress),
                threads=check.whole("threads", self.threads, 1, optional=True,
                                    high=MAX_THREADS))
        except (TypeError, ValueError) as error:
            text = str(error)  # (the checks name the file already)
            raise ValueError(text if text.startswith(f"{self.source}: ")
                             else f"{self.source}: {text}") from None

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
            from kizashi.strict_yaml import load_yaml

            raw = load_yaml(text)  # (yaml.safe_load, refusing a key given twice)
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
