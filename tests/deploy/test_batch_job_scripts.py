"""deploy/slurm/train.sbatch and deploy/lsf/train.lsf run under bash with the scheduler's
environment faked and fake srun / scontrol / blaunch / torchrun on PATH: the rendezvous
endpoint comes from the scheduler's host list, every run passes --resume, and a run stopped
early (preempted, near its time limit) is requeued while a finished or failed one is not."""

from __future__ import annotations

import json
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from fake_launchers import ScriptRun

ROOT = Path(__file__).resolve().parents[2]
SBATCH = ROOT / "deploy" / "slurm" / "train.sbatch"
LSF = ROOT / "deploy" / "lsf" / "train.lsf"


def directives(path: Path, prefix: str) -> list[list[str]]:
    """The scheduler's options: #SBATCH / #BSUB lines before the first command."""
    found = []
    for line in path.read_text().splitlines()[1:]:
        if line.startswith(prefix + " "):
            found.append(shlex.split(line[len(prefix):]))
        elif line.strip() and not line.startswith("#"):
            break
    return found


@pytest.mark.parametrize("path", [SBATCH, LSF], ids=lambda p: p.name)
def test_scripts_are_valid_bash(path):
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert path.read_text().startswith("#!/bin/bash\n")


def test_sbatch_asks_to_be_requeued_and_warned_before_its_limit():
    options = [o for line in directives(SBATCH, "#SBATCH") for o in line]
    assert "--requeue" in options and "--open-mode=append" in options
    signal_option = next(o for o in options if o.startswith("--signal="))
    assert signal_option.startswith("--signal=B:USR1@")  # to the batch shell, which forwards
    assert all(o.startswith("-") for o in options)  # one option a line, no stray words


def test_bsub_asks_to_be_requeued_on_exit_143_and_warned_before_its_limit():
    options = {line[0]: line[1:] for line in directives(LSF, "#BSUB")}
    assert options["-Q"] == ["143"] and "-r" in options
    assert options["-wa"] == ["USR1"] and int(options["-wt"][0]) > 0
    assert options["-R"] == ["span[ptile=1]"]  # one torchrun per host


def slurm_run(tmp_path: Path, mode: str, **env: str) -> ScriptRun:
    environment = {"SLURM_JOB_ID": "4242", "SLURM_JOB_NODELIST": "gpu[07-08]",
                   "SLURM_JOB_NUM_NODES": "2", "SLURM_GPUS_ON_NODE": "4",
                   "FAKE_HOSTS": "gpu07 gpu08", "OUT": str(tmp_path / "out"),
                   "CONFIG": "train.yaml", **env}
    return ScriptRun(tmp_path, ["bash", str(SBATCH)], environment, mode)


def option(args: list[str], name: str) -> str:
    return next(a.split("=", 1)[1] for a in args if a.startswith(name + "="))


def check_torchrun(run: ScriptRun, host: str, nodes: str, job: str, nproc: str) -> None:
    (call,) = run.calls("torchrun")
    args = call["args"]
    assert option(args, "--rdzv-endpoint") == f"{host}:29400"
    assert option(args, "--rdzv-backend") == "c10d"
    assert option(args, "--nnodes") == nodes and option(args, "--rdzv-id") == job
    assert option(args, "--nproc-per-node") == nproc
    tail = args[args.index("-m"):]
    assert tail[:3] == ["-m", "kizashi.train", "train.yaml"]
    assert "--resume" in tail and tail[tail.index("--out") + 1] == str(run.env["OUT"])


def test_slurm_rendezvous_on_the_first_node_of_the_allocation(tmp_path):
    run = slurm_run(tmp_path, "finish")
    code, output = run.finish()
    assert code == 0, output
    check_torchrun(run, "gpu07", "2", "4242", "4")
    (hostnames,) = [c for c in run.calls("scontrol") if c["args"][:2] == ["show", "hostnames"]]
    assert hostnames["args"][2] == "gpu[07-08]"
    (srun,) = run.calls("srun")
    assert "--kill-on-bad-exit=1" in srun["args"] and srun["args"].index("torchrun") > 0
    assert not [c for c in run.calls("scontrol") if c["args"][0] == "requeue"]


@pytest.mark.parametrize(("mode", "status", "requeued"),
                         [("finish", 0, False), ("stopped", 0, True), ("fail", 3, False)])
def test_slurm_requeues_only_a_run_stopped_early(tmp_path, mode, status, requeued):
    run = slurm_run(tmp_path, mode)
    code, output = run.finish()
    assert code == status, output
    requeues = [c["args"] for c in run.calls("scontrol") if c["args"][0] == "requeue"]
    assert requeues == ([["requeue", "4242"]] if requeued else [])


@pytest.mark.parametrize("signum", [signal.SIGUSR1, signal.SIGTERM])
def test_slurm_signal_stops_training_and_requeues(tmp_path, signum):
    """USR1 (--signal, before the time limit) or TERM (preemption) reaches torchrun through
    srun; torchrun checkpoints and the job requeues itself."""
    run = slurm_run(tmp_path, "wait")
    run.wait_ready()
    run.signal(signum)
    code, output = run.finish()
    assert code == 0, output
    assert any(c.get("signal") == signal.SIGTERM for c in run.calls("torchrun"))
    assert ["requeue", "4242"] in [c["args"] for c in run.calls("scontrol")]
    assert (tmp_path / "out" / "checkpoint.pt").exists()


