"""Dashboard and API edges: every endpoint × every invalid parameter shape is a 4xx with a
message, never a 500; names from the config are never HTML (issue 13, class 8)."""

from __future__ import annotations

import html
import shutil
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from watch_servers import free_port, http_get, wait_for

pytest.importorskip("fastapi", reason="the dashboard needs the web extras: pip install "
                                      "fastapi uvicorn prometheus-client httpx")

PAYLOAD = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"


def build(tmp_path: Path, detector: str = "sigma", watch: str = "cpu",
          column: str = "web-2", n_steps: int = 200) -> tuple[str, Any]:
    """A store and watcher like ``watch_servers.populated``, with chosen names."""
    from kizashi.watch.config import parse_config
    from kizashi.watch.store import WatchStore
    from kizashi.watch.watcher import Watcher

    now = float(int(time.time()))
    rng = np.random.default_rng(1)
    lines = ["timestamp,web-1," + column]
    for i in range(n_steps):
        values = 40 + rng.normal(0, 1, 2)
        if n_steps - 60 <= i < n_steps - 40:
            values[1] += 100
        lines.append(f"{now - n_steps + 1 + i:.0f}," + ",".join(f"{v:.3f}" for v in values))
    csv = tmp_path / "metrics.csv"
    csv.write_text("\n".join(lines) + "\n")
    config = parse_config(yaml.safe_dump({
        "interval": "1s", "listen": "off",
        "sources": {"lab": {"type": "csv", "path": str(csv)}},
        "watches": [{"name": watch, "detectors": [
            {"name": detector, "detector": "threshold",
             "params": {"window": 60, "k": 5, "min_periods": 20},
             "min_duration": "3s", "resolve_after": "3s"}]}],
    }))
    path = str(tmp_path / "state.sqlite")
    watcher = Watcher(config, WatchStore(path), clock=lambda: now)
    watcher.tick()
    return path, watcher


@pytest.fixture
def client(tmp_path):
    from fastapi.testclient import TestClient

    from kizashi.watch.web import create_app

    path, watcher = build(tmp_path)
    return TestClient(create_app(path, watcher.snapshot, interval=1.0),
                      raise_server_exceptions=False)


# ------------------------------------------------------------- invalid parameters
BAD_IDS = ["10" * 15, str(10**30), str(2**63), str(-(2**63) - 1), "abc", "1.5", "nan",
           "inf", "1e400", "-1e400", "%00", "1_0"]
BAD_TIMES = ["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e300", "-1e300",
             "abc", "", "1,5", "0x10", str(10**400)]
BAD_LIMITS = ["0", "-1", str(10**30), "nan", "inf", "1e400", "abc", "1.5", "", "100001"]
BAD_RANGES = ["0", "-5", str(10**30), "nan", "1e400", "abc", "", "999999999999"]
BAD_STATUS = ["bogus", "x" * 5000, "firing'--", "<b>"]


def cases() -> list[str]:
    urls = []
    for bad in BAD_IDS:
        urls += [f"/api/series/{bad}", f"/series/{bad}"]
    for bad in BAD_TIMES:
        urls += [f"/api/series/2?start={bad}", f"/api/series/2?end={bad}",
                 f"/api/series/2?start={bad}&end={bad}", f"/api/series/{10**30}?start={bad}"]
    urls += ["/api/series/2?start=200&end=100"]
    urls += [f"/api/alerts?limit={bad}" for bad in BAD_LIMITS]
    urls += [f"/api/alerts?status={bad}" for bad in BAD_STATUS]
    urls += [f"/api/alerts?status=bogus&limit={bad}" for bad in BAD_LIMITS[:3]]
    urls += [f"/series/2?range={bad}" for bad in BAD_RANGES]
    urls += [f"/series/{10**30}?range={bad}" for bad in BAD_RANGES[:3]]
    return urls


