"""The training engine: DDP equals one process, resume equals uninterrupted, outputs, safety."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kizashi.dl.config import RunConfig, load_config  # noqa: E402
from kizashi.dl.experiment import load_trained, train_from_config  # noqa: E402
from kizashi.dl.trainer import Trainer, TrainSettings  # noqa: E402
from kizashi.dl.window_autoencoder import WindowAutoencoder  # noqa: E402

TINY = {
    "seed": 0, "epochs": 3, "batch_size": 32, "patience": None, "checkpoint_every": 0,
    "device": "cpu", "progress": False,
    "data": {"source": "synthetic", "n": 300, "n_series": 3},
    "model": {"name": "autoencoder", "window": 4, "hidden": 16, "latent": 4},
    "optimiser": {"name": "adam", "lr": 0.01}, "scheduler": {"name": "cosine"},
}


def weights(path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


# ------------------------------------------------------------------ DDP == 1 process
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_step(x: np.ndarray, distributed: bool) -> dict:
    torch.manual_seed(0)
    net = WindowAutoencoder(3, window=4, hidden=8, latent=2).double()
    settings = TrainSettings(epochs=1, batch_size=len(x), optimiser="sgd", lr=0.5,
                             momentum=0.0, device="cpu", max_steps=1)
    Trainer(net, (x, x), None, settings, distributed=distributed).fit()
    return {k: v.clone() for k, v in net.state_dict().items()}


def _ddp_rank(rank: int, world: int, port: int, x: np.ndarray, out: str) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    state = one_step(x, distributed=True)
    torch.save(state, f"{out}.{rank}")


def test_ddp_step_on_two_processes_equals_one_process_on_whole_batch(tmp_path):
    x = np.random.default_rng(0).normal(size=(16, 4, 3))
    for attempt in range(3):  # a free port can be taken before gloo binds it: retry
        try:
            torch.multiprocessing.spawn(_ddp_rank, args=(2, free_port(), x, str(tmp_path / "w")),
                                        nprocs=2, join=True)
            break
        except Exception:
            if attempt == 2:
                raise
    alone = one_step(x, distributed=False)
    torch.manual_seed(0)
    start = WindowAutoencoder(3, window=4, hidden=8, latent=2).double().state_dict()
    for rank in (0, 1):
        ranked = weights(tmp_path / f"w.{rank}")
        for key in alone:
            np.testing.assert_allclose(ranked[key].numpy(), alone[key].numpy(), rtol=0,
                                       atol=1e-12, err_msg=key)
    assert any(not torch.equal(start[k], alone[k]) for k in alone), "the step changed nothing"


# ------------------------------------------------------------------ resume
def test_sigterm_then_resume_gives_the_uninterrupted_weights(tmp_path):
    config = RunConfig.from_dict(TINY)
    full = train_from_config(config, tmp_path / "full")

    def preempt(step: int) -> None:
        if step == 7:  # mid-epoch
            signal.raise_signal(signal.SIGTERM)

    cut = train_from_config(config, tmp_path / "cut", step_callback=preempt)
    assert cut.interrupted and cut.steps == 7
    assert not (tmp_path / "cut" / "model.pt").exists()
    resumed = train_from_config(config, tmp_path / "cut", resume=True)
    assert not resumed.interrupted and resumed.steps == full.steps
    assert_same_weights(weights(tmp_path / "full" / "model.pt"),
                        weights(tmp_path / "cut" / "model.pt"))
    assert ((tmp_path / "full" / "curves.csv").read_text()
            == (tmp_path / "cut" / "curves.csv").read_text())


def test_crash_resumes_from_the_last_periodic_checkpoint(tmp_path):
    config = RunConfig.from_dict({**TINY, "checkpoint_every": 5})
    train_from_config(config, tmp_path / "full")

    def crash(step: int) -> None:
        if step == 13:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_from_config(config, tmp_path / "cut", step_callback=crash)
    train_from_config(config, tmp_path / "cut", resume=True)
    assert_same_weights(weights(tmp_path / "full" / "model.pt"),
                        weights(tmp_path / "cut" / "model.pt"))


def test_outputs_load_without_code_and_rebuild_the_network(tmp_path):
    result = train_from_config(RunConfig.from_dict(TINY), tmp_path)
    for name in ("model.pt", "config.json", "curves.csv", "curves.png", "checkpoint.pt"):
        assert (tmp_path / name).is_file(), name
    lines = (tmp_path / "curves.csv").read_text().splitlines()
    assert lines[0] == "epoch,train_loss,val_loss" and len(lines) == 1 + TINY["epochs"]
    torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    network, record = load_trained(tmp_path)
    assert record["network"] == "autoencoder" and len(record["standardise"]["mean"]) == 3
    assert_same_weights(network.state_dict(), result.model.state_dict())


def test_early_stopping_keeps_the_best_weights(tmp_path):
    raw = {**TINY, "epochs": 40, "patience": 1, "optimiser": {"name": "sgd", "lr": 2.0}}
    result = train_from_config(RunConfig.from_dict(raw), tmp_path)
    assert result.stopped_early and len(result.history) < 40
    assert result.best_val_loss == min(row["val_loss"] for row in result.history)


def test_config_errors_name_the_file_and_key(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('epochs = 2\nbatchsize = 3\n[model]\nname = "lstm"\n')
    with pytest.raises(ValueError, match=r"run.toml.*batchsize"):
        load_config(path)
    path.write_text('epochs = 2\n[model]\nname = "lstm"\n[optimiser]\nname = "lbfgs"\n')
    with pytest.raises(ValueError, match="lbfgs"):
        load_config(path)


# ------------------------------------------------------------------ real processes
def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "kizashi.train", *args]


@pytest.mark.slow
def test_real_sigterm_to_kizashi_train_then_resume(tmp_path):
    raw = {**TINY, "epochs": 2, "batch_size": 8, "checkpoint_every": 10,
           "data": {"source": "synthetic", "n": 3000, "n_series": 2}}
    (tmp_path / "run.json").write_text(json.dumps(raw))
    out = tmp_path / "cut"
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    process = subprocess.Popen(cli(str(tmp_path / "run.json"), "--out", str(out)), env=env,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "stopped by SIGTERM" in stderr
    assert not (out / "model.pt").exists()
    done = subprocess.run(cli(str(tmp_path / "run.json"), "--out", str(out), "--resume"),
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    train_from_config(RunConfig.from_dict(raw), tmp_path / "full")
    assert_same_weights(weights(tmp_path / "full" / "model.pt"), weights(out / "model.pt"))


@pytest.mark.slow
def test_torchrun_two_processes_writes_the_outputs(tmp_path):
    pytest.importorskip("torch.distributed.run")
    (tmp_path / "run.json").write_text(json.dumps({**TINY, "epochs": 2}))
    for _ in range(3):  # a free port can be taken before torchrun binds it: retry
        done = subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
             "--master_port", str(free_port()), "-m", "kizashi.train",
             str(tmp_path / "run.json"), "--out", str(tmp_path / "out")],
            capture_output=True, text=True, timeout=180,
            env={**os.environ, "OMP_NUM_THREADS": "1"})
        if done.returncode == 0:
            break
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "out" / "model.pt").is_file()
    assert len((tmp_path / "out" / "curves.csv").read_text().splitlines()) == 3
