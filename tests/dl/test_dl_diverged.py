"""A training run whose loss is never finite (a learning rate far too large): no model.

Before, ``kizashi train`` wrote ``model.pt`` — the untrained initial weights, kept as the
"best" of epochs whose losses were all inf or NaN — and exited 0 saying "best validation
loss inf"; a watch then served that network. Now the run ends in one line saying it
diverged and what to change, and writes no ``model.pt``; a ``kizashi tune`` trial that
diverges is the worst value (inf), as before, not an error that stops the worker.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

pytest.importorskip("torch")


def config(lr: float, name: str = "sgd", model: str = "autoencoder") -> dict:
    sizes = {"autoencoder": {"window": 4, "hidden": 4, "latent": 2},
             "lstm": {"window": 4, "hidden": 4}}[model]
    return {"epochs": 2, "max_steps": 6, "progress": False, "device": "cpu",
            "data": {"source": "synthetic", "n": 300, "n_series": 3},
            "model": {"name": model, **sizes}, "optimiser": {"name": name, "lr": lr}}


@pytest.mark.parametrize("lr", [1e12, 1e20, 1e30])
@pytest.mark.parametrize("model", ["autoencoder", "lstm"])
def test_a_run_that_diverges_writes_no_model(tmp_path, lr, model):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(config(lr, model=model)))
    result = CliRunner().invoke(cli, ["train", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "diverged" in lines[0] and "optimiser.lr" in lines[0], lines
    assert not (tmp_path / "o" / "model.pt").exists()


def test_a_run_that_learns_still_writes_its_model(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(config(0.01)))
    result = CliRunner().invoke(cli, ["train", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "model.pt").exists()


def test_tune_counts_a_diverging_trial_as_the_worst(tmp_path):
    optuna = pytest.importorskip("optuna")
    raw = config(1e-2)
    raw["search"] = {"optimiser.lr": {"type": "categorical", "choices": [1e12, 1e30]}}
    path = tmp_path / "tune.json"
    path.write_text(json.dumps(raw))
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    result = CliRunner().invoke(cli, ["tune", str(path), "--trials", "2", "--storage",
                                      storage, "--study", "s"])
    assert result.exit_code == 0, result.output
    trials = optuna.load_study(study_name="s", storage=storage).get_trials()
    assert len(trials) == 2 and all(t.value == float("inf") for t in trials)
