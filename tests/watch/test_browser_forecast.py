"""The series page draws the forecast band of a watch with ``predict:`` (headless chromium).

A series filling at 1 %/h for 50 h (learned from the backfill) has a forecast
over the next 6 h: the page names the prediction in its note, shows the
forecast's legend, and paints the right-hand part of the plot (the 6 h after
the last value), which is empty without a forecast.
"""

from __future__ import annotations

import math
import shutil
import time

import pytest
from watch_servers import FunctionSource, disk_predict_config, serve_dashboard

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
STEP = 300.0



@pytest.fixture
def dashboard(tmp_path):
    pytest.importorskip("uvicorn", reason="pip install uvicorn fastapi prometheus-client")
    from kizashi.watch.config import parse_config
    from kizashi.watch.store import WatchStore
    from kizashi.watch.watcher import Watcher
    from kizashi.watch.web import create_app

    now = math.floor(time.time() / STEP) * STEP
    start = now - 50 * 3600.0

    def value(name: str, t: float) -> float:
        return 20.0 + (t - start) / 3600.0 + (round(t / STEP) * 7919 % 100) / 20.0

    config = parse_config(disk_predict_config(tmp_path / "s.sqlite", backfill="50h"))
    watcher = Watcher(config, WatchStore(config.storage), clock=lambda: now,
                      sources={"p": FunctionSource(value, ["fill"])})
    watcher.tick()
    with serve_dashboard(create_app(str(config.storage), watcher.snapshot, interval=STEP)) as url:
        yield url, watcher


def test_the_series_page_draws_the_forecast_band(dashboard):
    if shutil.which("chromium") is None:
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    url, watcher = dashboard
    (item,) = watcher.snapshot()["watches"]["disk"]["series"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{url}/series/{item['id']}?range=21600")
        page.wait_for_selector("body[data-plot-ready='1']", timeout=15000)
        assert page.locator("#forecast-legend").is_visible()
        note = page.locator("#forecast-note").inner_text()
        assert note.startswith("Time to limit 100: p = ") and "within 6h" in note
        # the last value sits in the middle of the plot (6 h of history, 6 h ahead): the right
        # quarter holds only the forecast, its band and the limit
        painted = page.evaluate("""() => {
            const c = document.getElementById('plot');
            const w = c.width, h = Math.floor(c.height / 2);
            const d = c.getContext('2d').getImageData(Math.floor(w * 0.75), 0,
                                                       Math.floor(w * 0.2), h).data;
            let n = 0; for (let i = 0; i < d.length; i += 4)
              if (d[i + 3] > 0 && !(d[i] > 200 && d[i + 1] > 200 && d[i + 2] > 200)) n++;
            return n; }""")
        page.screenshot(path="/tmp/kizashi-watch-forecast.png", full_page=True)
        assert painted > 2000, "nothing drawn after the last value"
        assert errors == [], errors
        browser.close()
