"""A simulated annotator relabels a slice of FER2013 on the real Relabel page in Chromium -> JSON.

python bench/relabel_throughput.py [--splits PublicTest,PrivateTest] [--out bench/results/relabel_throughput.json]

The app runs as `make run` serves it (its own config), on the full FER2013 with the FERPlus votes attached and the
default model's suggestions. The annotator answers every question with the FERPlus majority label (the oracle;
'unknown' where the votes have no majority, 'not-a-face' where they say so). Per split of the slice it picks the
split in the sidebar (then clicks the page, out of the select box), presses G and reviews grid pages while the Grid
view offers any (clicking each face whose suggestion differs from the oracle, then Enter), then presses L and labels
what is left in the smart order, one key per image. Every click and keypress is an action; page turns and labels
are timed to the moment the page shows the next page or image. The default thresholds were
chosen on the Training rows (bench/relabel_thresholds.py); the slice is the two test splits (7,178 images).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fer_core.app.browser import CHROMIUM, CHROMIUM_FLAGS, choose, serve_app, wait_until_idle  # noqa: E402
from fer_core.data.loading import load_dataset  # noqa: E402
from fer_core.relabel.project import KEYS  # noqa: E402
from fer_core.relabel.store import LabelStore  # noqa: E402
from fer_core.relabel.suggest import oracle_labels  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
# A stated human decision time, for the hours estimate (the app's own waits are measured and added)
SINGLE_DECISION_S, GRID_GLANCE_PER_FACE_S, EXCEPTION_CLICK_S = 2.0, 0.3, 1.0
TOKEN = "() => { const g = document.querySelector('.fg'); return g ? g.dataset.token : null; }"
CAPTION = "() => { const c = document.querySelector('[data-testid=\"stImageCaption\"]'); return c ? c.innerText : null; }"


def pct(values, q):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


class Annotator:
    def __init__(self, page, oracle_of: dict, classes):
        self.page, self.oracle_of, self.classes = page, oracle_of, classes
        self.actions, self.grid_ms, self.single_ms = [], [], []

    def act(self, kind: str, ms: float | None = None):
        self.actions.append({"kind": kind, "t": round(time.time(), 3), "ms": None if ms is None else round(ms, 1)})

    def view(self, key: str):
        """Switch view by its key (G grid, L one at a time), as a keyboard-only annotator does."""
        self.page.keyboard.press(key)
        wait_until_idle(self.page, 60)
        self.act(f"view:{key}")

    def split(self, name: str):
        choose(self.page, "Split", name)
        self.act(f"split:{name}")
        self.page.locator("h1").first.click()  # out of the select box, so that keys reach the page
        self.act("focus")

    def grid(self) -> None:
        page = self.page
        while page.locator(".fg-tile").count():
            token = page.evaluate(TOKEN)
            tiles = page.locator(".fg-tile")
            meta = tiles.evaluate_all("els => els.map(e => [e.dataset.id, e.dataset.suggested])")
            for i, (image_id, suggested) in enumerate(meta):
                if self.classes[self.oracle_of[image_id]] != suggested:
                    tiles.nth(i).click()
                    self.act("grid:exception")
            t = time.perf_counter()
            page.keyboard.press("Enter")
            page.wait_for_function(f"prev => ({TOKEN})() !== prev", arg=token, timeout=60000)
            ms = 1000 * (time.perf_counter() - t)
            self.grid_ms.append(ms)
            self.act("grid:accept", ms)
            page.wait_for_function("() => document.querySelector('[data-testid=\"stApp\"]')"
                                   ".getAttribute('data-test-script-state') === 'notRunning'", timeout=60000)

    def singles(self) -> None:
        page = self.page
        while True:
            caption = page.evaluate(CAPTION)
            if caption is None:
                return  # "This queue is empty"
            image_id = caption.split(" ")[0].lstrip("#")
            t = time.perf_counter()
            page.keyboard.press(KEYS[self.oracle_of[image_id]])
            page.wait_for_function(f"prev => ({CAPTION})() !== prev", arg=caption, timeout=60000)
            ms = 1000 * (time.perf_counter() - t)
            self.single_ms.append(ms)
            self.act("single:label", ms)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--splits", default="PublicTest,PrivateTest")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "relabel_throughput.json"))
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    ds = load_dataset(SHARED / "fer2013.csv.gz")
    oracle = oracle_labels(ds, "fer2024")
    oracle_of = {str(i): int(o) for i, o in zip(ds.ids.tolist(), oracle.tolist())}
    from fer_core.data.schemes import get_scheme
    classes = get_scheme("fer2024").classes
    splits = args.splits.split(",")
    work = Path(tempfile.mkdtemp(prefix="relabel-bench-"))
    env = {"FER_DATA_DIR": str(SHARED), "FER_RELABEL_DIR": str(work)}
    started = time.time()
    with serve_app(env, log_path=work / "server.log") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        page.goto(url + "/Relabel?annotator=oracle")
        wait_until_idle(page, 180)
        deadline = time.time() + 180  # the default model's pass over FER2013 runs in the background once
        while page.get_by_text("being computed in the background").count() and time.time() < deadline:
            time.sleep(2)
        page.reload()
        wait_until_idle(page, 120)
        sim = Annotator(page, oracle_of, classes)
        t0 = time.time()
        for split in splits:
            sim.split(split)
            sim.view("g")
            sim.grid()
            sim.view("l")
            sim.singles()
        wall = time.time() - t0
        browser.close()
    slice_ids = set(ds.ids[[s in splits for s in ds.splits]].tolist())
    store = LabelStore(work / "fer2024.sqlite")
    labels = {i: lab for i, lab in store.labels_of("oracle").items() if i in slice_ids}
    sources = store.sources_of("oracle")
    bulk = [i for i in labels if sources.get(i) == "grid"]
    exceptions = sum(a["kind"] == "grid:exception" for a in sim.actions)
    singles = sum(a["kind"] == "single:label" for a in sim.actions)
    human_s = singles * SINGLE_DECISION_S + len(bulk) * GRID_GLANCE_PER_FACE_S + exceptions * EXCEPTION_CLICK_S
    app_s = (sum(sim.grid_ms) + sum(sim.single_ms)) / 1000
    per_image_s = (human_s + app_s) / max(len(labels), 1)
    result = {
        "slice": f"FER2013 {' + '.join(splits)} ({len(slice_ids):,} images), FERPlus attached, default model, "
                 "default thresholds",
        "images_in_slice": len(slice_ids), "images_settled": len(labels), "actions": len(sim.actions),
        "actions_per_image": round(len(sim.actions) / max(len(labels), 1), 4),
        "accepted_in_bulk": len(bulk), "grid_pages": len(sim.grid_ms), "exceptions_marked": exceptions,
        "labelled_one_by_one": singles,
        "bulk_accuracy_vs_oracle": round(sum(labels[i] == oracle_of[i] for i in bulk) / max(len(bulk), 1), 4),
        "all_labels_accuracy_vs_oracle": round(sum(labels[i] == oracle_of[i] for i in labels) / max(len(labels), 1), 4),
        "grid_page_ms": {"median": pct(sim.grid_ms, 0.5), "p95": pct(sim.grid_ms, 0.95), "n": len(sim.grid_ms)},
        "single_ms": {"median": pct(sim.single_ms, 0.5), "p95": pct(sim.single_ms, 0.95), "n": len(sim.single_ms)},
        "wall_s": round(wall, 1), "setup_s": round(t0 - started, 1),
        "human_time_model_s": {"single_decision": SINGLE_DECISION_S, "grid_glance_per_face": GRID_GLANCE_PER_FACE_S,
                               "exception_click": EXCEPTION_CLICK_S},
        "annotator_hours_all_35887": round(per_image_s * len(ds) / 3600, 1),
        "annotator_hours_all_35887_one_key_each": round(len(ds) * (SINGLE_DECISION_S + (statistics.median(
            sim.single_ms) / 1000 if sim.single_ms else 0)) / 3600, 1),
        "machine": f"{os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d %H:%M"),
        "actions_log": sim.actions,
    }
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "actions_log"}, indent=2))


if __name__ == "__main__":
    main()
