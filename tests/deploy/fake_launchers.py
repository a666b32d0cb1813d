"""Stand-ins for the programs the job scripts call (torchrun, srun, scontrol, blaunch), put
first on PATH: each records its arguments and environment, and the fake torchrun plays a
training run that finishes, stops early, fails, or waits for SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# FAKE_MODE: finish (checkpoint, then model.pt), stopped (checkpoint only, exit 0: a peer was
# preempted), fail (exit 3, nothing written), wait (until SIGTERM: checkpoint, exit 1 as
# torchrun does when signalled)
TORCHRUN = r'''
import json, os, signal, sys, time
from pathlib import Path
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"program": "torchrun", "args": args,
                          "env": {k: v for k, v in os.environ.items()
                                  if k.startswith(("SLURM", "LSB", "PET_", "FAKE_HOST"))}}) + "\n")
out = Path(args[args.index("--out") + 1])
mode = os.environ.get("FAKE_MODE", "finish")

def checkpoint():
    out.mkdir(parents=True, exist_ok=True)
    (out / "checkpoint.pt").write_bytes(b"ckpt")

if mode == "finish":
    checkpoint()
    (out / "model.pt").write_bytes(b"model")
    now = time.time()
    os.utime(out / "checkpoint.pt", (now - 1, now - 1))   # model.pt is written last
    os.utime(out / "model.pt", (now, now))
elif mode == "stopped":
    checkpoint()
elif mode == "fail":
    sys.exit(3)
elif mode == "wait":
    def on_term(signum, frame):
        checkpoint()
        with open(os.environ["FAKE_LOG"], "a") as log:
            log.write(json.dumps({"program": "torchrun", "signal": signum}) + "\n")
        sys.exit(1)
    signal.signal(signal.SIGTERM, on_term)
    Path(os.environ["FAKE_READY"]).write_text("ready")
    while True:
        time.sleep(0.05)
'''

# srun / blaunch: record, then run the command once locally (one node stands for all);
# their own options must be written --name=value
LAUNCHER = r'''
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"program": os.path.basename(sys.argv[0]), "args": args}) + "\n")
command = list(args)
if os.path.basename(sys.argv[0]) == "blaunch" and command[:1] == ["-z"]:
    command = command[2:]
while command and command[0].startswith("-"):
    command = command[1:]
os.execvp(command[0], command)
'''

SCONTROL = r'''
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"program": "scontrol", "args": args}) + "\n")
if args[:2] == ["show", "hostnames"]:
    print("\n".join(os.environ["FAKE_HOSTS"].split()))
'''


def install_fakes(folder: Path) -> Path:
    """Write the fake programs into ``folder`` (made executable); returns it for PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in (("torchrun", TORCHRUN), ("srun", LAUNCHER), ("blaunch", LAUNCHER),
                       ("scontrol", SCONTROL)):
        path = folder / name
        path.write_text(f"#!{sys.executable}\n{body}")
        path.chmod(0o755)
    return folder


def records(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


class ScriptRun:
    """A job script run under bash with the fakes first on PATH."""

    def __init__(self, tmp: Path, argv: list[str], env: dict[str, str], mode: str,
                 cwd: Path | None = None, real_torchrun: bool = False):
        self.log = tmp / "calls.jsonl"
        self.ready = tmp / "ready"
        fakes = install_fakes(tmp / "bin")
        path = f"{fakes}:{os.environ['PATH']}"
        if real_torchrun:  # this environment's torchrun, found after the fake launchers
            (fakes / "torchrun").unlink()
            path = f"{fakes}:{Path(sys.executable).parent}:{os.environ['PATH']}"
        passed = {k: os.environ[k] for k in ("PYTHONPATH", "KIZASHI_DATA") if k in os.environ}
        self.env = {**passed, "PATH": path, "HOME": str(tmp), "FAKE_LOG": str(self.log),
                    "FAKE_MODE": mode, "FAKE_READY": str(self.ready), **env}
        self.popen = subprocess.Popen(argv, env=self.env, cwd=cwd or tmp,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready.exists():
            assert self.popen.poll() is None, self.finish()[1]
            assert time.monotonic() < deadline, "the fake torchrun never started"
            time.sleep(0.05)

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.popen.send_signal(signum)

    def finish(self, timeout: float = 30.0) -> tuple[int, str]:
        output, _ = self.popen.communicate(timeout=timeout)
        return self.popen.returncode, output

    def calls(self, program: str) -> list[dict]:
        return [r for r in records(self.log) if r["program"] == program]
