"""End to end Live benchmark: a real face on a 640x480 15 fps fake camera, through the real Live page in Chromium.

python bench/live_browser.py [--seconds 20] [--modes none Grad-CAM Grad-CAM++] [--out bench/results/live_browser.json]
                             [--file-watcher auto]  (overrides .streamlit/config.toml's "none", to measure its cost)

Writes its own .y4m camera (a CK+ face panning slowly), starts the app, and per overlay mode: opens the Live
page, picks the overlay, presses START, waits for the stream to settle, then counts for `--seconds`:
- delivered_fps: frames the browser's WebRTC sender sent per second (RTCPeerConnection.getStats, same run);
- processed_fps: frames the page's pipeline processed per second (the page's own counters);
- processed_share: processed / frames the server received (the ≥ 90 % target), and the page's moving medians.
Needs Debian's chromium (apt-get install chromium chromium-driver) and Playwright; nothing is downloaded.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import streamlit_webrtc  # noqa: F401,E402  (before TensorFlow)

from fer_core.app.browser import (  # noqa: E402
    CHROMIUM,
    choose,
    exception_text,
    fake_camera_flags,
    serve_app,
    wait_until_idle,
    write_face_camera,
)

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"
SCREENS = Path(__file__).resolve().parent.parent / "tests" / "artifacts"  # ignored folder

# Collect every RTCPeerConnection a frame creates, so getStats() can be read from outside.
TRACK_PEERS = """(() => { const Orig = window.RTCPeerConnection; if (!Orig || Orig.__tracked) return;
  window.__pcs = [];
  class Tracked extends Orig { constructor(...a) { super(...a); window.__pcs.push(this); } }
  Tracked.__tracked = true; window.RTCPeerConnection = Tracked; })();"""

WEBRTC_STATS = """async () => { const out = {sent: 0, decoded: 0, width: 0, height: 0, limitation: ''};
  for (const pc of (window.__pcs || [])) { const stats = await pc.getStats();
    stats.forEach(r => { if (r.kind !== 'video') return;
      if (r.type === 'outbound-rtp') { out.sent += r.framesSent || 0; out.width = r.frameWidth || 0;
        out.height = r.frameHeight || 0; out.limitation = r.qualityLimitationReason || ''; }
      if (r.type === 'inbound-rtp') { out.decoded += r.framesDecoded || 0; } }); }
  return out; }"""

COUNTERS = re.compile(r"Processed frames: (\d+)(?: of (\d+) received)? · with a face: (\d+)")
FACE_COUNTS = re.compile(r"(\d+)×(\d+)")


def camera_video(path: Path, seconds: int = 20, fps: int = 15) -> Path:
    """A CK+ face the Live detector finds, panning slowly; the file loops in Chromium."""
    from fer_core.data.loading import load_dataset
    ck = SHARED / "ckplus" / "ckplus.csv.gz"
    if not ck.exists():
        raise SystemExit(f"needs CK+ at {ck} for real faces")
    if write_face_camera(path, load_dataset(ck).images[::7], seconds * fps, fps) is None:
        raise SystemExit("no CK+ face is found across the whole pan")
    return path


def group_camera(path: Path, people: int, seconds: int, fps: int, shape, detector: str) -> Path:
    """`people` CK+ faces (90-180 px at 640x480, scaled with the frame) in a row, bobbing; every one found by
    `detector` in every half second of the clip."""
    from fer_core.app.browser import write_group_camera
    from fer_core.data.loading import load_dataset
    faces = load_dataset(SHARED / "ckplus" / "ckplus.csv.gz").images[::7]
    if write_group_camera(path, faces, people, seconds * fps, fps, shape, detector) is None:
        raise SystemExit(f"no group of {people} CK+ faces that {detector} finds throughout")
    return path


def webrtc_frame(page):
    for frame in page.frames:
        try:
            if frame.evaluate("(window.__pcs || []).length") > 0:
                return frame
        except Exception:  # noqa: BLE001 - detached or cross-origin frames: not ours
            continue
    return None


def sample(page, frame) -> dict:
    stats = frame.evaluate(WEBRTC_STATS)
    text = page.locator('[data-testid="stMarkdownContainer"]', has_text="Processed frames").first
    line = text.inner_text() if text.count() else ""
    m = COUNTERS.search(line)
    counts = {int(k): int(v) for k, v in FACE_COUNTS.findall(line.split("faces per frame:")[-1])} \
        if "faces per frame:" in line else {}
    caption = page.locator('[data-testid="stCaptionContainer"]', has_text="fps").first
    return {"t": time.perf_counter(), **stats,
            "processed": int(m.group(1)) if m else 0,
            "received": int(m.group(2)) if m and m.group(2) else None,
            "with_face": int(m.group(3)) if m else 0, "face_counts": counts,
            "caption": caption.inner_text() if caption.count() else ""}


def measure_mode(browser, url: str, mode: str, warmup_s: float, seconds: float, camera: str = "640x480",
                 detector: str | None = None, people: int = 1) -> dict:
    import re as _re
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.add_init_script(TRACK_PEERS)
    page.goto(url + "/Live")
    wait_until_idle(page)
    if camera != "640x480":
        choose(page, "Camera resolution", camera)
    if detector:
        page.get_by_text("Face detector").first.click()
        choose(page, "Detector", detector)
    if mode != "none":
        choose(page, "Overlay", mode)
    page.frame_locator('iframe[title*="streamlit_webrtc"]').first.get_by_role(
        "button", name=_re.compile("start", _re.I)).click(timeout=60000)
    deadline = time.time() + 60
    frame = None
    while time.time() < deadline and frame is None:
        frame = webrtc_frame(page)
        time.sleep(0.5)
    if frame is None:
        raise RuntimeError("no RTCPeerConnection in the page")
    while time.time() < deadline and sample(page, frame)["processed"] == 0:
        time.sleep(0.5)
    time.sleep(warmup_s)
    first = sample(page, frame)
    time.sleep(seconds)
    last = sample(page, frame)
    error = exception_text(page)
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"live_browser_{mode.replace('+', 'p').lower()}.png"))
    page.close()
    dt = last["t"] - first["t"]
    delivered = (last["sent"] - first["sent"]) / dt
    processed = (last["processed"] - first["processed"]) / dt
    received = (last["received"] - first["received"]) / dt if last["received"] is not None else None
    frames = max(last["processed"] - first["processed"], 1)
    all_faces = sum(v - first["face_counts"].get(k, 0) for k, v in last["face_counts"].items() if k >= people)
    return {"delivered_fps": round(delivered, 2), "processed_fps": round(processed, 2),
            "frames_with_all_faces_share": round(all_faces / frames, 3), "people": people,
            "received_fps": round(received, 2) if received is not None else None,
            "processed_share_of_received": round(processed / received, 3) if received else None,
            "processed_share_of_delivered": round(processed / delivered, 3) if delivered else None,
            "returned_fps": round((last["decoded"] - first["decoded"]) / dt, 2),
            "frames_with_face_share": round((last["with_face"] - first["with_face"])
                                            / max(last["processed"] - first["processed"], 1), 3),
            "sent_resolution": f"{last['width']}x{last['height']}", "quality_limitation": last["limitation"],
            "page_caption": last["caption"], "seconds": round(dt, 1), "exception": error}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, help="seconds before counting (default 6; 15 at 1280x720, where WebRTC may "
                        "still send 960x540 for bandwidth after 6 s)")
    parser.add_argument("--modes", nargs="+", default=["none", "Grad-CAM", "Grad-CAM++"])
    parser.add_argument("--out", default=str(RESULTS / "live_browser.json"))
    parser.add_argument("--people", type=int, default=1, help="faces in the fake camera (4: a group in a row)")
    parser.add_argument("--fps", type=int, default=15, help="the fake camera's frame rate")
    parser.add_argument("--camera", default="640x480", choices=["640x480", "1280x720"])
    parser.add_argument("--detector", help="the Live page's detector (default: the page's default)")
    parser.add_argument("--file-watcher", choices=["auto", "watchdog", "poll", "none"],
                        help="server.fileWatcherType for this server (default: the app's config, as `make run`)")
    args = parser.parse_args()
    if args.warmup is None:
        args.warmup = 15 if args.camera == "1280x720" else 6
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} missing: apt-get install chromium chromium-driver")
    from playwright.sync_api import sync_playwright
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        w, h = (int(v) for v in args.camera.split("x"))
        from fer_core.live.detect import DETECTORS
        video = (camera_video(Path(tmp) / "camera.y4m", fps=args.fps) if args.people == 1 else
                 group_camera(Path(tmp) / "camera.y4m", args.people, 10, args.fps, (h, w), args.detector or DETECTORS[0]))
        env = {"STREAMLIT_SERVER_FILE_WATCHER_TYPE": args.file_watcher} if args.file_watcher else {}
        with serve_app(env, log_path=Path(tmp) / "server.log") as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=fake_camera_flags(video))
            modes = {}
            for mode in args.modes:
                modes[mode] = measure_mode(browser, url, mode, args.warmup, args.seconds, args.camera, args.detector,
                                           args.people)
                print(mode, json.dumps(modes[mode]), flush=True)
            browser.close()
    delivered = [m["delivered_fps"] for m in modes.values()]
    what = "one CK+ face panning" if args.people == 1 else f"{args.people} CK+ faces in a row, bobbing"
    result = {"camera": f"{args.camera} {args.fps} fps y4m, {what}", "detector": args.detector or "page default",
              "delivered_fps": round(min(delivered), 2),
              "file_watcher": args.file_watcher or "app config (none)",
              "modes": modes}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
