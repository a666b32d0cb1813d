"""A full disk under the daemon: a tick whose write fails is forgotten in memory too.

The same scripted series run twice: once without a fault, once with the state
file unwritable for a while (an injected ``database or disk is full`` at the
tick's ``COMMIT``, and a real full tmpfs). After space returns, the stored
points, the alert and the messages sent must be those of the run without the
fault, bit for bit, and each message must be sent exactly once.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from watch_configs import sigma_config
from watch_servers import Clock, FakeHttp, FunctionSource

from kizashi.watch.alerts import iso
from kizashi.watch.config import AlertsConfig, parse_config
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

T0 = 1_700_000_000.0
NAMES = ["a", "b"]

def alert_config(sink: str) -> str:
    return sigma_config(alerts={"alertmanager": f'{{url: "{sink}", resend_interval: 5s}}',
                                "webhook": f'{{url: "{sink}/hook"}}'})


def signal(name: str, t: float) -> float:
    """Deterministic noisy series; series 'b' has a spike in [T0+60, T0+66)."""
    k = round(t)
    noise = ((k * 7919 + sum(map(ord, name)) * 104729) % 1000) / 1000.0
    return 10.0 + noise + (50.0 if name == "b" and T0 + 60 <= t < T0 + 66 else 0.0)


class DiskFull:
    """A sqlite3 connection whose writes fail like a full disk while ``full`` is set.

    Inside a transaction SQLite keeps the pages in memory and fails at ``COMMIT``;
    a write outside one (marking a message sent) fails at once.
    """

    def __init__(self, db: sqlite3.Connection):
        self._db = db
        self.full = False
        self.failed = 0

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        verb = sql.lstrip().split(None, 1)[0].upper()
        if self.full and (verb == "COMMIT" or (verb in ("INSERT", "UPDATE", "DELETE")
                                               and not self._db.in_transaction)):
            self.failed += 1
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


#: The fake Alertmanager's routes: it notifies within 3 s (so a late incident is held 4 s).
STATUS = json.dumps({"config": {"original": "route:\n  receiver: r\n  group_wait: 1s\n"
                                            "  group_interval: 3s\nreceivers:\n- name: r\n"}})


def answer(method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """A sink taking every message; as an Alertmanager, it has the routes of ``STATUS``."""
    return 200, STATUS.encode() if path == "/api/v2/status" else b"{}"


@pytest.fixture
def sink():
    server = FakeHttp(answer)
    yield server
    server.close()


def run(store: WatchStore, sink: FakeHttp, until: float,
        full: tuple[float, float] | None = None, on_full: Any = None) -> Watcher:
    """Tick once a second from T0 to ``until``; the disk is full for clock times in ``full``."""
    clock = Clock(T0)
    watcher = Watcher(parse_config(alert_config(sink.url)), store, clock=clock,
                      sources={"prometheus": FunctionSource(signal, NAMES)})
    while clock.t < until:
        clock.t += 1.0
        if on_full is not None:
            on_full(full is not None and full[0] <= clock.t < full[1])
        watcher.tick()
    return watcher


def assert_same_as_unbroken(store: WatchStore, reference: WatchStore, sink: FakeHttp,
                            reference_sink: FakeHttp) -> None:
    """Points, alert rows and webhook messages equal the unbroken run's; AM got each once."""
    for sid in (1, 2):
        got, want = store.points(sid)["sigma"], reference.points(sid)["sigma"]
        assert np.array_equal(got["t"], T0 + np.arange(1.0, 91.0))
        for key in ("t", "value", "score", "threshold"):
            assert np.array_equal(got[key], want[key], equal_nan=True), key
    alerts = store.alerts()
    assert alerts == reference.alerts()
    (alert,) = alerts
    assert alert["labels"] == {"instance": "b"} and alert["status"] == "resolved"
    assert store.n_pending() == 0
    # the webhook: firing then resolved, once each, rendered as in the unbroken run
    hooks = sink.posts("/hook")
    assert [(m["id"], m["status"]) for m in hooks] == [(alert["id"], "firing"),
                                                         (alert["id"], "resolved")]
    assert hooks == reference_sink.posts("/hook")
    # Alertmanager: firing first, one resolve at the true end, no other (spurious) one
    sent = [a for post in sink.posts("/api/v2/alerts") for a in post]
    assert {a["startsAt"] for a in sent} == {iso(alert["starts_at"])}
    assert {a["labels"]["incident_id"] for a in sent} == {str(alert["id"])}
    ends = [_epoch(a["endsAt"]) for a in sent]
    assert ends.count(alert["ends_at"]) == 1 and ends[0] > alert["ends_at"]
    assert all(e > alert["ends_at"] + 10 for e in ends if e != alert["ends_at"])


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture
def reference(tmp_path):
    sink = FakeHttp(answer)
    store = WatchStore(str(tmp_path / "reference.sqlite"))
    run(store, sink, T0 + 90)
    yield store, sink
    sink.close()


