"""``python -m kizashi`` is the ``kizashi`` command (for a venv whose scripts are not on the
PATH): the same commands, the same exit statuses, the same one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "kizashi", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


@pytest.mark.parametrize(("args", "status", "says"), [
    (["--help"], 0, "Commands:"),
    (["detect", "--help"], 0, "--detector"),
    (["predict", "--help"], 0, "--horizon"),
    (["nosuch"], 2, "No such command 'nosuch'"),
    (["detect", "missing.csv"], 2, "does not exist"),
])
def test_python_m_kizashi_is_the_command(tmp_path, args, status, says):
    result = _run(*args, cwd=tmp_path)
    assert result.returncode == status, result.stderr
    assert says in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
