"""A daemon killed with SIGKILL while it creates its state file, at every point of the
creation: the next start opens the file (empty, or whole), never "not a kizashi database".

The kill comes from inside SQLite: a progress handler of the child's connection sends
SIGKILL to its own process after the k-th batch of virtual-machine instructions, for k
spread over the whole creation."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kizashi.watch.store import SCHEMA_VERSION, WatchStore

CHILD = """
import os, signal, sqlite3, sys
from kizashi.watch import store
k, calls, connect = int(sys.argv[2]), [0], sqlite3.connect
def killing(*args, **kwargs):
    db = connect(*args, **kwargs)
    def handler():
        calls[0] += 1
        if calls[0] == k:
            os.kill(os.getpid(), signal.SIGKILL)
        return 0
    db.set_progress_handler(handler, 4)
    return db
store.sqlite3.connect = killing
store.WatchStore(sys.argv[1]).close()
"""


@pytest.mark.slow
def test_a_kill_while_the_state_file_is_created_leaves_it_usable(tmp_path):
    killed = 0
    for k in range(1, 130, 8):
        path = tmp_path / f"state{k}.sqlite"
        child = subprocess.run([sys.executable, "-c", CHILD, str(path), str(k)],
                               capture_output=True, text=True, timeout=60)
        assert child.returncode in (0, -9), child.stderr
        killed += child.returncode == -9
        store = WatchStore(str(path))    # the next start: must open it
        schema = store.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        assert schema == (str(SCHEMA_VERSION),)
        store.close()
    assert killed >= 10, killed   # the kills did land inside the creation
