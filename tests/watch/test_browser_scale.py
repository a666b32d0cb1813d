"""The overview with thousands of series in headless chromium: one page of the most
anomalous, the heatmap, search and paging work; page size and load time are printed
(benchmarks/watch_scale.py --browser measures them at 100 000 series)."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest
from watch_servers import Clock, serve_dashboard

from kizashi.watch.config import parse_config
from kizashi.watch.sources import PrometheusSource, Samples
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
T0 = 1_700_000_000.0
NODES, METRICS = 500, 20          # 10 000 series
HOT = {(7, 3), (250, 11), (499, 0)}


class Source(PrometheusSource):
    def __init__(self) -> None:
        super().__init__("http://scripted", retries=0)
        self.labels = [{"__name__": f"node_m{m}", "instance": f"node{e:03d}", "job": "node"}
                       for e in range(NODES) for m in range(METRICS)]
        rng = np.random.default_rng(0)
        self.level = rng.uniform(1, 100, len(self.labels))
        self.hot = np.array([e * METRICS + m for e, m in HOT])

    def instant(self, query: str, t: float) -> Samples:
        k = round(t - T0)
        values = self.level + np.random.default_rng(k).normal(0, 1, self.level.size)
        if k >= 25:
            values[self.hot] += 200
        return Samples(np.array([t]), self.labels, values[None, :])


@pytest.fixture
def dashboard(tmp_path):
    pytest.importorskip("uvicorn", reason="pip install 'kizashi[web]'")
    from kizashi.watch.web import create_app

    config = parse_config("""
interval: 1s
listen: off
sources: {prometheus: {type: prometheus, url: "http://scripted"}}
watches:
  - name: nodes
    query: up
    detectors: [{name: sigma, detector: threshold, params: {window: 20, min_periods: 10},
                 min_duration: 2s}]
""")
    path = str(tmp_path / "state.sqlite")
    clock = Clock(T0)
    watcher = Watcher(config, WatchStore(path), clock=clock, sources={"prometheus": Source()})
    for _ in range(30):
        clock.t += 1.0
        watcher.tick()
    with serve_dashboard(create_app(path, watcher.snapshot, interval=1.0)) as url:
        yield url, watcher


def test_overview_of_ten_thousand_series_in_a_browser(dashboard):
    if shutil.which("chromium") is None:
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    url, watcher = dashboard
    assert watcher.snapshot()["watches"]["nodes"]["n_series"] == NODES * METRICS
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        started = time.perf_counter()
        response = page.goto(f"{url}/", wait_until="load")
        loaded = time.perf_counter() - started
        size = len(response.body())
        print(f"\noverview of {NODES * METRICS} series: {size / 1024:.0f} KiB, "
              f"loaded in {loaded:.2f} s")
        assert size < 1_000_000
        rows = page.locator("tr.series-row")
        assert rows.count() == 50
        firing = [rows.nth(k).inner_text() for k in range(len(HOT))]
        assert all(text.startswith("firing") for text in firing), firing
        assert page.locator("table.heat tr").count() == 61         # header + 60 entities
        page.screenshot(path="/tmp/kizashi-watch-overview-10k.png", full_page=True)

        page.fill("input[name=q]", "instance=node250")
        page.click("form.controls button")
        page.wait_for_load_state("load")
        assert page.locator("tr.series-row").count() == METRICS
        assert page.locator("tr.series-row").first.inner_text().startswith("firing")

        page.goto(f"{url}/")
        page.click("a.page:has-text('next')")
        page.wait_for_load_state("load")
        assert "page 2 of 200" in page.content()
        assert page.locator("tr.series-row").count() == 50
        assert errors == [], errors
        browser.close()
