"""Families of odd answers from the servers ``kizashi watch`` talks to, against docs/watch.md.

A fake Prometheus (raw sockets on 127.0.0.1, so it can also cut, reset, trickle
or speak something other than HTTP) answers a :class:`Watcher` on a fake clock.
What the docs promise ("How a tick works", "State and crash safety"):

* a failing answer (HTTP error, non-JSON, malformed result, PromQL error,
  timeout, refused/reset) marks the source down: the tick processes nothing,
  the error is counted, the log names it once, and the next good answer
  backfills the gap — every step is processed exactly once;
* missing values (NaN, and ±Inf, taken as missing) leave a series' detector
  state untouched;
* an alert a sink does not take (4xx/5xx, timeout, HTML, a redirect, a broken
  answer) is retried, never lost, and taken once when the sink is back.

Families: ``ODD_HTTP`` (HTTP and JSON level failures), value texts (NaN, null,
±Inf, 1e309; numbers as JSON numbers; odd timestamps), ``LABELS`` (odd label
names and values through live ticks and backfills), 0 series and labels that
change, ``ODD_SINK`` (Alertmanager, webhook and remote_write), ``STATUS_ANSWERS``
(Alertmanager's routes) and ``DURING`` (odd answers while an incident fires).
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from watch_configs import sigma_config
from watch_servers import Clock, FunctionSource, prometheus_handler

from kizashi.watch.config import parse_config
from kizashi.watch.exporter import render_metrics
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

T0 = 1_700_000_000.0
NAMES = ["a", "b"]


def noise(name: str, t: float) -> float:
    k = round(t)
    return 10.0 + ((k * 7919 + sum(map(ord, name)) * 104729) % 1000) / 1000.0


# ----------------------------------------------------------------- a raw fake server
Answer = bytes | Callable[[socket.socket], None]


def http(status: int, body: bytes = b"", ctype: str = "application/json",
         headers: tuple[str, ...] = (), length: int | None = None) -> bytes:
    """A whole HTTP/1.1 answer as bytes (``length`` may lie about the body's size)."""
    head = [f"HTTP/1.1 {status} X", f"Content-Type: {ctype}",
            f"Content-Length: {len(body) if length is None else length}",
            "Connection: close", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def reset(conn: socket.socket) -> None:
    """Close with RST instead of FIN: the client sees 'connection reset by peer'."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def hang(seconds: float) -> Callable[[socket.socket], None]:
    def act(conn: socket.socket) -> None:
        time.sleep(seconds)
    return act


def trickle(body: bytes, every: float) -> Callable[[socket.socket], None]:
    """Headers at once, then the body a byte every ``every`` seconds (each wait short)."""
    def act(conn: socket.socket) -> None:
        conn.sendall(http(200, b"", length=len(body)))
        for i in range(len(body)):
            time.sleep(every)
            conn.sendall(body[i:i + 1])
    return act


class RawServer:
    """A server on 127.0.0.1 answering each request with ``answer(method, path, query, body)``:
    bytes to send, or an action on the socket. Every request is recorded."""

    def __init__(self, answer: Callable[[str, str, dict[str, str], bytes], Answer]):
        self.answer = answer
        self.requests: list[tuple[str, str, bytes]] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.closed = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            length = next((int(line.split(":", 1)[1]) for line in lines[1:]
                           if line.lower().startswith("content-length:")), 0)
            while len(body) < length:
                body += conn.recv(65536)
            method, target, _ = lines[0].split(" ", 2)
            parts = urllib.parse.urlsplit(target)
            self.requests.append((method, parts.path, body))
            out = self.answer(method, parts.path, dict(urllib.parse.parse_qsl(parts.query)),
                              body)
            try:
                if isinstance(out, bytes):
                    conn.sendall(out)
                else:
                    out(conn)
            except OSError:
                pass

    def close(self) -> None:
        self.closed = True
        self.sock.close()


# ------------------------------------------------------------------ Prometheus side


class Prometheus:
    """A fake Prometheus: good answers (from ``prometheus_handler``) unless ``odd`` is set."""

    def __init__(self, value: Callable[[str, float], float | None] = noise):
        self.good = prometheus_handler(value, NAMES)
        self.odd: Callable[[str, dict[str, str]], Answer] | None = None
        self.server = RawServer(self._answer)

    def _answer(self, method: str, path: str, query: dict[str, str], body: bytes) -> Answer:
        if path == "/redirected":
            return http(*self.good(method, "/api/v1/query", query, body))
        if self.odd is not None and path.startswith("/api/v1/query"):
            return self.odd(path, query)
        return http(*self.good(method, path, query, body))


@pytest.fixture
def prom():
    server = Prometheus()
    yield server
    server.server.close()


def watcher_on(url: str, clock: Clock) -> tuple[Watcher, WatchStore]:
    store = WatchStore(":memory:")
    config = sigma_config(url=url, source="p", source_options="timeout: 0.4s, retries: 0",
                          head="initial_backfill: 20s")
    return Watcher(parse_config(config), store, clock=clock), store


def vector(result: Any, kind: str = "vector", **extra: Any) -> bytes:
    return json.dumps({"status": "success", "data": {"resultType": kind, "result": result},
                       **extra}).encode()


def each(item: Callable[[str, float], Any]) -> Callable[[str, dict[str, str]], Answer]:
    """An answer (a vector, to range queries too) of ``item(name, t)`` per series."""
    def odd(path: str, query: dict[str, str]) -> Answer:
        t = float(query.get("time") or query["end"])
        return http(200, vector([item(n, t) for n in NAMES]))
    return odd


ODD_HTTP: dict[str, Callable[[str, dict[str, str]], Answer]] = {
    **{f"{code} {kind}": (lambda c, b, ct: lambda path, query: http(c, b, ct))(code, body, ctype)
       for code in (400, 404, 422, 429, 500, 502, 503)
       for kind, body, ctype in (
           ("json error", b'{"status":"error","errorType":"bad_data","error":"parse error"}',
            "application/json"),
           ("empty", b"", "application/json"),
           ("html", b"<html><body><h1>Bad Gateway</h1></body></html>", "text/html"))},
    "200 html": lambda path, query: http(200, b"<!DOCTYPE html><html>login</html>", "text/html"),
    "200 empty": lambda path, query: http(200, b""),
    "200 truncated json": lambda path, query: http(
        200, b'{"status":"success","data":{"resultType":"vector","result":[{"metric":'),
    "200 text/plain": lambda path, query: http(200, b"up 1\n", "text/plain"),
    "200 yaml": lambda path, query: http(200, b"status: success\n", "application/yaml"),
    "200 json list": lambda path, query: http(200, b"[1, 2]"),
    "200 json null": lambda path, query: http(200, b"null"),
    "200 body shorter than Content-Length": lambda path, query: http(
        200, b'{"status":"success"', length=500),
    "redirect loop": lambda path, query: http(302, headers=(f"Location: {path}",)),
    "redirect without Location": lambda path, query: http(302),
    "redirect to another scheme": lambda path, query: http(
        301, headers=("Location: ftp://127.0.0.1/x",)),
    "slow past the timeout": lambda path, query: hang(1.0),
    "trickled past the timeout": lambda path, query: trickle(vector([]), 0.05),
    "connection reset": lambda path, query: reset,
    "closed without an answer": lambda path, query: b"",
    "not HTTP": lambda path, query: b"SSH-2.0-OpenSSH_9.6\r\n",
    "status error with errorType": lambda path, query: http(
        200, b'{"status":"error","errorType":"timeout","error":"query timed out"}'),
    "status missing": lambda path, query: http(200, b'{"data":{"resultType":"vector",'
                                                    b'"result":[]}}'),
    "no data": lambda path, query: http(200, b'{"status":"success"}'),
    "result not a list": lambda path, query: http(200, vector({"a": 1})),
    "resultType string": lambda path, query: http(200, vector([1.0, "x"], "string")),
    "resultType unknown": lambda path, query: http(200, vector([], "histogram")),
    "matrix of vector items": lambda path, query: http(200, vector(
        [{"metric": {"instance": "a"}, "value": [1.0, "1"]}], "matrix")),
    "value missing": each(lambda n, t: {"metric": {"instance": n}}),
    "value empty text": each(lambda n, t: {"metric": {"instance": n}, "value": [t, ""]}),
    "value not a number": each(lambda n, t: {"metric": {"instance": n}, "value": [t, "high"]}),
    "value without timestamp": each(lambda n, t: {"metric": {"instance": n}, "value": ["1"]}),
    "timestamp not a number": each(lambda n, t: {"metric": {"instance": n},
                                                 "value": ["soon", "1"]}),
    "metric not a mapping": each(lambda n, t: {"metric": [n], "value": [t, "1"]}),
    "item not a mapping": each(lambda n, t: [n, t]),
    "same labels twice": each(lambda n, t: {"metric": {"job": "x"}, "value": [t, "1"]}),
    "deeply nested JSON": lambda path, query: http(200, b"[" * 200_000 + b"]" * 200_000),
    "500 deeply nested JSON": lambda path, query: http(500, b"[" * 5000 + b"]" * 5000),
    "deeply nested item": lambda path, query: http(200, vector([]).replace(
        b"[]", b"[" + b"[" * 100_000 + b"]" * 100_000 + b"]")),
    "value an integer too large for a float": lambda path, query: http(200, (
        b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{},'
        b'"value":[1,' + b"9" * 400 + b"]}]}}")),
    "timestamp an integer too large for a float": lambda path, query: http(200, (
        b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{},'
        b'"value":[' + b"9" * 400 + b',"1"]}]}}')),
}


@pytest.mark.parametrize("family", list(ODD_HTTP))
def test_a_failing_answer_marks_the_source_down_then_the_gap_is_backfilled(
        family, prom, caplog):
    clock = Clock(T0)
    watcher, store = watcher_on(prom.server.url, clock)
    for _ in range(25):
        clock.t += 1.0
        watcher.tick()
    done = store.progress("m")
    assert done == clock.t and watcher.health.source_up["p"]

    prom.odd = ODD_HTTP[family]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kizashi.watch"):
        for n in (1, 2, 3):
            clock.t += 1.0
            watcher.tick()
            assert watcher.health.source_up["p"] is False, family
            assert watcher.health.source_errors["p"] == n
            assert store.progress("m") == done             # nothing processed while down
    assert watcher.health.watch_errors == {}                # no tick failed
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None, [r.getMessage() for r in errors]
    line = errors[0].getMessage()
    assert line.startswith("source p is down: source 'p' (") and "\n" not in line

    prom.odd = None
    clock.t += 1.0
    watcher.tick()
    assert watcher.health.source_up["p"] and store.progress("m") == clock.t
    t = store.points(1)["sigma"]["t"]
    assert np.array_equal(t, np.arange(T0 - 19.0, clock.t + 1.0))  # every step exactly once
    assert store.alerts() == []


def test_the_log_line_says_what_the_server_said(prom, caplog):
    clock = Clock(T0)
    watcher, _ = watcher_on(prom.server.url, clock)
    said = {
        "status error with errorType": "query failed: query timed out (timeout)",
        "500 json error": "HTTP 500: parse error",
        "200 html": "response is not JSON",
        "slow past the timeout": "unreachable",
        "trickled past the timeout": "timeout: the answer took longer than the timeout",
        "200 body shorter than Content-Length": "response is not JSON",
        "not HTTP": "broken HTTP answer: BadStatusLine",
        "same labels twice": "several series with the same labels",
        "resultType string": "result type 'string' is not a vector or matrix",
    }
    for family, words in said.items():
        prom.odd = ODD_HTTP[family]
        caplog.clear()
        clock.t += 1.0
        with caplog.at_level(logging.ERROR, logger="kizashi.watch"):
            watcher.tick()
        assert any(words in r.getMessage() for r in caplog.records), (family, caplog.text)


def test_a_redirect_is_followed(prom):
    clock = Clock(T0)
    watcher, store = watcher_on(prom.server.url, clock)
    clock.t += 1.0
    watcher.tick()
    prom.odd = lambda path, query: http(307, headers=(
        f"Location: /redirected?{urllib.parse.urlencode(query)}",))
    clock.t += 1.0
    watcher.tick()
    assert watcher.health.source_up["p"] and store.progress("m") == clock.t
    assert store.points(1)["sigma"]["value"][-1] == noise("a", clock.t)


# --------------------------------------------- values: missing, infinite, as numbers
def scores(value_text: Callable[[str, float], Any], odd_at: set[float],
           absent: bool = False) -> tuple[WatchStore, Watcher]:
    """60 live ticks; at the steps ``odd_at`` series 'b' answers ``value_text`` (or, with
    ``absent``, is left out of the answer)."""
    prom = Prometheus()
    def odd(path: str, query: dict[str, str]) -> Answer:
        t = float(query.get("time", "nan"))
        if t not in odd_at:
            return http(*prom.good("GET", path, query, b""))
        items = [{"metric": {"instance": "a"}, "value": [t, repr(noise("a", t))]}]
        if not absent:
            items.append({"metric": {"instance": "b"}, "value": [t, value_text("b", t)]})
        return http(200, vector(items))
    prom.odd = odd
    try:
        clock = Clock(T0)
        watcher, store = watcher_on(prom.server.url, clock)
        clock.t += 1.0
        watcher.tick()
        for _ in range(60):
            clock.t += 1.0
            watcher.tick()
        return store, watcher
    finally:
        prom.server.close()


ODD_AT = {T0 + 30.0, T0 + 31.0, T0 + 45.0}


@pytest.mark.parametrize("text", ["NaN", None, "+Inf", "-Inf", "Inf", "inf", "1e309", "-1e309"])
def test_nan_null_and_infinite_values_are_missing_values(text, caplog):
    missing, _ = scores(lambda n, t: "0", ODD_AT, absent=True)
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        odd, watcher = scores(lambda n, t: text, ODD_AT)
    assert watcher.health.source_up["p"] and watcher.health.watch_errors == {}
    for sid in (1, 2):
        want, got = missing.points(sid)["sigma"], odd.points(sid)["sigma"]
        assert np.array_equal(want["t"], got["t"])
        assert np.array_equal(want["score"], got["score"], equal_nan=True)
    at = np.isin(odd.points(2)["sigma"]["t"], list(ODD_AT))
    assert np.isnan(odd.points(2)["sigma"]["value"][at]).all()
    assert odd.alerts() == []
    lines = [r.getMessage() for r in caplog.records if "infinite" in r.getMessage()]
    metrics = render_metrics(watcher.snapshot).decode()
    if text in ("NaN", None):
        assert lines == [] and "kizashi_watch_infinite_values_total{" not in metrics
    else:   # one warning per stretch of infinite values: two stretches here; each counted
        assert len(lines) == 2 and all("watch m:" in line for line in lines), lines
        assert 'kizashi_watch_infinite_values_total{watch="m"} 3.0' in metrics


def test_values_sent_as_json_numbers_are_read_as_those_numbers():
    text, _ = scores(lambda n, t: repr(noise(n, t)), ODD_AT)
    number, watcher = scores(lambda n, t: noise(n, t), ODD_AT)
    assert watcher.health.source_up["p"]
    for sid in (1, 2):
        a, b = text.points(sid)["sigma"], number.points(sid)["sigma"]
        assert np.array_equal(a["value"], b["value"], equal_nan=True)
        assert np.array_equal(a["score"], b["score"], equal_nan=True)


@pytest.mark.parametrize("stamp", [0.0, -1e12, 4_102_444_800.0, 1e18, "1700000000"])
def test_an_instant_sample_counts_at_the_queried_step_whatever_its_timestamp(stamp):
    good, _ = scores(lambda n, t: repr(noise(n, t)), set())
    prom = Prometheus()
    prom.odd = lambda path, query: http(200, vector([
        {"metric": {"instance": n}, "value": [stamp, repr(noise(n, float(query["time"])))]}
        for n in NAMES])) if path == "/api/v1/query" else http(*prom.good("GET", path, query,
                                                                          b""))
    try:
        clock = Clock(T0)
        watcher, store = watcher_on(prom.server.url, clock)
        for _ in range(61):
            clock.t += 1.0
            watcher.tick()
    finally:
        prom.server.close()
    assert watcher.health.source_up["p"]
    for sid in (1, 2):
        a, b = good.points(sid)["sigma"], store.points(sid)["sigma"]
        assert np.array_equal(a["t"], b["t"])
        assert np.array_equal(a["value"], b["value"])


# ------------------------------------------------------------------ labels
def run_labels(metric: Callable[[str, float], dict[str, Any]], steps: int = 30
               ) -> tuple[WatchStore, Watcher]:
    """Live ticks whose instant answers label series ``n`` with ``metric(n, t)``; one
    failed tick in the middle, so a range query (the backfill) answers too."""
    def answer(method: str, path: str, query: dict[str, str], body: bytes) -> Answer:
        if path == "/api/v1/query":
            t = float(query["time"])
            return http(200, vector([{"metric": metric(n, t), "value": [t, repr(noise(n, t))]}
                                     for n in NAMES]))
        start, end, step = (float(query[k]) for k in ("start", "end", "step"))
        steps_ = [start + i * step for i in range(round((end - start) / step) + 1)]
        return http(200, vector([{"metric": metric(n, end),
                                  "values": [[t, repr(noise(n, t))] for t in steps_]}
                                 for n in NAMES], "matrix"))
    server = RawServer(answer)
    try:
        clock = Clock(T0)
        watcher, store = watcher_on(server.url, clock)
        for i in range(steps):
            clock.t += 1.0
            if i == steps // 2:
                watcher.sources["p"].url = "http://127.0.0.1:9"   # one failed tick
            watcher.tick()
            watcher.sources["p"].url = server.url
        return store, watcher
    finally:
        server.close()


LABELS = {
    "non-ASCII": lambda n, t: {"instance": f"ノード-{n}", "rack": "Ünïcødé ✓"},
    "empty value": lambda n, t: {"instance": n, "rack": ""},
    "empty name": lambda n, t: {"": n},
    "no __name__": lambda n, t: {"instance": n},
    "__name__ only": lambda n, t: {"__name__": f"up_{n}"},
    "quotes and newlines": lambda n, t: {"instance": f'{n}"\n\\'},
    "numbers": lambda n, t: {"instance": n, "shard": 7, "ratio": 0.5},
    "null and bool": lambda n, t: {"instance": n, "x": None, "y": True},
    "lone surrogate": lambda n, t: {"instance": n + "\ud800"},
    "control characters": lambda n, t: {"instance": n + "\x00\x1b[31m"},
    "long value": lambda n, t: {"instance": n * 20_000},
}


@pytest.mark.parametrize("family", list(LABELS))
def test_odd_labels_keep_one_series_each_through_live_ticks_and_backfill(family):
    store, watcher = run_labels(LABELS[family])
    assert watcher.health.source_up["p"] and watcher.health.watch_errors == {}
    ids = [s["id"] for s in sorted(store.all_series(), key=lambda s: s["id"])]
    assert len(ids) == 2, (family, store.all_series())
    for sid, name in zip(ids, NAMES, strict=True):
        labels = store.series(sid)["labels"]
        assert labels == {str(k): str(v) for k, v in LABELS[family](name, 0.0).items()}
        t = store.points(sid)["sigma"]["t"]
        assert np.array_equal(t, np.arange(T0 - 19.0, T0 + 31.0))   # once each, no gap


def test_zero_series_then_series_whose_labels_change_between_ticks(prom):
    clock = Clock(T0)
    watcher, store = watcher_on(prom.server.url, clock)
    for _ in range(5):
        clock.t += 1.0
        watcher.tick()
    prom.odd = lambda path, query: http(200, vector([]))      # the query matches nothing
    for _ in range(3):
        clock.t += 1.0
        watcher.tick()
    assert watcher.health.source_up["p"] and store.progress("m") == clock.t
    # each tick a new label set for one series (a pod restarting under a new name)
    prom.odd = lambda path, query: http(200, vector([
        {"metric": {"pod": f"web-{float(query['time']):.0f}"},
         "value": [float(query["time"]), "1"]}]))
    for _ in range(4):
        clock.t += 1.0
        watcher.tick()
    prom.odd = None
    clock.t += 1.0
    watcher.tick()
    assert watcher.health.source_up["p"] and watcher.health.watch_errors == {}
    assert store.progress("m") == clock.t
    pods = [store.series(sid) for sid in range(3, 7)]
    assert [p["labels"]["pod"] for p in pods] == [f"web-{T0 + k:.0f}" for k in range(9, 13)]
    assert all(store.points(sid)["sigma"]["t"].size == 1 for sid in range(3, 7))
    assert store.alerts() == []


# ------------------------------------------------------------------ Alertmanager side
def am_config(am: str, url: str = "http://scripted", source_options: str = "") -> str:
    """The watch config alerting to an Alertmanager at ``am``."""
    return sigma_config(url=url, source_options=source_options, relearn_after="1h", alerts={
        "alertmanager": f'{{url: "{am}", resend_interval: 1h}}', "timeout": "0.4s"})

ODD_SINK: dict[str, Callable[[], Answer]] = {
    **{f"{code} {kind}": (lambda c, b, ct: lambda: http(c, b, ct))(code, body, ctype)
       for code in (400, 404, 408, 429, 500, 502, 503)
       for kind, body, ctype in (("json", b'{"code":1,"message":"no"}', "application/json"),
                                 ("empty", b"", "application/json"),
                                 ("html", b"<html><h1>503</h1></html>", "text/html"))},
    "200 html": lambda: http(200, b"<html><form>Sign in</form></html>", "text/html"),
    "200 html, charset": lambda: http(200, b"<html></html>", "text/html; charset=utf-8"),
    "timeout": lambda: hang(1.0),
    "200 trickled past the timeout": lambda: trickle(b"{" + b" " * 30 + b"}", 0.05),
    "connection reset": lambda: reset,
    "closed without an answer": lambda: b"",
    "not HTTP": lambda: b"SSH-2.0-OpenSSH_9.6\r\n",
    "302 to a page answering GET": lambda: http(302, headers=("Location: /login",)),
    "303 to a page answering GET": lambda: http(303, headers=("Location: /login",)),
    "301 to a page answering GET": lambda: http(301, headers=("Location: /login",)),
}


class AlertSink:
    """A fake Alertmanager: misbehaves with ``odd()`` while set; keeps the alerts it took."""

    def __init__(self) -> None:
        self.odd: Callable[[], Answer] | None = None
        self.taken: list[dict[str, Any]] = []
        self.server = RawServer(self._answer)

    def _answer(self, method: str, path: str, query: dict[str, str], body: bytes) -> Answer:
        if path == "/login":      # what a redirect leads to: a page, whatever the method
            return http(200, b"<html>sign in</html>", "text/html")
        if self.odd is not None:
            return self.odd()
        if method == "POST" and path == "/api/v2/alerts":
            self.taken.extend(json.loads(body))
        if method == "POST" and path == "/hook":
            self.taken.append(json.loads(body))
        if path == "/api/v2/status":
            return http(200, json.dumps({"config": {"original": "route: {receiver: r}\n"}})
                        .encode())
        return http(200, b"")


def spike(name: str, t: float) -> float:
    return noise(name, t) + (50.0 if name == "b" and t >= T0 + 40 else 0.0)


def webhook_config(hook: str) -> str:
    """The same, alerting to a JSON webhook at ``hook``."""
    return sigma_config(relearn_after="1h", alerts={"webhook": f'{{url: "{hook}/hook"}}',
                                                    "timeout": "0.4s"})


@pytest.mark.parametrize("family", list(ODD_SINK))
@pytest.mark.parametrize("kind", ["alertmanager", "webhook"])
def test_an_alert_the_sink_does_not_take_is_retried_not_lost_nor_duplicated(kind, family,
                                                                            caplog):
    if kind == "webhook" and family.startswith("200 html"):
        pytest.skip("a webhook receiver may answer its 200 as an HTML page (Flask's default)")
    sink = AlertSink()
    try:
        clock = Clock(T0)
        store = WatchStore(":memory:")
        config = (am_config if kind == "alertmanager" else webhook_config)(sink.server.url)
        watcher = Watcher(parse_config(config), store,
                          clock=clock, sources={"prometheus": FunctionSource(spike, NAMES)})
        sink.odd = ODD_SINK[family]
        with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
            while clock.t < T0 + 60:                 # fires at T0+41, sink misbehaving
                clock.t += 1.0
                watcher.tick()
        (alert,) = store.alerts()
        assert alert["status"] == "firing" and store.n_pending() == 1   # kept, not dropped
        assert watcher.notifier.failures[kind] >= 1
        assert sink.taken == []
        assert watcher.health.watch_errors == {}
        assert not any(r.exc_info for r in caplog.records), caplog.text   # no traceback
        sink.odd = None
        while clock.t < T0 + 400:                    # past any backoff (at most 256 s here)
            clock.t += 1.0
            watcher.tick()
        assert store.n_pending() == 0
        if kind == "alertmanager":
            taken = [a for a in sink.taken if a["labels"]["incident_id"] == str(alert["id"])]
        else:
            taken = [m for m in sink.taken if m["id"] == alert["id"]]
        assert len(taken) == 1, taken                 # taken once: not lost, not repeated
        assert taken[0]["labels"]["instance"] == "b"
    finally:
        sink.server.close()


# ------------------------------------------------------------------ remote_write side
@pytest.mark.parametrize("family", [f for f in ODD_SINK if not f.startswith("200 html")])
def test_remote_write_counts_every_odd_answer_as_a_failure_never_a_send(family, tmp_path):
    from kizashi.watch.remote_write import RemoteWriter

    sink = AlertSink()
    sink.odd = ODD_SINK[family]
    try:
        config = parse_config(am_config(sink.server.url) + f"""
remote_write: {{url: "{sink.server.url}/api/v1/write", timeout: 0.4s}}
""")
        writer = RemoteWriter(config.remote_write, str(tmp_path / "state.sqlite"))
        said = writer.check()          # an OSError of any kind is "why not"; nothing escapes
        assert said != "ok" and "\n" not in said.strip(), said
        sink.odd = None
        assert writer.check() == "ok"
    finally:
        sink.server.close()


STATUS_ANSWERS = {
    "html": http(200, b"<html>login</html>", "text/html"),
    "500": http(500, b"oops"),
    "nested": http(200, b"[" * 5000 + b"]" * 5000),
    "a list": http(200, b"[1]"),
    "no config": http(200, b"{}"),
    "original not text": http(200, b'{"config": {"original": 5}}'),
    "bad yaml": http(200, json.dumps({"config": {"original": "route: [\n"}}).encode()),
    "route a list": http(200, json.dumps({"config": {"original": "route: [1]\n"}}).encode()),
    "bad duration": http(200, json.dumps({"config": {"original":
                                                     "route: {group_wait: soon}\n"}}).encode()),
    "not HTTP": b"SSH-2.0-OpenSSH_9.6\r\n",
    "timeout": hang(1.0),
}


@pytest.mark.parametrize("family", list(STATUS_ANSWERS))
def test_alertmanager_routes_unreadable_fall_back_to_its_defaults(family):
    """docs: the defaults (30 s, 5 min) apply when the status cannot be read: 5 min + 1 s."""
    from kizashi.watch.alerts import routes_wait

    server = RawServer(lambda method, path, query, body: STATUS_ANSWERS[family])
    try:
        assert routes_wait(f"{server.url}/api/v2/status", 0.4) == 301.0
    finally:
        server.close()


#: Alertmanager's routes (as its status gives them) → the hold, by hand: the longest
#: group_wait/group_interval + 1 s, inherited from the parent, 30 s / 5 min at the root
ROUTES = {
    "group_interval: 1h30m": 5401.0,
    "group_interval: 2d12h": 216001.0,
    "group_wait: 0s\n  group_interval: 1m30s": 91.0,   # zero waits: no wait
    "group_wait: 10m1s": 602.0,
    "group_interval: 500ms": 31.0,                      # the root's 30 s group_wait
    "routes:\n  - {receiver: r, group_wait: 6m30s}": 391.0,
}


@pytest.mark.parametrize("route", list(ROUTES))
def test_alertmanager_routes_read_as_prometheus_durations(route):
    """Alertmanager writes its waits as Prometheus durations (``1h30m``); read by the one
    duration parser, zero included."""
    from kizashi.watch.alerts import routes_wait

    original = f"route:\n  receiver: r\n  {route}\nreceivers:\n- name: r\n"
    answer = http(200, json.dumps({"config": {"original": original}}).encode())
    server = RawServer(lambda method, path, query, body: answer)
    try:
        assert routes_wait(f"{server.url}/api/v2/status", 5.0) == ROUTES[route]  # (a slow CI)
    finally:
        server.close()


# ------------------------------------------------- an open incident through odd answers
DURING = {
    "500 html": ODD_HTTP["500 html"],
    "200 truncated json": ODD_HTTP["200 truncated json"],
    "connection reset": ODD_HTTP["connection reset"],
    "0 series": lambda path, query: http(200, vector([])),
    "b is +Inf": each(lambda n, t: {"metric": {"instance": n},
                                    "value": [t, "+Inf" if n == "b" else repr(noise(n, t))]}),
    "b is NaN": each(lambda n, t: {"metric": {"instance": n},
                                   "value": [t, "NaN" if n == "b" else repr(noise(n, t))]}),
}


@pytest.mark.parametrize("family", list(DURING))
def test_an_open_incident_stays_one_alert_through_odd_answers(family):
    """The source misbehaves for 5 ticks while 'b' is firing: no resolve goes out, the
    incident stays one alert, sent as firing once."""
    prom, sink = Prometheus(spike), AlertSink()
    config = am_config(sink.server.url, url=prom.server.url,
                       source_options="timeout: 0.4s, retries: 0")
    try:
        clock = Clock(T0)
        store = WatchStore(":memory:")
        watcher = Watcher(parse_config(config), store, clock=clock)
        while clock.t < T0 + 90:
            clock.t += 1.0
            prom.odd = DURING[family] if T0 + 60 <= clock.t < T0 + 65 else None
            watcher.tick()
        (alert,) = store.alerts()
        assert alert["status"] == "firing" and alert["starts_at"] == T0 + 40
        assert store.n_pending() == 0 and watcher.health.watch_errors == {}
        firing = [a for a in sink.taken if a["labels"]["incident_id"] == str(alert["id"])]
        assert len(firing) == 1 and firing[0]["endsAt"] > firing[0]["startsAt"]
        assert store.progress("m") == clock.t
    finally:
        prom.server.close()
        sink.server.close()
