"""The dashboard in a real headless browser (Debian's chromium driven by Playwright).

Loads every page, finds the plot on each series page (a canvas that drew
points), zooms by dragging, reads the hover tooltip, and saves screenshots
under /tmp for a person to look at.
"""

from __future__ import annotations

import shutil
import time

import pytest
from watch_servers import populated, serve_dashboard, wait_for

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = "/tmp/kizashi-watch-{}.png"


@pytest.fixture
def dashboard(tmp_path):
    pytest.importorskip("uvicorn", reason="pip install uvicorn fastapi prometheus-client")
    from kizashi.watch.web import create_app

    path, watcher = populated(tmp_path, n_steps=600)
    with serve_dashboard(create_app(path, watcher.snapshot, interval=1.0)) as url:
        yield url, watcher


def test_every_page_loads_and_series_pages_draw_the_plot(dashboard):
    if shutil.which("chromium") is None:
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    url, watcher = dashboard
    series = watcher.snapshot()["watches"]["cpu"]["series"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        page.goto(f"{url}/")
        assert page.locator("tr.series-row").count() == 3
        assert page.locator(".pill.firing, .pill.ok").count() >= 3
        page.screenshot(path=SHOTS.format("overview"), full_page=True)

        page.goto(f"{url}/alerts")
        assert page.locator("tr.alert-row").count() == 1
        page.screenshot(path=SHOTS.format("alerts"), full_page=True)

        for item in series:
            page.goto(f"{url}/series/{item['id']}?range=900")
            page.wait_for_selector("body[data-plot-ready='1']", timeout=15000)
            plot = page.locator("canvas#plot")
            assert int(plot.get_attribute("data-points")) >= 590
            drawn = page.evaluate("""() => {
                const c = document.getElementById('plot');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
                return n; }""")
            assert drawn > 5000, "the canvas is (nearly) empty"

        page.goto(f"{url}/series/2?range=900")                 # the series with the incident
        page.wait_for_selector("body[data-plot-ready='1']")
        assert page.locator("tr.alert-row").count() == 1
        box = page.locator("canvas#plot").bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + 100)
        assert "score" in page.locator("#tip").inner_text()
        page.screenshot(path=SHOTS.format("series"), full_page=True)
        before = int(page.locator("canvas#plot").get_attribute("data-points"))
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + 150)   # drag to zoom in
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + 150, steps=5)
        page.mouse.up()
        wait_for(lambda: int(page.locator("canvas#plot").get_attribute("data-points")) < before,
                 10, "the zoomed plot")
        time.sleep(0.3)
        page.screenshot(path=SHOTS.format("series-zoomed"), full_page=True)
        assert errors == [], errors
        browser.close()
