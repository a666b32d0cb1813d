"""A tick that fails at any point of a watch's life — its very first tick included — is
forgotten, and the watch goes on as if it had not happened (docs/watch.md, "State and
crash safety": the database rolls back *and so does memory*).

Before, a failure of a watch's *first* tick (a full disk when the daemon starts, any
exception inside the tick's transaction) put back "no state" as "a state the file holds"
and asked the file for it at every later tick: the watch failed every tick, with a
traceback each time, until the daemon was restarted.

The family: failures (a full disk at the tick's ``COMMIT``, an exception raised inside
the tick's transaction) at the first tick, the first three ticks, a tick while the
detector still learns, a tick after it learnt, a run of ticks, and the tick at which a
new series joins. Expectations, derived from the documented rules, not from the code:

* a failed tick is processed again by the next one (the same steps, nothing lost), so
  the points equal those of a run without failures;
* except for a watch that has never stored a step: it starts "from now" (no
  ``initial_backfill`` here), so failing its first ``k`` ticks equals starting ``k``
  ticks later.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np
import pytest
from watch_configs import sigma_config
from watch_servers import Clock, FunctionSource

from kizashi.watch.config import parse_config
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

T0 = 1_700_000_000.0
END = 40           # ticks T0+1 … T0+39
JOIN = 20          # series "c" appears at T0+20


def signal(name: str, t: float) -> float:
    k = round(t)
    return 10.0 + ((k * 7919 + sum(map(ord, name)) * 104729) % 1000) / 1000.0


class Growing(FunctionSource):
    """Series a and b, and c from ``T0 + JOIN`` on."""

    def _samples(self, timestamps: np.ndarray) -> Any:
        self.names = ["a", "b", "c"] if timestamps[-1] >= T0 + JOIN else ["a", "b"]
        return super()._samples(timestamps)


class Faulty:
    """The store's connection, failing while ``fail`` is set: ``full`` like a full disk
    at ``COMMIT``, ``raise`` with a RuntimeError at the tick's first write."""

    def __init__(self, db: sqlite3.Connection):
        self._db, self.fail = db, ""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        verb = sql.lstrip().split(None, 1)[0].upper()
        if self.fail == "full" and verb == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        if self.fail == "raise" and self._db.in_transaction and verb in ("INSERT", "UPDATE"):
            raise RuntimeError("something inside the tick broke")
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def run(tmp_path: Any, first: int, failing: set[int], kind: str) -> tuple[WatchStore, Watcher]:
    clock = Clock(T0)
    store = WatchStore(str(tmp_path / f"{first}-{kind}-{sorted(failing)}.sqlite"))
    watcher = Watcher(parse_config(sigma_config()), store, clock=clock,
                      sources={"prometheus": Growing(signal, ["a", "b"])})
    faulty = Faulty(store.db)
    store.db = faulty
    for k in range(first, END):
        clock.t = T0 + k
        faulty.fail = kind if k in failing else ""
        watcher.tick()
    faulty.fail = ""
    return store, watcher


FAILING = {
    "the first tick": {1},
    "the first three ticks": {1, 2, 3},
    "a tick while it learns": {5},
    "a tick after it learnt": {15},
    "a run of ticks": {15, 16, 17},
    "the tick a series joins": {JOIN},
    "the joining tick and the next": {JOIN, JOIN + 1},
}


@pytest.mark.parametrize("kind", ["full", "raise"])
@pytest.mark.parametrize("case", list(FAILING))
def test_a_failed_tick_anywhere_is_forgotten_and_the_watch_goes_on(tmp_path, case, kind):
    failing = FAILING[case]
    never_stored = 1 in failing    # no step stored yet: the watch starts from now
    first = max(failing) + 1 if never_stored else 1
    expected, _ = run(tmp_path, first, set(), "")
    store, watcher = run(tmp_path, 1, failing, kind)
    assert store.progress("m") == T0 + END - 1
    if kind == "full":
        assert watcher.health.persist_errors == len(failing)
        assert watcher.health.watch_errors == {}
    else:
        assert watcher.health.watch_errors == {"m": len(failing)}
    labels = {s["id"]: s["labels"] for s in expected.all_series()}
    got = {s["id"]: s["labels"] for s in store.all_series()}
    assert sorted(got.values(), key=str) == sorted(labels.values(), key=str)
    by_labels = {str(v): k for k, v in got.items()}
    for sid, lab in labels.items():
        want, have = expected.points(sid)["sigma"], store.points(by_labels[str(lab)])["sigma"]
        for key in ("t", "value", "score", "threshold"):
            assert np.array_equal(want[key], have[key], equal_nan=True), (lab, key)
