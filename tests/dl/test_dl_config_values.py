"""Every setting of a training config, fed values of the wrong kind: refused naming the key.

The kinds come from the config's documentation (:mod:`kizashi.dl.config`): counts are
whole numbers, rates finite numbers, flags booleans, names text. The odd values are
generated per kind, never read from kizashi's answers; before, ``int()``/``bool()`` cast
them (``epochs: 2.5`` trained 2 epochs, ``epochs: true`` one, ``progress: "false"``
showed the bar). A typo of each key gets the key as the hint.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.dl.config import RunConfig

#: dotted key → kind
KEYS = {
    "epochs": "count1", "batch_size": "count1", "seed": "count0", "checkpoint_every": "count0",
    "patience": "optional_count0", "max_steps": "optional_count1", "threads": "optional_count1",
    "min_delta": "rate0", "progress": "flag", "device": "name",
    "optimiser.name": "name", "optimiser.lr": "rate", "optimiser.weight_decay": "rate0",
    "optimiser.momentum": "rate0", "scheduler.name": "name", "scheduler.step_size": "count1",
    "scheduler.gamma": "rate",
}
COMMON = {"list": [1, 2], "mapping": {"a": 1}}
NOT_COUNT = {**COMMON, "true": True, "text": "10", "fraction": 2.5, "nan": math.nan,
             "inf": math.inf, "negative": -1}
NOT_RATE = {**COMMON, "true": True, "text": "0.1", "nan": math.nan, "inf": math.inf,
            "negative": -0.5}
ODD: dict[str, dict[str, Any]] = {
    "count1": {**NOT_COUNT, "zero": 0},
    "count0": NOT_COUNT,
    "optional_count0": NOT_COUNT,
    "optional_count1": {**NOT_COUNT, "zero": 0},
    "rate": {**NOT_RATE, "zero": 0},
    "rate0": NOT_RATE,
    "flag": {**COMMON, "text-false": "false", "one": 1, "zero": 0},
    "name": {**COMMON, "true": True, "number": 5, "empty": ""},
}
CASES = [(key, case, value) for key, kind in KEYS.items() for case, value in ODD[kind].items()]


def config_with(key: str, value: Any) -> dict:
    raw: dict[str, Any] = {"model": {"name": "autoencoder"}}
    *parents, last = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {"name": "adam"} if part == "optimiser" else {})
    node[last] = value
    return raw


@pytest.mark.parametrize(("key", "value"), [(k, v) for k, _, v in CASES],
                         ids=[f"{k}={c}" for k, c, _ in CASES])
def test_a_setting_of_the_wrong_kind_is_refused_naming_it(key, value):
    with pytest.raises(ValueError) as caught:
        RunConfig.from_dict(config_with(key, value), "run.yaml")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("run.yaml: "), message
    assert key in message or key.split(".")[-1] in message, message


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("epochs", 1e3, 1000), ("epochs", 3, 3), ("patience", None, None),
    ("optimiser.lr", 1, 1.0), ("progress", False, False), ("checkpoint_every", None, 0)])
def test_good_values_in_other_spellings_are_taken(key, value, expected):
    settings = RunConfig.from_dict(config_with(key, value), "run.yaml").settings()
    field = {"optimiser.lr": "lr"}.get(key, key)
    got = getattr(settings, field)
    assert got == expected and type(got) is type(expected)


TOP = ["epochs", "batch_size", "patience", "checkpoint_every", "device", "optimiser",
       "scheduler", "threads", "max_steps", "progress", "min_delta"]


@pytest.mark.parametrize("key", TOP)
def test_a_misspelt_key_gets_the_right_one_as_hint(key):
    with pytest.raises(ValueError, match=rf"unknown key\(s\) {key}s .*did you mean '{key}'\?"):
        RunConfig.from_dict({f"{key}s": 1}, "run.yaml")


@pytest.mark.parametrize(("section", "key"), [("optimiser", "lr"), ("optimiser", "momentum"),
                                              ("scheduler", "gamma"),
                                              ("scheduler", "step_size")])
def test_a_misspelt_key_of_a_section_is_refused(section, key):
    typo = key + key[-1]
    with pytest.raises(ValueError, match=rf"{section}\.{typo} .*did you mean '{key}'\?"):
        RunConfig.from_dict({section: {"name": "adam" if section == "optimiser" else "step",
                                       typo: 1}}, "run.yaml")


@pytest.mark.parametrize(("text", "what"), [("epochs: 2.5\n", r"epochs must be a whole number"),
                                            ("epochs: 3\nepochs: 4\n", r"line 2.*given twice"),
                                            ("progress: 'false'\n", r"progress must be true"),
                                            ("epocs: 3\n", r"did you mean 'epochs'")])
def test_through_the_command_it_is_one_line_before_training(tmp_path, text, what):
    config = tmp_path / "run.yaml"
    config.write_text(text)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["train", str(config), "--out", str(out)])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code in (1, 2) and len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: {config}: ") and re.search(what, lines[0]), lines
    assert not out.exists()


LR = "optimiser.lr"
#: a search section → what its one refusal must say (a trial would have failed on each)
BAD_SEARCH = {
    "not-a-mapping": ([LR], r"search must be a mapping"),
    "entry-a-number": ({LR: 0.1}, r"search\.optimiser\.lr must be a mapping"),
    "unknown-type": ({LR: {"type": "normal", "low": 0, "high": 1}}, r"\.type must be float"),
    "low-missing": ({LR: {"high": 1.0}}, r"\.low must be a finite number"),
    "low-text": ({LR: {"low": "a", "high": 1.0}}, r"\.low must be a finite number, got 'a'"),
    "high-nan": ({LR: {"low": 0.1, "high": math.nan}}, r"\.high must be a finite number"),
    "low-above-high": ({LR: {"low": 0.1, "high": 0.01}}, r"low \(0\.1\) must be below high"),
    "log-from-zero": ({LR: {"low": 0.0, "high": 0.1, "log": True}}, r"log range needs low > 0"),
    "log-text": ({LR: {"low": 0.01, "high": 0.1, "log": "yes"}}, r"\.log must be true or"),
    "int-fraction": ({"epochs": {"type": "int", "low": 1.5, "high": 3}},
                     r"\.low must be a finite whole number"),
    "misspelt-field": ({LR: {"low": 0.01, "hihg": 0.1}}, r"did you mean 'high'\?"),
    "choices-empty": ({"device": {"type": "categorical", "choices": []}},
                      r"\.choices must be a non-empty list"),
    "misspelt-key": ({"optimiser.lrr": {"low": 0.01, "high": 0.1}}, r"did you mean 'lr'\?"),
    "unknown-key": ({"speed": {"low": 0.01, "high": 0.1}}, r"search\.speed: unknown key"),
    "value-of-the-wrong-kind": ({"epochs": {"type": "int", "low": -3, "high": 3}},
                                r"search\.epochs: epochs must be a whole number >= 1"),
}


@pytest.mark.parametrize("case", list(BAD_SEARCH))
def test_a_search_section_a_trial_would_fail_on_is_refused_first(case):
    from kizashi.dl.config_values import check_search

    space, what = BAD_SEARCH[case]
    config = RunConfig.from_dict({"model": {"name": "autoencoder"}}, "run.yaml")
    with pytest.raises(ValueError) as caught:
        check_search(space, "run.yaml", config)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("run.yaml: "), message
    assert re.search(what, message), message


def test_the_documented_search_spaces_pass():
    from kizashi.dl.config_values import check_search
    from kizashi.dl.tuning import DEFAULT_SPACE

    config = RunConfig.from_dict({"model": {"name": "autoencoder"}}, "run.yaml")
    check_search(DEFAULT_SPACE, "run.yaml", config)
    check_search({"model.hidden": {"type": "int", "low": 8, "high": 64, "log": True},
                  "scheduler.name": {"type": "categorical", "choices": ["none", "cosine"]}},
                 "run.yaml", config)


def test_tune_refuses_a_bad_search_before_creating_the_study(tmp_path):
    pytest.importorskip("optuna")
    config = tmp_path / "run.yaml"
    config.write_text("model: {name: autoencoder}\nsearch:\n  optimiser.lr: {low: 0.1, "
                      "high: 0.01}\n")
    study = tmp_path / "study.db"
    result = CliRunner().invoke(cli, ["tune", str(config), "--trials", "1", "--storage",
                                      f"sqlite:///{study}"])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert "search.optimiser.lr: low (0.1) must be below high (0.01)" in lines[0]
    assert not study.exists()
