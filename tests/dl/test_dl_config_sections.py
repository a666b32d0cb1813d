"""The ``model`` and ``data`` sections of a training config, and ``seed``/``threads``/``out``,
fed values of the wrong kind: refused before any data is read, in one line naming the key.

Kinds from the docs (:mod:`kizashi.dl.config`, docs/deep-learning.md): every size of a
network (its constructor's arguments) is a whole number >= 1; ``val_fraction`` is the
share of rows kept for validation (from 0 to below 1); ``n``/``n_series``/``stride`` are
counts and ``seed`` a 32-bit seed. Before, ``window: 2.5`` or an unknown model key ended
in "internal error", ``window: true`` trained a window of 1, ``val_fraction: -0.2``
trained on 120 % of the rows, a misspelt data key was ignored, ``threads: 1000000``
crashed torch with a segmentation fault and ``seed: 2**70`` failed in torch.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.dl import NETWORKS, network_class
from kizashi.dl.config import RunConfig

NOT_COUNT: dict[str, Any] = {"zero": 0, "negative": -3, "fraction": 2.5, "true": True,
                             "text": "10", "nan": math.nan, "inf": math.inf, "list": [4],
                             "mapping": {"a": 1}}
NOT_FRACTION: dict[str, Any] = {"one": 1, "above": 1.5, "negative": -0.2, "nan": math.nan,
                                "inf": math.inf, "text": "0.2", "true": True, "list": [0.2]}
SIZES = {name: [p for p in inspect.signature(network_class(name).__init__).parameters
                if p not in ("self", "n_features")] for name in NETWORKS}
MODEL_CASES = [(name, key, case, value) for name, keys in SIZES.items() for key in keys
               for case, value in NOT_COUNT.items()]
#: data.source → its count keys (with their lowest value) besides the common stride
DATA_COUNTS = {"synthetic": {"n": 1, "n_series": 1, "seed": 0}, "smd": {}, "csv": {}}
BASE_DATA = {"synthetic": {}, "smd": {"machine": "machine-1-1"}, "csv": {"path": "x.csv"}}
DATA_CASES = ([(source, "val_fraction", case, value) for source in BASE_DATA
               for case, value in NOT_FRACTION.items()]
              + [(source, key, case, value) for source in BASE_DATA
                 for key in ("stride", *DATA_COUNTS[source])
                 for case, value in NOT_COUNT.items()
                 if not (key == "seed" and case == "zero")])


def refused(raw: dict[str, Any], *names: str) -> str:
    with pytest.raises(ValueError) as caught:
        RunConfig.from_dict(raw, "run.yaml")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("run.yaml: "), message
    assert any(name in message for name in names), message
    return message


@pytest.mark.parametrize(("network", "key", "value"), [(n, k, v) for n, k, _, v in MODEL_CASES],
                         ids=[f"{n}.{k}={c}" for n, k, c, _ in MODEL_CASES])
def test_a_network_size_of_the_wrong_kind_is_refused(network, key, value):
    refused({"model": {"name": network, key: value}}, f"model.{key}")


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_a_key_the_network_does_not_take_is_refused_with_its_keys(network):
    message = refused({"model": {"name": network, "dropout": 0.1}}, "model.dropout")
    assert all(size in message for size in SIZES[network]), message


@pytest.mark.parametrize("name", ["gpt", 3, None, ["lstm"], ""])
def test_an_unknown_network_is_refused(name):
    refused({"model": {"name": name}}, "model.name", "model needs")


@pytest.mark.parametrize(("source", "key", "value"), [(s, k, v) for s, k, _, v in DATA_CASES],
                         ids=[f"{s}.{k}={c}" for s, k, c, _ in DATA_CASES])
def test_a_data_setting_of_the_wrong_kind_is_refused(source, key, value):
    data = {"source": source, **BASE_DATA[source], key: value}
    refused({"data": data}, f"data.{key}")


@pytest.mark.parametrize(("source", "key"), [
    ("synthetic", "pathh"), ("synthetic", "machine"), ("csv", "n"), ("smd", "path"),
    ("csv", "val_fractoin")])
def test_a_data_key_its_source_does_not_read_is_refused(source, key):
    refused({"data": {"source": source, **BASE_DATA[source], key: 1}}, f"data.{key}")


@pytest.mark.parametrize(("key", "value"), [
    ("source", "s3"), ("source", 5), ("source", None), ("part", "validation"),
    ("machine", 16), ("machine", ""), ("path", ["a.csv"]), ("columns", []),
    ("columns", "cpu"), ("columns", ["cpu", 3])])
def test_odd_data_names_are_refused(key, value):
    source = "smd" if key in ("part", "machine") else "csv"
    data = {"source": source, **BASE_DATA[source], key: value}
    refused({"data": data}, f"data.{key}", "data.source")


@pytest.mark.parametrize(("key", "value"), [
    ("seed", 2**32), ("seed", 2**70), ("threads", 1025), ("threads", 10**6),
    ("optimiser.lr", 1e300), ("optimiser.lr", 1e31), ("optimiser.weight_decay", 1e40),
    ("optimiser.momentum", 1e39), ("scheduler.gamma", 1e200),
    ("out", 5), ("out", ""), ("out", ["runs"])])
def test_out_of_range_seeds_threads_and_odd_out_are_refused(key, value):
    """(rates above 1e30: torch keeps them as 32-bit floats, and 1e300 ended in its
    overflow error)"""
    section, _, name = key.rpartition(".")
    raw = {section: {"name": "adam" if section == "optimiser" else "step", name: value}} \
        if section else {key: value}
    refused(raw, key)


@pytest.mark.parametrize("raw", [
    {"model": {"name": "autoencoder", "window": 10, "hidden": 64, "latent": 8}},
    {"model": {"name": "cnn", "window": 1e1, "channels": 4, "kernel": 3, "layers": 2}},
    {"model": {"name": "lstm", "window": 8, "hidden": 4, "layers": 1}},
    {"data": {"source": "smd", "machine": "machine-1-6", "val_fraction": 0.2, "part": "train"}},
    {"data": {"source": "csv", "path": "a.csv", "columns": ["cpu", "mem"], "stride": 2}},
    {"data": {"source": "synthetic", "n": 300, "n_series": 3, "seed": 4, "val_fraction": 0}},
    {"seed": 2**32 - 1, "threads": 1024, "out": "runs/x"}])
def test_good_sections_are_taken(raw):
    RunConfig.from_dict({"model": {"name": "autoencoder"}, **raw}, "run.yaml")


def test_train_refuses_in_one_line_before_reading_data(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("model: {name: autoencoder, window: 2.5}\n"
                      "data: {source: csv, path: /nonexistent.csv}\n")
    result = CliRunner().invoke(cli, ["train", str(config), "--out", str(tmp_path / "o")])
    assert result.exit_code != 0
    assert "model.window" in result.output and "Traceback" not in result.output, result.output
    assert not (tmp_path / "o").exists()
