"""A long Live stream in Chromium: server memory and processed fps minute by minute -> JSON.

python bench/live_soak.py [--minutes 30] [--mode Grad-CAM] [--people 4] [--out bench/results/live_soak.json]

The real Live page, a 30 fps fake camera with `--people` CK+ faces, one overlay mode. Every minute: the page's
processed-frame counter (processed fps over that minute) and the resident memory of the Streamlit server process.
Targets (issue 32): memory grows by <= 50 MB after the first minute; fps stays within 10% of the first minute's.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import live_browser as lb  # noqa: E402

from fer_core.app.browser import CHROMIUM, choose, exception_text, fake_camera_flags, serve_app, wait_until_idle  # noqa: E402


def server_rss_mb(port: str) -> float:
    """Resident memory of the Streamlit process serving `port` (found by its command line)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "streamlit" in cmd and f"--server.port {port}" in cmd:
                for line in (proc / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            continue
    return float("nan")


def cpu_seconds(port: str) -> dict:
    """CPU seconds used so far by the Streamlit server, by Chromium's processes, and by the whole machine (busy
    time over all cores): per-minute differences say whether a slower minute was the server's own work or CPU
    taken by the browser or by something else on the machine."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {"server": 0.0, "chromium": 0.0}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if "streamlit" in cmd and f"--server.port {port}" in cmd:
            out["server"] += used
        elif "chrom" in cmd.split(" ")[0]:
            out["chromium"] += used
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in first]
    out["machine_busy"] = (sum(values[:8]) - values[3] - values[4]) / tick  # all but idle and iowait
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--mode", default="Grad-CAM")
    parser.add_argument("--people", type=int, default=4)
    parser.add_argument("--out", default=str(lb.RESULTS / "live_soak.json"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from fer_core.live.detect import DETECTORS
    with tempfile.TemporaryDirectory() as tmp:
        video = lb.group_camera(Path(tmp) / "camera.y4m", args.people, 10, 30, (480, 640), DETECTORS[0])
        with serve_app(log_path=Path(tmp) / "server.log") as url, sync_playwright() as p:
            port = url.rsplit(":", 1)[1]
            browser = p.chromium.launch(executable_path=CHROMIUM, args=fake_camera_flags(video))
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.add_init_script(lb.TRACK_PEERS)
            page.goto(url + "/Live")
            wait_until_idle(page)
            if args.mode != "none":
                choose(page, "Overlay", args.mode)
            page.frame_locator('iframe[title*="streamlit_webrtc"]').first.get_by_role(
                "button", name=re.compile("start", re.I)).click(timeout=60000)
            frame = None
            while frame is None:
                frame = lb.webrtc_frame(page)
                time.sleep(0.5)
            while lb.sample(page, frame)["processed"] == 0:
                time.sleep(0.5)
            minutes, last, cpu_last = [], lb.sample(page, frame), cpu_seconds(port)
            end = time.time() + 60 * args.minutes
            while time.time() < end:
                time.sleep(60)
                now = lb.sample(page, frame)
                dt = now["t"] - last["t"]
                frames = max(now["processed"] - last["processed"], 1)
                all_faces = sum(v - last["face_counts"].get(k, 0) for k, v in now["face_counts"].items()
                                if k >= args.people)
                minutes.append({"minute": len(minutes) + 1, "processed_fps": round((now["processed"] - last["processed"]) / dt, 2),
                                "received_fps": round((now["received"] - last["received"]) / dt, 2) if now["received"] else None,
                                "all_faces_share": round(all_faces / frames, 3), "server_rss_mb": round(server_rss_mb(port), 1),
                                "stages": now["caption"]})
                cpu_now = cpu_seconds(port)
                used = {k: round(cpu_now[k] - cpu_last[k], 1) for k in cpu_now}
                used["other"] = round(used["machine_busy"] - used["server"] - used["chromium"], 1)
                minutes[-1]["cpu_s"] = used  # of 60 s x cores
                cpu_last = cpu_now
                print(json.dumps(minutes[-1]), flush=True)
                last = now
            error = exception_text(page)
            browser.close()
    first, rest = minutes[0], minutes[1:] or minutes
    report = {"camera": f"640x480 30 fps, {args.people} CK+ faces", "mode": args.mode, "minutes": minutes,
              "rss_growth_after_first_minute_mb": round(max(m["server_rss_mb"] for m in rest) - first["server_rss_mb"], 1),
              "fps_first_minute": first["processed_fps"],
              "fps_worst_later_minute": min(m["processed_fps"] for m in rest),
              "exception": error}
    report["targets_met"] = (report["rss_growth_after_first_minute_mb"] <= 50
                             and report["fps_worst_later_minute"] >= 0.9 * report["fps_first_minute"])
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "minutes"}, indent=2))


if __name__ == "__main__":
    main()
