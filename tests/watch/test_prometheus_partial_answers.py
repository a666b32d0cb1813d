"""Prometheus answers that are not failures but not plain either: a partial answer with
``warnings``, and a range vector answering an instant query.

* ``warnings`` (Thanos/Mimir with a store or querier down, a query limit hit …): the
  answer is used — its values are scored as without the warnings — and each new warning
  is said in one WARNING line naming the source and query (again after an answer without
  any; at most 10 different ones until then). Before, they were dropped in silence: a
  partial answer made series miss steps with nothing in the log.
* a query selecting a range (``up[5m]``) gives an instant query its raw samples
  (``resultType: matrix``): the source is down for the tick with one ERROR line naming
  the query and the fix, not retried within the tick. Before, the source was "up" and
  every series had a missing value at every step, forever, with nothing said.

Expectations come from docs/watch.md ("How a tick works": a failure marks the source
down, the log names each new kind once, the next good answer backfills every step once).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from test_odd_answers import NAMES, T0, Prometheus, http, noise, vector, watcher_on
from watch_servers import Clock


def good_items(t: float) -> list[dict[str, Any]]:
    return [{"metric": {"instance": n}, "value": [t, repr(noise(n, t))]} for n in NAMES]


def good_matrix(query: dict[str, str]) -> list[dict[str, Any]]:
    start, end, step = (float(query[k]) for k in ("start", "end", "step"))
    steps = [start + i * step for i in range(round((end - start) / step) + 1)]
    return [{"metric": {"instance": n}, "values": [[t, repr(noise(n, t))] for t in steps]}
            for n in NAMES]


def run(odd: Any, caplog: Any, ticks: int = 30) -> tuple[Any, Any, Prometheus]:
    prom = Prometheus()
    prom.odd = odd
    clock = Clock(T0)
    watcher, store = watcher_on(prom.server.url, clock)
    try:
        with caplog.at_level(logging.INFO, logger="kizashi.watch"):
            for _ in range(ticks):
                clock.t += 1.0
                watcher.tick()
    finally:
        prom.server.close()
    return store, watcher, prom


def points(store: Any) -> list[np.ndarray]:
    return [store.points(sid)["sigma"][k] for sid in (1, 2) for k in ("t", "value", "score")]


WARNINGS: dict[str, Any] = {
    "one": ["store 10.0.0.7:10901 unavailable: partial response"],
    "two": ["store a down", "querier b timed out"],
    "a text, not a list": "partial response",
    "with newlines": ["line one\nline two\r\n  and three"],
    "the same twice": ["x is down", "x is down"],
    "20 different": [f"store {k} down" for k in range(20)],
}


@pytest.mark.parametrize("case", list(WARNINGS))
@pytest.mark.parametrize("where", ["instant", "range (backfill)", "both"])
def test_warnings_are_said_once_each_and_the_answer_is_used(case, where, caplog):
    warnings = WARNINGS[case]
    clean = set()          # ticks at which the answers come without warnings

    def odd(path: str, query: dict[str, str]) -> Any:
        instant = path == "/api/v1/query"
        t = float(query.get("time") or query["end"])
        extra = {} if (t in clean or (where == "instant" and not instant)
                       or (where.startswith("range") and instant)) else {"warnings": warnings}
        if instant:
            return http(200, vector(good_items(t), **extra))
        return http(200, vector(good_matrix(query), "matrix", **extra))

    clean.update(T0 + k for k in (15, 16))     # a clean stretch: said again after it
    store, watcher, _ = run(odd, caplog)
    plain, _, _ = run(None, caplog)
    assert watcher.health.source_up["p"] and watcher.health.watch_errors == {}
    for a, b in zip(points(store), points(plain), strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    texts = warnings if isinstance(warnings, list) else [warnings]
    distinct = list(dict.fromkeys(" ".join(t.split()) for t in texts))
    lines = [r.getMessage() for r in caplog.records if "came with a warning" in r.getMessage()]
    assert all("\n" not in line and "'up'" in line and "'p'" in line for line in lines)
    said = [d for line in lines for d in distinct if line.endswith(": " + d)]
    # the backfill's range query answers once (the first tick, initial_backfill); live
    # ticks answer instant queries: said at the first answer with them, again after the
    # clean stretch
    times = {"instant": 2, "range (backfill)": 1, "both": 2}[where]
    assert len(lines) == times * min(len(distinct), 10), lines
    assert set(said) == set(distinct[:10])


RANGE_ANSWERS = {
    "raw samples": lambda t: [{"metric": {"instance": n},
                               "values": [[t - 4.7, "1"], [t - 0.3, "2"]]} for n in NAMES],
    "a sample at the step itself": lambda t: [{"metric": {"instance": n},
                                               "values": [[t - 1, "1"], [t, "2"]]}
                                              for n in NAMES],
    "no series": lambda t: [],
}


@pytest.mark.parametrize("case", list(RANGE_ANSWERS))
def test_a_range_vector_at_an_instant_is_an_error_naming_the_query(case, caplog):
    bad = {T0 + k for k in range(5, 12)}

    def odd(path: str, query: dict[str, str]) -> Any:
        if path == "/api/v1/query":
            t = float(query["time"])
            if t in bad:
                return http(200, vector(RANGE_ANSWERS[case](t), "matrix"))
            return http(200, vector(good_items(t)))
        if float(query["end"]) in bad:    # as Prometheus refuses a range selector there
            return http(400, b'{"status":"error","errorType":"bad_data","error":"invalid '
                             b'expression type \\"range vector\\" for range query"}')
        return http(200, vector(good_matrix(query), "matrix"))

    store, watcher, _ = run(odd, caplog)
    plain, _, _ = run(None, caplog)
    assert watcher.health.source_errors["p"] == len(bad)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    # the instant query's answer says what is wrong, then the backfill's (Prometheus' own)
    assert "range vector (raw samples" in errors[0] and "'up'" in errors[0], errors
    assert len(errors) == 2 and all("\n" not in e for e in errors), errors
    assert not any(r.exc_info for r in caplog.records)
    # the next good answer backfills: every step once, as an unbroken run
    assert store.progress("m") == T0 + 30
    for a, b in zip(points(store), points(plain), strict=True):
        assert np.array_equal(a, b, equal_nan=True)
