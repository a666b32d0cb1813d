"""Dashboard, JSON API, /metrics and the token rule, through FastAPI's test client."""

from __future__ import annotations

import time

import pytest
from watch_servers import populated

from kizashi.watch.config import parse_config

pytest.importorskip("fastapi", reason="the dashboard needs the web extras: pip install "
                                      "fastapi uvicorn prometheus-client httpx")


@pytest.fixture
def client(tmp_path):
    from fastapi.testclient import TestClient

    from kizashi.watch.web import create_app

    path, watcher = populated(tmp_path)
    return TestClient(create_app(path, watcher.snapshot, interval=1.0))


def test_pages_render_with_series_status_and_alerts(client):
    overview = client.get("/")
    assert overview.status_code == 200
    assert overview.text.count("class='series-row'") == 3
    assert "instance" not in overview.text and "series=web-2" in overview.text
    assert "<span class='pill ok'>source lab up</span>" in overview.text
    alerts = client.get("/alerts")
    assert alerts.status_code == 200 and alerts.text.count("class='alert-row'") == 1
    page = client.get("/series/2")
    assert page.status_code == 200 and '<canvas id="plot"' in page.text
    assert client.get("/series/99").status_code == 404


def test_series_api_returns_points_threshold_and_alerts(client):
    now = time.time()
    body = client.get(f"/api/series/2?start={now - 3600}&end={now + 10}").json()
    sigma = body["detectors"]["sigma"]
    assert len(sigma["t"]) == 300 and len(sigma["score"]) == 300
    assert set(sigma["threshold"]) == {5.0}
    assert [a["status"] for a in body["alerts"]] == ["resolved"]


def test_metrics_export_scores_alert_state_and_health(client):
    text = client.get("/metrics").text
    assert 'kizashi_watch_score{detector="sigma",series="web-2",watch="cpu"}' in text
    assert 'kizashi_watch_alert_firing{detector="sigma",series="db-1",watch="cpu"} 0.0' in text
    assert "kizashi_watch_ticks_total 1.0" in text
    assert 'kizashi_watch_source_up{source="lab"} 1.0' in text


def test_token_is_required_when_configured(tmp_path):
    from fastapi.testclient import TestClient

    from kizashi.watch.web import create_app

    path, watcher = populated(tmp_path, 50)
    client = TestClient(create_app(path, watcher.snapshot, token="s3cret"))
    assert client.get("/").status_code == 401
    assert client.get("/metrics").status_code == 401
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/", params={"token": "wrong"}).status_code == 401
    assert client.get("/", params={"token": "s3cret"}).status_code == 200   # sets a cookie
    assert client.get("/alerts").status_code == 200


def test_listening_beyond_loopback_needs_a_token(monkeypatch):
    monkeypatch.delenv("KIZASHI_WATCH_TOKEN", raising=False)
    text = """
listen: 0.0.0.0:9464
sources: {p: {url: "http://127.0.0.1:9090"}}
watches: [{name: m, query: up}]
"""
    with pytest.raises(ValueError, match="needs a token"):
        parse_config(text)
    assert parse_config(text + "token: abc\n").token == "abc"
    monkeypatch.setenv("KIZASHI_WATCH_TOKEN", "from-env")
    assert parse_config(text).token == "from-env"
