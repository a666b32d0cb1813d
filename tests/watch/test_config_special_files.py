"""A watch config path that is no regular file: a FIFO nothing writes to is refused in one
line at once (it used to hang ``kizashi watch`` and ``--check`` for ever, waiting for a
writer); a FIFO something writes a config to (``kizashi watch <(make-config)``) is read;
a directory, ``/dev/null`` and a socket are refused naming the path.

Family: the kinds of special file a path can name, each through ``load_config`` and the
FIFOs also through the command (``kizashi watch --check``) in a subprocess with a timeout,
so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from kizashi.watch.config import load_config

CONFIG = """
sources: {lab: {type: csv, path: /nonexistent/m.csv}}
watches: [{name: m, detectors: [{name: d, detector: threshold}]}]
"""

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs need a POSIX system")


def test_a_fifo_nothing_writes_to_is_refused_at_once(tmp_path):
    path = tmp_path / "c.yaml"
    os.mkfifo(path)
    with pytest.raises(ValueError, match="FIFO .* nothing wrote to") as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_the_command_says_so_in_one_line_instead_of_hanging(tmp_path):
    path = tmp_path / "c.yaml"
    os.mkfifo(path)
    done = subprocess.run([sys.executable, "-m", "kizashi", "watch", "--check", str(path)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "FIFO" in lines[0] and str(path) in lines[0], lines


def test_a_fifo_a_config_is_written_to_is_read(tmp_path):
    """A writer that has the FIFO open (as the shell's ``<(…)`` has) and finishes writing
    a moment later: the read waits for its end instead of taking what is there so far."""
    path = tmp_path / "c.yaml"
    os.mkfifo(path)
    keeper = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer open at once
    writer = os.open(path, os.O_WRONLY)
    half = len(CONFIG) // 2
    os.write(writer, CONFIG[:half].encode())

    def finish() -> None:
        time.sleep(0.3)
        os.write(writer, CONFIG[half:].encode())
        os.close(writer)

    thread = threading.Thread(target=finish)
    thread.start()
    try:
        config = load_config(path)
    finally:
        thread.join()
        os.close(keeper)
    assert [w.name for w in config.watches] == ["m"]


@pytest.mark.parametrize("kind", ["directory", "/dev/null", "socket"])
def test_other_special_files_are_refused_naming_the_path(tmp_path, kind):
    if kind == "directory":
        path = tmp_path
    elif kind == "/dev/null":
        path = "/dev/null"
    else:
        path = tmp_path / "s.sock"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()
    with pytest.raises(ValueError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
