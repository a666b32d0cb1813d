"""The dashboard and /metrics with many series: most anomalous first, label search, pages,
heatmap, bounded /metrics; and the daemon's one-pass live step equals the engine's."""

from __future__ import annotations

import re

import numpy as np
import pytest
from watch_servers import Clock

from kizashi.detectors.registry import create
from kizashi.engine.decider import Decider
from kizashi.engine.stream import DetectorStream
from kizashi.watch.config import parse_config
from kizashi.watch.sources import PrometheusSource, Samples
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

T0 = 1_700_000_000.0
NODES, METRICS = 13, 10            # 130 series
SPIKY = {("node4", "m7"), ("node11", "m2")}


def value(node: str, metric: str, k: int) -> float:
    noise = ((k * 7919 + sum(map(ord, node + metric)) * 104729) % 1000) / 1000.0
    return 10.0 + noise + (60.0 if (node, metric) in SPIKY and k >= 40 else 0.0)


class Source(PrometheusSource):
    def __init__(self) -> None:
        super().__init__("http://scripted", retries=0)
        self.labels = [{"__name__": f"m{m}", "instance": f"node{e}", "job": "node"}
                       for e in range(NODES) for m in range(METRICS)]

    def _samples(self, times: np.ndarray) -> Samples:
        values = np.array([[value(s["instance"], s["__name__"], round(t - T0))
                            for s in self.labels] for t in times])
        return Samples(times, self.labels, values.reshape(times.size, len(self.labels)))

    def instant(self, query: str, t: float) -> Samples:
        return self._samples(np.array([t]))

    def range(self, query: str, start: float, end: float, step: float) -> Samples:
        return self._samples(start + step * np.arange(round((end - start) / step) + 1))


