"""``kizashi tune``: workers sharing one SQLite study finish exactly the requested trials."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("torch")
optuna = pytest.importorskip("optuna")

CONFIG = {
    "seed": 0, "epochs": 2, "batch_size": 32, "patience": None, "checkpoint_every": 0,
    "device": "cpu", "progress": False,
    "data": {"source": "synthetic", "n": 200, "n_series": 2},
    "model": {"name": "autoencoder", "window": 4, "hidden": 8, "latent": 2},
    "optimiser": {"name": "adam", "lr": 0.01},
    "search": {"optimiser.lr": {"type": "float", "low": 1e-3, "high": 3e-2, "log": True},
               "model.hidden": {"type": "int", "low": 4, "high": 16}},
}


def worker(config, storage, trials):
    code = "from kizashi.cli.main import main; main()"
    return subprocess.Popen([sys.executable, "-c", code, "tune", str(config), "--trials",
                             str(trials), "--storage", storage, "--study", "s"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_workers_share_one_sqlite_study(tmp_path):
    config = tmp_path / "tune.json"
    config.write_text(json.dumps(CONFIG))
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    workers = [worker(config, storage, 4), worker(config, storage, 4)]
    outputs = [w.communicate(timeout=240) for w in workers]
    for w, (_out, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err[-3000:]
    trials = optuna.load_study(study_name="s", storage=storage).get_trials(deepcopy=False)
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    assert len(trials) == 4, [t.state for t in trials]
    assert all(t.state in finished for t in trials)
    assert sorted(t.number for t in trials) == list(range(4))
    ran = sum(int(out.split("; ")[1].split()[0]) for out, _ in outputs)
    assert ran == 4, outputs  # each trial ran in exactly one worker

    # resuming asks for more: only the missing ones run
    again = worker(config, storage, 5)
    out, err = again.communicate(timeout=240)
    assert again.returncode == 0, err[-3000:]
    assert "5 finished trials" in out and "1 here" in out
