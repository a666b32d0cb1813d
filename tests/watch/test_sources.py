"""Sources against a fake HTTP server: good answers, and every way an answer can be bad."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from watch_servers import FakeHttp, prometheus_handler

from kizashi.watch.sources import CsvSource, PrometheusSource, SourceError


@pytest.fixture
def fake():
    servers = []

    def make(handler):
        server = FakeHttp(handler)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def source(url: str, **kw) -> PrometheusSource:
    kw.setdefault("retries", 0)
    return PrometheusSource(url, timeout=kw.pop("timeout", 2.0), sleep=lambda s: None, **kw)


def test_instant_and_range_queries(fake):
    server = fake(prometheus_handler(lambda n, t: t % 100 + (n == "b"), ["a", "b"]))
    src = source(server.url)
    samples = src.instant("up", 1000.0)
    assert samples.labels == [{"instance": "a"}, {"instance": "b"}]
    assert samples.values.tolist() == [[0.0, 1.0]]
    samples = src.range("up", 1000.0, 1004.0, 2.0)
    assert samples.timestamps.tolist() == [1000.0, 1002.0, 1004.0]
    assert samples.values[:, 1].tolist() == [1.0, 3.0, 5.0]
    assert src.check() == "fake"


def test_range_queries_are_chunked_below_prometheus_limit(fake, monkeypatch):
    monkeypatch.setattr("kizashi.watch.sources.MAX_RANGE_POINTS", 4)
    server = fake(prometheus_handler(lambda n, t: t if t != 1005 else None, ["a"]))
    samples = source(server.url).range("up", 1000.0, 1009.0, 1.0)
    assert len([r for r in server.requests if r[1] == "/api/v1/query_range"]) == 3
    assert np.isnan(samples.values[5, 0])
    assert np.nansum(samples.values) == sum(range(1000, 1010)) - 1005


BAD = {
    "not json": (200, b"<html>proxy error</html>", "not JSON"),
    "error status": (200, json.dumps({"status": "error", "error": "bad_data: parse error"})
                     .encode(), "parse error"),
    "no result": (200, json.dumps({"status": "success", "data": {}}).encode(), "malformed"),
    "bad series": (200, json.dumps({"status": "success", "data": {
        "resultType": "vector", "result": [{"metric": {}, "value": ["x"]}]}}).encode(),
        "malformed series"),
    "string result": (200, json.dumps({"status": "success", "data": {
        "resultType": "string", "result": [1, "a"]}}).encode(), "malformed|not a vector"),
    "http 500": (500, b'{"status":"error","error":"out of memory"}', "HTTP 500: out of memory"),
    "http 400": (400, b'{"status":"error","error":"unknown function"}', "HTTP 400"),
    "huge": (200, b'{"status":"success","data":{"resultType":"vector","result":['
             + b'{"metric":{"a":"b"},"value":[1,"1"]},' * 60000 + b"]}}", "larger than max_bytes"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_answers_are_clear_source_errors(fake, case):
    status, body, message = BAD[case]
    server = fake(lambda m, p, q, b: (status, body))
    with pytest.raises(SourceError, match=message) as info:
        source(server.url, max_bytes=1_000_000).instant("up", 1.0)
    assert server.url in str(info.value)


def test_retries_with_backoff_then_gives_up(fake):
    server = fake(lambda m, p, q, b: (503, b"busy"))
    waits = []
    src = PrometheusSource(server.url, retries=3, backoff=0.5, sleep=waits.append)
    with pytest.raises(SourceError, match="HTTP 503"):
        src.instant("up", 1.0)
    assert waits == [0.5, 1.0, 2.0] and len(server.requests) == 4


def test_bad_query_is_not_retried(fake):
    server = fake(lambda m, p, q, b: (400, b'{"status":"error","error":"parse error"}'))
    with pytest.raises(SourceError):
        PrometheusSource(server.url, retries=3, sleep=lambda s: None).instant("up(", 1.0)
    assert len(server.requests) == 1


def test_timeout_and_refused_connection(fake):
    server = fake(lambda m, p, q, b: (time.sleep(1.5), (200, b"{}"))[1])
    started = time.monotonic()
    with pytest.raises(SourceError, match="unreachable"):
        source(server.url, timeout=0.3).instant("up", 1.0)
    assert time.monotonic() - started < 1.4
    server.close()
    with pytest.raises(SourceError, match="unreachable"):
        source(server.url).instant("up", 1.0)


def test_csv_source_reads_new_rows_and_waits_for_half_written_lines(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("timestamp,a,b\n2024-01-01T00:00:00Z,1,2\n2024-01-01T00:00:10Z,3,")
    src = CsvSource(str(path))
    first = src.read(None)
    assert first.timestamps.tolist() == [1704067200.0] and first.values.tolist() == [[1.0, 2.0]]
    with open(path, "a") as handle:
        handle.write("4\n")
    second = src.read(1704067200.0)
    assert second.values.tolist() == [[3.0, 4.0]]
    path.write_text("time,a\n1,2\n")
    with pytest.raises(SourceError, match="no column 'timestamp'"):
        src.read(None)
