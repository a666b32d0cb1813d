"""A ``search`` section of ``kizashi tune`` with a value some trial would draw that the
config refuses: refused before any study is opened, naming the entry.

Before, only the first choice of a categorical entry and the ``low`` end of a range were
tried against the config, so ``choices: [4, 2.5]`` for ``model.window`` or ``high: 1.5``
for ``data.val_fraction`` passed the check; the trial that drew the value failed, and its
error stopped the worker with the study half run. Each bad value is placed first, in the
middle and last; each range gets a bad low and a bad high end.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.dl.config import RunConfig
from kizashi.dl.config_values import check_search

pytest.importorskip("torch")

BASE = RunConfig.from_dict({"data": {"source": "synthetic", "n": 100, "n_series": 2},
                            "model": {"name": "autoencoder", "window": 4}}, "t.yaml")
#: key → (good values, bad values) of its kind
KINDS = {
    "model.window": ([2, 8, 16], [2.5, "abc", 0, True]),
    "model.hidden": ([4, 64], [-1, None]),
    "data.val_fraction": ([0.0, 0.1, 0.5], [1.0, 1.5, -0.1]),
    "optimiser.lr": ([1e-4, 0.1], [0, -1e-3, 1e31]),
    "batch_size": ([8, 256], [0, 12.5]),
}
CATEGORICAL = [(key, bad, where) for key, (good, bads) in KINDS.items() for bad in bads
               for where in ("first", "middle", "last")]


def placed(good: list, bad, where: str) -> list:
    return {"first": [bad, *good], "middle": [good[0], bad, *good[1:]],
            "last": [*good, bad]}[where]


@pytest.mark.parametrize(("key", "bad", "where"), CATEGORICAL,
                         ids=[f"{k}={b!r}@{w}" for k, b, w in CATEGORICAL])
def test_a_bad_choice_anywhere_is_refused(key, bad, where):
    choices = placed(KINDS[key][0], bad, where)
    with pytest.raises(ValueError) as caught:
        check_search({key: {"type": "categorical", "choices": choices}}, "t.yaml", BASE)
    assert caught.value.args[0].startswith(f"t.yaml: search.{key}: "), caught.value


RANGES = [("model.window", "int", 1, 0, 8), ("model.hidden", "int", 0, -2, 8),
          ("data.val_fraction", "float", 1, 0.1, 1.5), ("data.val_fraction", "float", 0, -0.5, 0.3),
          ("optimiser.lr", "float", 1, 1e-4, 1e31)]


@pytest.mark.parametrize(("key", "kind", "bad_end", "low", "high"), RANGES)
def test_a_range_with_a_bad_end_is_refused(key, kind, bad_end, low, high):
    with pytest.raises(ValueError) as caught:
        check_search({key: {"type": kind, "low": low, "high": high}}, "t.yaml", BASE)
    assert caught.value.args[0].startswith(f"t.yaml: search.{key}: "), caught.value


@pytest.mark.parametrize("key", list(KINDS))
def test_good_values_are_taken(key):
    good = KINDS[key][0]
    check_search({key: {"type": "categorical", "choices": good}}, "t.yaml", BASE)


def test_tune_opens_no_study_for_such_a_search(tmp_path):
    config = tmp_path / "t.yaml"
    config.write_text("epochs: 1\nmax_steps: 1\nprogress: false\ndevice: cpu\n"
                      "data: {source: synthetic, n: 100, n_series: 2}\n"
                      "model: {name: autoencoder, window: 4, hidden: 4, latent: 2}\n"
                      "search:\n  model.window: {type: categorical, choices: [4, 2.5]}\n")
    db = tmp_path / "study.db"
    result = CliRunner().invoke(cli, ["tune", str(config), "--trials", "3", "--storage",
                                      f"sqlite:///{db}"])
    assert result.exit_code == 1 and "search.model.window" in result.output, result.output
    assert not db.exists()