@pytest.mark.parametrize("full", [(50.0, 75.0), (58.0, 64.0), (63.0, 72.0)],
                         ids=["incident-inside", "firing-inside", "resolve-inside"])
def test_failed_commits_roll_memory_back_and_lose_nothing(tmp_path, sink, reference, full,
                                                         caplog):
    store = WatchStore(str(tmp_path / "state.sqlite"))
    disk = DiskFull(store.db)
    store.db = disk
    progress = []

    def on_full(is_full: bool) -> None:
        disk.full = is_full
        progress.append((is_full, store.progress("m")))

    caplog.set_level(logging.INFO, logger="kizashi.watch")
    watcher = run(store, sink, T0 + 90, (T0 + full[0], T0 + full[1]), on_full)
    failed_ticks = round(full[1] - full[0])
    assert disk.failed >= failed_ticks
    # while full, nothing advanced: the same steps come again
    stuck = {p for is_full, p in progress if is_full}
    assert stuck == {T0 + full[0] - 1}
    health = watcher.snapshot()["health"]
    assert health["persist_errors"] >= failed_ticks and health["persist_ok"] is True
    assert "database or disk is full" in health["persist_last_error"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "cannot write the state file" in errors[0].getMessage()
    assert "database or disk is full" in errors[0].getMessage()
    assert sum("is written again" in r.getMessage() for r in caplog.records) == 1
    assert_same_as_unbroken(store, reference[0], sink, reference[1])


def test_a_sent_message_whose_mark_fails_is_not_sent_again(sink):
    store = WatchStore(":memory:")
    disk = DiskFull(store.db)
    store.db = disk
    clock = [1000.0]
    errors: list[str] = []
    from kizashi.watch.alerts import Notifier

    notifier = Notifier(AlertsConfig(webhook_url=f"{sink.url}/hook"), "",
                        clock=lambda: clock[0], store_error=lambda what, e: errors.append(what))
    with store.transaction():
        alert_id = store.open_alert(1, "m", "sigma", {"instance": "b"}, 990.0, 7.0, 60.0, 5.0)
        store.enqueue(alert_id, "webhook", "firing", 1000.0)
    disk.full = True
    for _ in range(3):                           # the state file cannot record the send
        notifier.deliver(store)
        clock[0] += 1.0
    assert len(sink.posts("/hook")) == 1 and store.n_pending() == 1 and errors
    disk.full = False
    notifier.deliver(store)                      # now it is recorded, not sent again
    assert len(sink.posts("/hook")) == 1 and store.n_pending() == 0


# ----------------------------------------------------------------- a real full disk
@pytest.fixture
def small_filesystem(tmp_path):
    """A 2 MiB tmpfs (needs root); skipped where mounting is not permitted."""
    mount = tmp_path / "small"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("a real full disk needs root to mount a small tmpfs (mount -t tmpfs)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(path: Path) -> None:
    """Write ``path`` until the filesystem has no byte left."""
    with open(path, "wb", buffering=0) as handle:
        for size in (1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise


def test_a_real_full_disk_loses_nothing(small_filesystem, sink, reference, caplog):
    store = WatchStore(str(small_filesystem / "state.sqlite"))
    filler = small_filesystem / "filler"
    progress = []

    def on_full(is_full: bool) -> None:
        if is_full and not filler.exists():
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no WAL space to reuse
            fill(filler)
        elif not is_full and filler.exists():
            filler.unlink()
        progress.append((is_full, store.progress("m")))

    caplog.set_level(logging.INFO, logger="kizashi.watch")
    watcher = run(store, sink, T0 + 90, (T0 + 50, T0 + 75), on_full)
    health = watcher.snapshot()["health"]
    assert health["persist_errors"] >= 20 and health["persist_ok"] is True
    assert "full" in health["persist_last_error"]
    assert {p for is_full, p in progress if is_full} == {T0 + 49}
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and all("cannot write the state file" in e for e in errors)
    assert_same_as_unbroken(store, reference[0], sink, reference[1])
    store.close()
    assert WatchStore(str(small_filesystem / "state.sqlite")).progress("m") == T0 + 90
