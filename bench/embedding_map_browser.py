"""The Dataset page's map and similar images as a user meets them in Chromium, full FER2013 -> JSON.

python bench/embedding_map_browser.py [--out bench/results/embedding_map_browser.json]

Needs the map of the default model's features on disk already (the first visit builds it: bench/embedding_map.py
times that). Measures, three times, a page load and the click on the "Map and neighbours" tab until the map's
points are drawn; then eight "similar images" look-ups, from Enter in the id box until all faces are loaded.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fer_core.app.browser import CHROMIUM, CHROMIUM_FLAGS, serve_app, wait_until_idle  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
POINTS = '[data-testid="stPlotlyChart"] .scatterlayer, [data-testid="stPlotlyChart"] canvas.gl-canvas-context'


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "embedding_map_browser.json"))
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    out = {"page_load_s": [], "tab_click_to_map_s": [], "similar_ms": []}
    env = {"FER_DATA_DIR": str(SHARED), "FER_RELABEL_DIR": tempfile.mkdtemp()}
    with serve_app(env) as url, sync_playwright() as p:
        page = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS).new_page(
            viewport={"width": 1400, "height": 1400})
        page.goto(url + "/Dataset")
        wait_until_idle(page)
        page.get_by_role("tab", name="Map and neighbours").click()
        wait_until_idle(page)
        if page.get_by_role("button", name=re.compile("Build the map")).count():
            raise SystemExit("the map is not on disk yet: build it once on the page")
        for _ in range(3):
            t = time.time()
            page.goto(url + "/Dataset")
            wait_until_idle(page)
            out["page_load_s"].append(round(time.time() - t - 1.5, 2))  # wait_until_idle waits 1.5 s of calm
            t = time.time()
            page.get_by_role("tab", name="Map and neighbours").click()
            page.locator(POINTS).last.wait_for(timeout=60000)
            out["tab_click_to_map_s"].append(round(time.time() - t, 2))
        wait_until_idle(page)
        for k in (1234, 2345, 3456, 4567, 5678, 6789, 7890, 8901):
            box = page.get_by_label("Image id")
            t = time.time()
            box.fill(str(k))
            box.press("Enter")
            page.get_by_text(f"#{k} (this)").wait_for(timeout=30000)
            page.wait_for_function("() => [...document.querySelectorAll('img')].every(i => i.complete)")
            out["similar_ms"].append(round(1000 * (time.time() - t)))
    out["tab_click_to_map_median_s"] = statistics.median(out["tab_click_to_map_s"])
    out["similar_median_ms"] = statistics.median(out["similar_ms"])
    out["date"] = time.strftime("%Y-%m-%d %H:%M")
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
