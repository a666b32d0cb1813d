"""SIGKILL a state file's open from inside SQLite, at the k-th batch of its instructions.

A child process opens (and closes) a ``WatchStore`` on ``path`` with SQLite's progress
handler counting batches of ``every`` virtual-machine instructions, and kills itself with
SIGKILL at the ``k``-th (0: never; it then prints how many batches the open took).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHILD = """
import os, signal, sqlite3, sys
from kizashi.watch import store
k, every, calls, connect = int(sys.argv[2]), int(sys.argv[3]), [0], sqlite3.connect
def killing(*args, **kwargs):
    db = connect(*args, **kwargs)
    def handler():
        calls[0] += 1
        if calls[0] == k:
            os.kill(os.getpid(), signal.SIGKILL)
        return 0
    db.set_progress_handler(handler, every)
    return db
store.sqlite3.connect = killing
store.WatchStore(sys.argv[1]).close()
print(calls[0])
"""


def open_killed_at(path: Path, k: int, every: int,
                   timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the child on ``path``; its return code is -9 when the kill landed, else 0."""
    return subprocess.run([sys.executable, "-c", CHILD, str(path), str(k), str(every)],
                          capture_output=True, text=True, timeout=timeout)
