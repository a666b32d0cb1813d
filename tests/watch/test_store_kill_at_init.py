"""A daemon killed with SIGKILL while it creates its state file, at every point of the
creation: the next start opens the file (empty, or whole), never "not a kizashi database".

The kill comes from inside SQLite: a progress handler of the child's connection sends
SIGKILL to its own process after the k-th batch of virtual-machine instructions, for k
spread over the whole creation."""

from __future__ import annotations

import pytest
from sqlite_kills import open_killed_at

from kizashi.watch.store import SCHEMA_VERSION, WatchStore


@pytest.mark.slow
def test_a_kill_while_the_state_file_is_created_leaves_it_usable(tmp_path):
    killed = 0
    for k in range(1, 130, 8):
        path = tmp_path / f"state{k}.sqlite"
        child = open_killed_at(path, k, every=4, timeout=60)
        assert child.returncode in (0, -9), child.stderr
        killed += child.returncode == -9
        store = WatchStore(str(path))    # the next start: must open it
        schema = store.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        assert schema == (str(SCHEMA_VERSION),)
        store.close()
    assert killed >= 10, killed   # the kills did land inside the creation