CONFIG = """
interval: 1s
listen: off
metrics_series: 10
sources: {prometheus: {type: prometheus, url: "http://scripted"}}
watches:
  - name: nodes
    query: up
    detectors:
      - {name: sigma, detector: threshold, params: {window: 30, k: 5.0, min_periods: 10},
         min_duration: 2s, resolve_after: 2s}
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    pytest.importorskip("fastapi", reason="pip install 'kizashi[web]'")
    from fastapi.testclient import TestClient

    from kizashi.watch.web import create_app

    path = str(tmp_path_factory.mktemp("scale") / "state.sqlite")
    clock = Clock(T0)
    watcher = Watcher(parse_config(CONFIG), WatchStore(path), clock=clock,
                      sources={"prometheus": Source()})
    for _ in range(45):
        clock.t += 1.0
        watcher.tick()
    return TestClient(create_app(path, watcher.snapshot, interval=1.0)), watcher


def rows(text: str) -> list[str]:
    """The labels cell of each series row, in page order."""
    return re.findall(r"<tr class='series-row'>.*?<td class='labels'>(.*?)</td>", text)


def test_overview_pages_most_anomalous_first(client):
    http, _ = client
    first = http.get("/").text
    assert len(rows(first)) == 50 and "page 1 of 3" in first
    top = rows(first)[:2]
    assert {("instance=node4" in r and "m7" not in r) for r in top} and all(
        "firing" in first.split(r)[0].rsplit("<tr", 1)[1] for r in top)
    assert {re.search(r"instance=(node\d+)", r).group(1) for r in top} == {"node4", "node11"}
    last = http.get("/?page=3").text
    assert len(rows(last)) == 30 and "page 3 of 3" in last
    everything = [r for p in (1, 2, 3) for r in rows(http.get(f"/?page={p}").text)]
    assert len(set(everything)) == 130                       # each series on exactly one page
    assert http.get("/?page=99").status_code == 200          # past the end: the last page
    assert http.get("/?page=0").status_code == 400
    assert http.get("/?per=5000").status_code == 400


def test_overview_search_filters_by_any_label(client):
    http, _ = client
    text = http.get("/", params={"q": "instance=node1 job=node"}).text
    found = rows(text)
    # node1, node10, node11, node12 (substring match) x 10 metrics
    assert "40 matching" in text and len(found) == 40
    assert all(re.search(r"instance=node1\d?<", r) for r in found)
    assert len(rows(http.get("/", params={"q": "instance=node1 instance!=node1"}).text)) == 0
    bare = http.get("/", params={"q": "node12"}).text
    assert "10 matching" in bare


def test_heatmap_shows_entities_by_metrics_with_the_incidents_hot(client):
    http, watcher = client
    text = http.get("/").text
    heat = text.split("<table class='heat'>", 1)[1].split("</table>", 1)[0]
    header = re.findall(r"<th title='(m\d+)'>", heat)
    assert sorted(header) == sorted(f"m{m}" for m in range(METRICS))
    assert len(re.findall(r"<tr><th>node\d+</th>", heat)) == NODES
    red = re.findall(r"<td style='background:hsl\(0,70%,45%\)'><a href='/series/(\d+)'", heat)
    table = watcher.snapshot()["watches"]["nodes"]["table"]
    by_id = {int(i): lab for i, lab in zip(table.ids, table.labels, strict=True)}
    assert {(by_id[int(i)]["instance"], by_id[int(i)]["__name__"]) for i in red} == SPIKY


def test_metrics_are_bounded_and_report_the_daemon_s_cost(client):
    http, watcher = client
    text = http.get("/metrics").text
    exported = re.findall(r'^kizashi_watch_score\{(.*)\} ', text, re.M)
    assert len(exported) == 10                               # metrics_series: 10
    assert sum('instance="node4"' in e and 'exported' not in e for e in exported) >= 1
    assert 'kizashi_watch_series{watch="nodes"} 130.0' in text
    assert 'kizashi_watch_series_exported{watch="nodes"} 10.0' in text
    assert 'kizashi_watch_series_firing{watch="nodes"} 2.0' in text
    ticks = watcher.snapshot()["health"]["ticks"]
    assert f'kizashi_watch_tick_seconds_bucket{{le="+Inf"}} {float(ticks)}' in text
    assert f"kizashi_watch_tick_seconds_count {float(ticks)}" in text
    assert re.search(r'^kizashi_watch_build_info\{.*version="[^"]+".*\} 1\.0$', text, re.M)
    assert re.search(r"^kizashi_watch_state_bytes_per_series \d", text, re.M)
    assert "kizashi_watch_tick_duration_seconds " in text    # the old gauge stays


def test_api_status_is_json_with_every_series_up_to_the_limit(client):
    http, _ = client
    body = http.get("/api/status").json()
    nodes = body["watches"]["nodes"]
    assert nodes["n_series"] == 130 and len(nodes["series"]) == 130 and nodes["n_firing"] == 2
    assert "table" not in nodes


@pytest.mark.parametrize("slice_", [8192, 7, 2])
@pytest.mark.parametrize("detector, params", [
    ("threshold", {"window": 30, "k": 4.0, "min_periods": 10}),
    ("quantile_threshold", {"window": 40, "min_periods": 10}),
    ("static_threshold", {"high": 40.0}),
])
def test_live_steps_equal_the_engine_on_many_series(detector, params, slice_, monkeypatch):
    """Ticks of one step each (the daemon's one-pass path, with some series protected at
    most steps; the series in slices of 8192, 7 or 2) against DetectorStream over the
    same matrix: bit for bit."""
    import kizashi.watch.watcher as watcher_module

    monkeypatch.setattr(watcher_module, "SLICE", slice_)
    text = CONFIG.replace("detector: threshold, params: {window: 30, k: 5.0, min_periods: 10}",
                          f"detector: {detector}, params: {params}")
    clock, store = Clock(T0), WatchStore(":memory:")
    source = Source()
    watcher = Watcher(parse_config(text), store, clock=clock, sources={"prometheus": source})
    for _ in range(70):
        clock.t += 1.0
        watcher.tick()
    times = T0 + np.arange(1.0, 71.0)
    matrix = source._samples(times).values
    reference = create(detector, **params)
    want = DetectorStream(reference, Decider.for_detector(
        reference, min_steps=2, resolve_steps=2)).process(matrix, times).decision
    got = np.column_stack([store.points(j + 1)["sigma"]["score"] for j in range(matrix.shape[1])])
    assert np.array_equal(got, want.level, equal_nan=True)
    assert want.protect.any(axis=1).sum() >= 5           # steps with protected series
    firing = {(a["labels"]["instance"], a["labels"]["__name__"]) for a in store.alerts()}
    _, cols = np.nonzero(np.diff(want.active.astype(int), axis=0) == 1)
    assert firing == {(source.labels[j]["instance"], source.labels[j]["__name__"])
                      for j in cols.tolist()}


@pytest.mark.parametrize("slice_", [8192, 7])
def test_the_state_file_holds_exactly_the_state_after_every_tick(slice_, monkeypatch, tmp_path):
    """Only the chunks the live step saw change are written: reading the file back after
    each tick gives the detector's and decider's states bit for bit."""
    import kizashi.watch.watcher as watcher_module
    from kizashi.state import states_equal

    monkeypatch.setattr(watcher_module, "SLICE", slice_)
    path = str(tmp_path / "state.sqlite")
    clock = Clock(T0)
    watcher = Watcher(parse_config(CONFIG), WatchStore(path), clock=clock,
                      sources={"prometheus": Source()})
    drun = watcher.runs[0].detectors[0]
    for k in range(50):
        clock.t += 1.0
        watcher.tick()
        if k % 7 == 6 or 38 <= k <= 44:                      # around the incidents too
            columns, saved = WatchStore(path).load_state("nodes", "sigma")
            assert columns == watcher.runs[0].columns
            assert states_equal(saved["detector"]["state"], drun.detector.state_)
            assert states_equal(saved["decider"], {**drun.decider.state_,
                                                   "calibrator": drun.decider.calibrator.state_})
    assert drun.hints is not None and drun.light         # the one-pass path was taken