@pytest.mark.parametrize("url", cases())
def test_every_invalid_parameter_is_a_4xx_with_a_message(client, url):
    response = client.get(url)
    assert 400 <= response.status_code < 500, (url, response.status_code, response.text[:300])
    assert response.json().get("detail"), response.text[:300]


@pytest.mark.parametrize("path", ["/", "/alerts", "/api/status", "/metrics", "/healthz"])
@pytest.mark.parametrize("query", ["start=nan", "id=" + str(10**30), "limit=1e400", "range=-1",
                                   "x=" + "%ff" * 100, "start=1e400&end=-inf"])
def test_endpoints_without_parameters_ignore_junk(client, path, query):
    assert client.get(f"{path}?{query}").status_code == 200


def test_valid_parameters_still_work(client):
    now = time.time()
    assert client.get(f"/api/series/2?start={now - 600}&end={now + 1}").status_code == 200
    assert client.get("/api/series/2?start=-100&end=0").json()["detectors"]["sigma"]["t"] == []
    assert client.get("/api/series/99").status_code == 404
    assert client.get(f"/api/series/{2**63 - 1}").status_code == 404
    assert client.get("/api/alerts?status=firing&limit=1").status_code == 200
    assert client.get("/api/alerts?status=resolved&limit=10000").status_code == 200
    assert client.get("/series/2?range=1").status_code == 200
    assert client.get("/series/2?range=604800").status_code == 200


# ------------------------------------------------------------------ escaping
@pytest.mark.parametrize("where", ["detector", "watch", "column"])
@pytest.mark.parametrize("name", [PAYLOAD, SCRIPT, "{{body}}" + PAYLOAD, "'\"><svg onload=x>"])
def test_names_from_the_config_never_appear_as_html(tmp_path, where, name):
    from fastapi.testclient import TestClient

    from kizashi.watch.web import create_app

    path, watcher = build(tmp_path, **{where: name})
    client = TestClient(create_app(path, watcher.snapshot, interval=1.0))
    pages = ["/", "/alerts"] + [f"/series/{s['id']}" for w in watcher.snapshot()["watches"]
                                .values() for s in w["series"]]
    shown = False
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        raw = name.replace("{{body}}", "")
        assert raw not in response.text, (page, where)
        assert "<img src=x" not in response.text and "<script>alert" not in response.text
        assert "<svg onload" not in response.text
        shown |= html.escape(raw) in response.text
    assert shown, f"the {where} name is shown (escaped) on some page"


def test_the_series_page_script_sets_names_as_text_only():
    text = resources.files("kizashi.watch").joinpath("templates", "series.html").read_text()
    assert "innerHTML" not in text and "outerHTML" not in text
    assert "insertAdjacentHTML" not in text and "document.write" not in text
    assert "option.textContent = n" in text


@pytest.mark.integration
def test_a_hostile_detector_name_runs_no_script_in_a_browser(tmp_path):
    """Chromium loads the series page whose detector is named like an XSS probe."""
    uvicorn = pytest.importorskip("uvicorn")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    if shutil.which("chromium") is None:
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    from kizashi.watch.web import create_app

    probe = "<img src=x onerror=window.__xss=1>"
    path, watcher = build(tmp_path, detector=probe)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(path, watcher.snapshot, interval=1.0),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_get(f"{url}/healthz"), 15, "the dashboard")
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            for target in ("/", "/alerts", "/series/2?range=900"):
                page.goto(url + target)
                if target.startswith("/series"):
                    page.wait_for_selector("body[data-plot-ready='1']", timeout=15000)
                    assert page.locator("#detector option").all_text_contents() == [probe]
                    box = page.locator("canvas#plot").bounding_box()
                    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + 100)
                    assert "score" in page.locator("#tip").inner_text()
                time.sleep(0.3)
                assert page.evaluate("() => window.__xss === undefined"), target
                assert page.locator("img[src='x']").count() == 0, target
            assert errors == [], errors
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
