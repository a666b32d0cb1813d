"""Odd labels through every output of the daemon: dashboard, JSON API, ``/metrics``,
``remote_write`` and Alertmanager.

A watch keeps a series' labels exactly as its source gave them (docs/watch.md, "Odd
answers": non-ASCII, empty, quoted, a lone surrogate, an empty name …). Before, such
labels broke the outputs: a lone surrogate (not UTF-8) answered 500 on every page and on
``/metrics``, and failed every tick with ``remote_write`` on; an empty label name made
``/metrics`` text Prometheus cannot parse (the whole scrape lost); the series of one
watch that differ only in ``__name__`` (the documented ``{instance="node1",
__name__=~"…"}`` watch) were exported with one label set (Prometheus keeps one of them);
a label name Alertmanager does not take (``http.status``, empty) had the alert refused
(400) at every retry.

Expectations (independent of the code): every page answers 200 and the JSON API gives
the labels back exactly; ``/metrics`` parses with prometheus_client's own parser, with
one sample per series and detector and no two series with one label set (an empty value
counting as no label, as Prometheus reads it); a label with a plain name and value is
exported as it is; ``remote_write`` requests decode, with valid names and one label set
per series; Alertmanager gets the alert, with valid names.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

import numpy as np
import pytest
from test_odd_answers import LABELS, AlertSink, spike
from watch_configs import sigma_config
from watch_servers import Clock, FakeHttp, FunctionSource

from kizashi.watch.config import parse_config
from kizashi.watch.export_labels import export_labels
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

T0 = 1_700_000_000.0
NAMES = ["a", "b"]
VALID = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")

FAMILY = {
    **LABELS,
    "differ only in __name__": lambda n: {"__name__": f"m_{n}", "instance": "node1"},
    "UTF-8 names": lambda n: {"http.status": n, "ü": "x"},
    "names alike once rewritten": lambda n: {"http.status": n, "http_status": "1"},
    "kizashi's own names": lambda n: {"watch": n, "exported_watch": "x", "detector": "d",
                                      "metric_name": "m", "kizashi_series_id": "9"},
    "reserved and digit names": lambda n: {"__meta": n, "0abc": "1", "_0abc": "2"},
    "one empty value, one absent": lambda n: ({"instance": "i", "rack": ""} if n == "a"
                                              else {"instance": "i"}),
}


def labels_of(family: str, name: str) -> dict[str, Any]:
    function = FAMILY[family]
    return function(name, 0.0) if family in LABELS else function(name)


def plain(labels: dict[str, Any], own: set[str]) -> dict[str, str]:
    """The labels any output must keep as they are: a valid name that is not reserved,
    not kizashi's (``own``, ``kizashi_series_id``), not of the exported_ form, and a
    non-empty UTF-8 value."""
    out = {}
    for k, v in labels.items():
        text = str(v)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            continue
        if (VALID.match(k) and not k.startswith(("__", "exported_")) and text
                and k not in own | {"kizashi_series_id"}):
            out[k] = text
    return out


def identity(labels: dict[str, str]) -> frozenset[tuple[str, str]]:
    """A label set as Prometheus tells series apart: an empty value is no label."""
    return frozenset((k, v) for k, v in labels.items() if v != "")


# ------------------------------------------------------------------ the mapping alone
NAME_POOL = ["instance", "", "http.status", "http_status", "0abc", "_0abc", "__meta",
             "exported___meta", "watch", "exported_watch", "metric_name", "ü", "_", "le",
             "kizashi_series_id", "exported_kizashi_series_id", "__name__"]
VALUE_POOL = ["a", "b", "", "a\ud800", 'q"\n\\', "ノード"]


def test_the_mapping_is_valid_keeps_plain_labels_and_tells_every_series_apart():
    rng = random.Random(7)
    sets = {}
    for _ in range(3000):
        labels = {rng.choice(NAME_POOL): rng.choice(VALUE_POOL)
                  for _ in range(rng.randint(1, 4))}
        sets[json.dumps(labels, sort_keys=True)] = labels
    own = ("watch", "detector", "metric_name")
    seen: dict[frozenset[tuple[str, str]], dict[str, str]] = {}
    for sid, labels in enumerate(sets.values(), start=1):
        out = export_labels(labels, own, sid)
        for name, value in out.items():
            assert VALID.match(name) and not name.startswith("__"), (labels, out)
            assert name not in own or name == "metric_name", (labels, out)
            value.encode("utf-8")
        for k, v in plain(labels, set(own)).items():
            assert out[k] == v, (labels, out)
        assert identity(out) not in seen, (labels, seen.get(identity(out)))
        seen[identity(out)] = labels
        assert export_labels(labels, own, sid) == out       # the same at every scrape


# ------------------------------------------------------------------ through the daemon
class Labelled(FunctionSource):
    """Series ``a`` and ``b`` (``b`` jumps at T0+40) labelled by one of the families."""

    def __init__(self, family: str):
        super().__init__(spike, NAMES)
        self.family = family

    def _samples(self, timestamps: np.ndarray) -> Any:
        from kizashi.watch.sources import Samples

        values = np.array([[self.value(n, t) for n in NAMES] for t in timestamps])
        # as a Prometheus answer is read: a label value that is no text is read as its text
        return Samples(timestamps, [{str(k): str(v) for k, v in labels_of(self.family,
                                                                           n).items()}
                                    for n in NAMES],
                       values.reshape(timestamps.size, len(NAMES)))


@pytest.fixture(scope="module")
def sinks():
    sink, receiver = AlertSink(), FakeHttp(lambda method, path, query, body: (200, b""))
    yield sink, receiver
    sink.server.close()
    receiver.close()


@pytest.mark.parametrize("family", list(FAMILY))
def test_odd_labels_reach_every_output_valid_and_apart(tmp_path, family, sinks):
    from fastapi.testclient import TestClient
    from prometheus_client.parser import text_string_to_metric_families

    from kizashi.watch.prompb import decode_write_request
    from kizashi.watch.web import create_app

    sink, receiver = sinks
    sink.taken.clear()
    receiver.requests.clear()
    config = sigma_config(relearn_after="1h", alerts={
        "alertmanager": f'{{url: "{sink.server.url}", resend_interval: 1h}}',
        "timeout": "0.4s"}) + (f'remote_write: {{url: "{receiver.url}/api/v1/write", '
                               f'timeout: 0.4s, queue: "{tmp_path / "q.sqlite"}"}}\n')
    clock = Clock(T0)
    store = WatchStore(str(tmp_path / "state.sqlite"))
    watcher = Watcher(parse_config(config), store, clock=clock,
                      sources={"prometheus": Labelled(family)})
    while clock.t < T0 + 50:          # b fires at T0+41
        clock.t += 1.0
        watcher.tick()
    assert watcher.health.watch_errors == {} and store.progress("m") == T0 + 50

    # the dashboard and the JSON API: 200 everywhere, the labels back exactly
    client = TestClient(create_app(store.path, watcher.snapshot, interval=1.0))
    ids = {s["id"]: s["labels"] for s in store.all_series()}
    assert len(ids) == 2
    for url in ["/", "/?q=a", "/alerts", "/api/alerts", "/api/status", "/metrics",
                *[f"/series/{i}" for i in ids], *[f"/api/series/{i}" for i in ids]]:
        assert client.get(url).status_code == 200, url
    status = json.loads(client.get("/api/status").content)
    got = {s["id"]: s["labels"] for s in status["watches"]["m"]["series"]}
    want = {i: {str(k): str(v) for k, v in labels_of(family, n).items()}
            for i, n in zip(sorted(ids), NAMES, strict=True)}
    assert got == want
    for i in ids:
        assert json.loads(client.get(f"/api/series/{i}").content)["series"]["labels"] == want[i]

    # /metrics: parses, one sample per series and detector, series apart, plain labels kept
    text = client.get("/metrics").content.decode("utf-8")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in ("kizashi_watch_score", "kizashi_watch_alert_firing", "kizashi_watch_value"):
        samples = families[name].samples
        assert len(samples) == 2, (name, samples)
        assert len({identity(s.labels) for s in samples}) == 2, samples
        for s in samples:
            assert s.labels["watch"] == "m"
    exported = [s.labels for s in families["kizashi_watch_value"].samples]
    for labels in want.values():
        keep = plain(labels, {"watch", "detector", "metric_name"})
        assert any(all(e.get(k) == v for k, v in keep.items()) for e in exported), (keep,
                                                                                   exported)

    # remote_write: decodable requests, valid names, one label set per series and metric
    assert receiver.requests, "nothing written"
    written: dict[str, set[frozenset[tuple[str, str]]]] = {}
    for _, _, _, body in receiver.requests:
        for labels, _samples in decode_write_request(body):
            assert all(VALID.match(k) for k in labels), labels
            written.setdefault(labels["__name__"], set()).add(identity(labels))
    assert all(len(v) == 2 for v in written.values()), written

    # Alertmanager: the alert arrives, its label names valid
    (alert,) = store.alerts()
    assert store.n_pending() == 0
    taken = [a for a in sink.taken if a["labels"]["incident_id"] == str(alert["id"])]
    assert len(taken) == 1
    assert all(VALID.match(k) for k in taken[0]["labels"]), taken[0]["labels"]


@pytest.mark.parametrize("name", ["exported_job", "exported_instance", "exported_exported_x"])
def test_federated_exported_labels_are_exported_as_they_are(name):
    """A series federated or pushed through a gateway carries ``exported_job`` and the like:
    valid names that lose nothing, so no ``kizashi_series_id`` is added (its value would
    change with the state file); the series that would collide with it, one whose own
    label was prefixed, carries the id instead."""
    from kizashi.watch.export_labels import SERIES_ID, export_labels

    own = ("watch", "detector", "metric_name")
    labels = {"__name__": "up", name: "node", "instance": "n1"}
    assert export_labels(labels, own, 7) == {"metric_name": "up", name: "node",
                                             "instance": "n1"}
    prefixed = export_labels({"__name__": "up", "watch": "w"}, own, 8)
    other = export_labels({"__name__": "up", "exported_watch": "w"}, own, 9)
    assert prefixed[SERIES_ID] == "8" and SERIES_ID not in other
    assert prefixed != other
