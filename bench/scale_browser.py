"""The pages a user opens on FER2013-layout CSVs as they grow, in Chromium -> bench/results/scale_browser.json.

python bench/scale_browser.py [--sizes 1,4,10] [--keys 40] [--work /tmp]

The CSVs are bench/scale.py's (1x, 4x, 10x FER2013, copy k's pixels shifted by k). Per size, one app server with
FER_DATA set to the CSV and an empty cache: the Dataset page opened cold (the first load parses the CSV) and again
(the server's cache), then the Relabel page for a new annotator: the first image in the one-at-a-time view, and
`--keys` labels, each timed from the keypress to the next image shown, once the default model's suggestions
(computed once per dataset, in the background) are ready. The server's peak RSS (VmHWM) is read at
the end. Then one training epoch (capped at --train-steps batches) from a cold cache in its own process: time
and peak RSS. Targets at 10x (issue #35): Relabel keypress median <= 250 ms; trains without swapping.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fer_core.app.browser import CHROMIUM, CHROMIUM_FLAGS, serve_app, wait_until_idle  # noqa: E402
from fer_core.relabel.project import KEYS  # noqa: E402

OUT = REPO / "bench" / "results" / "scale_browser.json"
CAPTION = "() => { const c = document.querySelector('[data-testid=\"stImageCaption\"]'); return c ? c.innerText : null; }"


def _scale_module():
    spec = importlib.util.spec_from_file_location("scale", REPO / "bench" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def server_peak_mb(port: int) -> float | None:
    """VmHWM of the streamlit process serving `port` (the app's own memory, browser excluded)."""
    found = subprocess.run(["pgrep", "-f", f"server.port {port}"], capture_output=True, text=True).stdout.split()
    for pid in found:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            continue
    return None


def timed_open(page, url: str, ready_selector: str, timeout_s: float = 900) -> float:
    t = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(ready_selector, timeout=timeout_s * 1000)
    wait_until_idle(page, timeout_s)
    return round(time.perf_counter() - t, 2)


def measure(csv: Path, keys: int) -> dict:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="scale-browser-"))
    env = {"FER_DATA": str(csv), "FER_CACHE_DIR": str(work / "cache"), "FER_RELABEL_DIR": str(work / "relabel"),
           "FER_DATA_ROOTS": str(csv.parent)}
    out: dict = {"csv": csv.name}
    try:
        with serve_app(env, log_path=work / "server.log", start_timeout_s=120) as url, sync_playwright() as p:
            port = int(url.rsplit(":", 1)[1])
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            metric = '[data-testid="stMetric"]'
            out["dataset_page_cold_s"] = timed_open(page, url + "/Dataset", metric)
            out["dataset_page_again_s"] = timed_open(page, url + "/Dataset", metric)
            out["relabel_page_s"] = timed_open(page, url + "/Relabel?annotator=scale", "h1")
            # the default model's suggestions for every image are computed once, in the background: labels are timed
            # after it (as bench/relabel_throughput.py does), and the wait is reported
            t = time.perf_counter()
            while page.get_by_text("being computed in the background").count() and time.perf_counter() - t < 900:
                time.sleep(3)
                page.reload()
                wait_until_idle(page, 600)
            out["background_suggestions_s"] = round(time.perf_counter() - t, 1)
            t = time.perf_counter()
            page.locator("h1").first.click()
            page.keyboard.press("l")  # the one-at-a-time view
            page.wait_for_function(f"() => ({CAPTION})() !== null", timeout=600000)
            out["relabel_first_image_s"] = round(out["relabel_page_s"] + time.perf_counter() - t, 2)
            wait_until_idle(page, 600)
            times = []
            for k in range(keys):
                caption = page.evaluate(CAPTION)
                t = time.perf_counter()
                page.keyboard.press(KEYS[k % 7])
                page.wait_for_function(f"prev => ({CAPTION})() !== prev", arg=caption, timeout=60000)
                times.append(1000 * (time.perf_counter() - t))
            out["keypress_ms"] = {"median": round(statistics.median(times), 1),
                                  "p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 1), "n": len(times)}
            out["background_work_shown"] = bool(page.get_by_text("in the background").count())
            out["server_peak_rss_mb"] = server_peak_mb(port)
            browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def train_epoch(csv: Path, max_steps: int) -> dict:
    """One training epoch (capped at `max_steps` batches: the data, not the steps, decides the memory) from a cold
    cache, in its own process: wall seconds and peak RSS."""
    work = Path(tempfile.mkdtemp(prefix="scale-train-"))
    env = {**os.environ, "FER_CACHE_DIR": str(work / "cache"), "FER_MODELS_DIR": str(work / "models")}
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "fer_core", "train", "--data", str(csv), "--arch", "cnn004",
           "--epochs", "1", "--max-steps", str(max_steps), "--out", str(work / "models")]
    t = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    shutil.rmtree(work, ignore_errors=True)
    peak = next((int(line.split()[-1]) for line in done.stderr.splitlines() if "Maximum resident set size" in line), 0)
    return {"train_epoch_s": round(wall, 1), "train_peak_rss_mb": round(peak / 1024, 1), "train_exit": done.returncode,
            "train_max_steps": max_steps}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,4,10")
    ap.add_argument("--keys", type=int, default=40)
    ap.add_argument("--train-steps", type=int, default=100, help="batches in the measured training epoch")
    ap.add_argument("--work", default=tempfile.gettempdir())
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    scale = _scale_module()
    folder = Path(tempfile.mkdtemp(prefix="scale-csvs-", dir=args.work))
    results = []
    try:
        paths = scale.build_csvs(scale.SHARED / "fer2013.csv.gz", sizes, folder)
        for size in sizes:
            row = {"size": f"{size}x", "rows": 35887 * size, **measure(paths[size], args.keys),
                   **train_epoch(paths[size], args.train_steps)}
            print(json.dumps(row), flush=True)
            results.append(row)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = {"bench": "scale_browser", "date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{os.cpu_count()} cores",
              "target": "Relabel keypress median <= 250 ms at 10x", "sizes": results}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
