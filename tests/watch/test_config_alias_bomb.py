"""A value that YAML aliases make huge (``&a [x, …]``, ``&b [*a, *a, …]``: a few lines, 10⁶
items) at every key of a watch config and of a training config: refused in a message of
bounded size.

Before, each error message held ``repr(value)`` — all of it: at 10⁸ items, 2.4 GB of
memory and half a minute before ``kizashi watch --check`` could say "must be text" (one
more level: all the memory), and a line of megabytes. The expected sizes are fixed here:
one line, at most a few hundred characters of the value.
"""

from __future__ import annotations

import pytest
import yaml

from kizashi.dl.config import RunConfig
from kizashi.strict_yaml import load_yaml
from kizashi.watch.config import parse_config

LEVELS = 6   # 10**6 items after the aliases are followed


def anchors() -> str:
    parts = ["&a0 [" + ", ".join(["x"] * 10) + "]"]
    parts += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, LEVELS)]
    return "[" + ", ".join(parts) + "]"


BASE = {"interval": "1s", "listen": "off",
        "sources": {"p": {"type": "prometheus", "url": "http://127.0.0.1:9090"}},
        "watches": [{"name": "m", "query": "up",
                     "detectors": [{"name": "s", "detector": "threshold"}]}]}
#: a key path of the config → where the bomb goes
WATCH_KEYS = [
    ("interval",), ("storage",), ("token",), ("listen",), ("dashboard_url",),
    ("max_backfill",), ("metrics_series",), ("log_format",), ("sources", "p", "url"),
    ("sources", "p", "timeout"), ("watches", 0, "name"), ("watches", 0, "query"),
    ("watches", 0, "columns"), ("watches", 0, "source"),
    ("watches", 0, "detectors", 0, "cutoff"), ("watches", 0, "detectors", 0, "detector"),
    ("watches", 0, "detectors", 0, "min_duration"), ("watches", 0, "detectors", 0, "params", "k"),
    ("watches", 0, "detectors", 0, "protect"), ("watches", 0, "predict", "limit"),
    ("watches", 0, "predict", "horizon"), ("watches", 0, "predict", "cutoff"),
    ("alerts", "labels", "team"), ("alerts", "webhook", "url"),
]


def with_bomb(base: dict, path: tuple) -> str:
    """The config as YAML text with the anchors' list at ``path``."""
    marker = "BOMB_HERE"
    raw = yaml.safe_load(yaml.safe_dump(base))
    node = raw
    for key in path[:-1]:
        if isinstance(key, str) and key not in node:
            node[key] = {}
        node = node[key]
    node[path[-1]] = marker
    return yaml.safe_dump(raw, sort_keys=False).replace(marker, anchors())


@pytest.mark.parametrize("path", WATCH_KEYS, ids=[".".join(map(str, p)) for p in WATCH_KEYS])
def test_a_huge_aliased_value_in_a_watch_config_is_refused_in_a_short_line(path):
    with pytest.raises(ValueError) as caught:
        parse_config(with_bomb(BASE, path), where="w.yaml")
    message = str(caught.value)
    assert len(message) < 1000 and "\n" not in message, message[:300]


TRAIN_KEYS = [("epochs",), ("device",), ("seed",), ("out",), ("model", "window"),
              ("model", "name"), ("data", "val_fraction"), ("data", "source"),
              ("optimiser", "lr"), ("optimiser", "name"), ("scheduler", "gamma")]


@pytest.mark.parametrize("path", TRAIN_KEYS, ids=[".".join(map(str, p)) for p in TRAIN_KEYS])
def test_a_huge_aliased_value_in_a_training_config_is_refused_in_a_short_line(path):
    base = {"epochs": 1, "model": {"name": "autoencoder"}, "optimiser": {"name": "adam"},
            "scheduler": {"name": "step"}, "data": {"source": "synthetic"}}
    raw = load_yaml(with_bomb(base, path))
    with pytest.raises(ValueError) as caught:
        RunConfig.from_dict(raw, "run.yaml")
    message = str(caught.value)
    assert len(message) < 1000 and "\n" not in message, message[:300]