def lsf_run(tmp_path: Path, mode: str, hostfile: str | None, mcpu: str = "",
            **env: str) -> ScriptRun:
    environment = {"LSB_JOBID": "777", "LSB_MCPU_HOSTS": mcpu, "OUT": str(tmp_path / "out"),
                   "CONFIG": "train.yaml", "NPROC_PER_NODE": "2", **env}
    if hostfile is not None:
        path = tmp_path / "hostfile"
        path.write_text(hostfile)
        environment["LSB_DJOB_HOSTFILE"] = str(path)
    return ScriptRun(tmp_path, ["bash", str(LSF)], environment, mode)


@pytest.mark.parametrize(("hostfile", "mcpu", "hosts"), [
    ("hostA\nhostA\nhostB\nhostB\n", "hostA 2 hostB 2", ["hostA", "hostB"]),   # 2 slots/host
    ("n3\nn1\nn2\n", "n3 1 n1 1 n2 1", ["n3", "n1", "n2"]),                 # order kept
    (None, "c01 4 c02 4 c03 4", ["c01", "c02", "c03"]),                     # no hostfile
])
def test_lsf_rendezvous_on_the_first_host(tmp_path, hostfile, mcpu, hosts):
    run = lsf_run(tmp_path, "finish", hostfile, mcpu)
    code, output = run.finish()
    assert code == 0, output
    check_torchrun(run, hosts[0], str(len(hosts)), "777", "2")
    (blaunch,) = run.calls("blaunch")
    assert blaunch["args"][:2] == ["-z", " ".join(hosts)]


@pytest.mark.parametrize(("mode", "status"), [("finish", 0), ("stopped", 143), ("fail", 3)])
def test_lsf_exit_status_asks_for_a_requeue_only_when_stopped_early(tmp_path, mode, status):
    code, output = lsf_run(tmp_path, mode, "h1\nh2\n").finish()
    assert code == status, output


def test_lsf_warning_signal_checkpoints_and_exits_for_requeue(tmp_path):
    run = lsf_run(tmp_path, "wait", "h1\nh2\n")
    run.wait_ready()
    run.signal(signal.SIGUSR1)
    code, output = run.finish()
    assert code == 143, output
    assert any(c.get("signal") == signal.SIGTERM for c in run.calls("torchrun"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.integration
def test_sbatch_with_the_real_torchrun_is_requeued_then_finishes(tmp_path):
    """The sbatch script end to end on one node with the real torchrun and kizashi.train
    (only srun and scontrol are fakes): USR1 before the time limit reaches the trainer
    through torchrun, which checkpoints; the job requeues itself; the requeued run resumes
    and finishes, writing model.pt after the checkpoint, and is not requeued again."""
    pytest.importorskip("torch.distributed.run")
    config = tmp_path / "train.json"
    config.write_text(json.dumps({
        "seed": 0, "epochs": 2, "batch_size": 8, "patience": None, "checkpoint_every": 50,
        "device": "cpu", "threads": 1, "data": {"source": "synthetic", "n": 1500, "n_series": 2},
        "model": {"name": "autoencoder", "window": 4, "hidden": 16, "latent": 4},
        "optimiser": {"name": "adam", "lr": 0.01}, "scheduler": {"name": "cosine"}}))
    out = tmp_path / "out"

    def submit(folder: Path) -> ScriptRun:
        folder.mkdir()
        env = {"SLURM_JOB_ID": "99", "SLURM_JOB_NODELIST": "localhost",
               "SLURM_JOB_NUM_NODES": "1", "FAKE_HOSTS": "127.0.0.1", "NPROC_PER_NODE": "1",
               "RDZV_PORT": str(free_port()), "CONFIG": str(config), "OUT": str(out),
               "OMP_NUM_THREADS": "1"}
        return ScriptRun(folder, ["bash", str(SBATCH)], env, "real", real_torchrun=True)

    first = submit(tmp_path / "first")
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.pt").exists():
        assert first.popen.poll() is None, first.finish()[1][-3000:]
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.05)
    first.signal(signal.SIGUSR1)
    code, output = first.finish(timeout=120)
    assert code == 0, output[-3000:]
    assert ["requeue", "99"] in [c["args"] for c in first.calls("scontrol")], output[-3000:]
    assert "stopped by SIGTERM" in output  # the trainer's own checkpoint-and-stop
    assert (out / "checkpoint.pt").exists() and not (out / "model.pt").exists()

    second = submit(tmp_path / "second")
    code, output = second.finish(timeout=300)
    assert code == 0, output[-3000:]
    assert not [c for c in second.calls("scontrol") if c["args"][0] == "requeue"]
    assert (out / "model.pt").stat().st_mtime >= (out / "checkpoint.pt").stat().st_mtime
    assert "finished" in output
