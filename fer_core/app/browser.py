"""Driving the real app in Debian's Chromium (never a downloaded build): shared by the browser tests and benches.

Playwright is a test/bench dependency only; nothing here is imported by the app itself.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from fer_core.server.local import free_port, stop, wait_until_answers
from fer_core.settings import REPO_ROOT

CHROMIUM = os.environ.get("FER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def fake_camera_flags(video: Path) -> list[str]:
    """Chromium flags that grant camera access and play `video` (a .y4m file) as the camera."""
    return CHROMIUM_FLAGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                             f"--use-file-for-fake-video-capture={video}"]


@contextlib.contextmanager
def serve_app(env: dict | None = None, log_path: Path | None = None, start_timeout_s: float = 90,
              root: Path = REPO_ROOT, unset: tuple = ()):
    """`streamlit run Home.py` (of the checkout at `root`) on a free localhost port; yields the base URL and stops
    the server afterwards. `unset` names environment variables the server must not inherit."""
    port = free_port()
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    environment = {k: v for k, v in {**os.environ, **(env or {})}.items() if k not in unset}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(Path(root) / "Home.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=root, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(url + "/_stcore/health", proc, start_timeout_s, "streamlit")
        yield url
    finally:
        stop(proc, 20)
        if log is not subprocess.DEVNULL:
            log.close()


def wait_until_idle(page, timeout_s: float = 120) -> None:
    """Wait for the script run to finish: stApp reports notRunning and stays so briefly."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    deadline = time.time() + timeout_s
    calm_since = None
    while time.time() < deadline:
        state = page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state")
        if state == "notRunning":
            calm_since = calm_since or time.time()
            if time.time() - calm_since > 1.5:
                return
        else:
            calm_since = None
        time.sleep(0.25)
    raise AssertionError(f"page still running after {timeout_s:.0f} s")


def exception_text(page) -> str | None:
    """The first exception Streamlit shows on the page, if any."""
    exceptions = page.locator('[data-testid="stException"]')
    return exceptions.first.inner_text() if exceptions.count() else None


def error_box_texts(page) -> list[str]:
    """The text of every st.error box on the page (what a user reads as 'something is broken')."""
    return [e.inner_text() for e in page.locator('[data-testid="stAlertContentError"]').all()]


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label` (sidebar or main) and wait for the rerun."""
    box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=label)).first
    box.locator('[role="combobox"], input').first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_until_idle(page)


def write_y4m(path: Path, frames, fps: int = 15) -> None:
    """Raw YUV 4:2:0 video Chromium plays as a fake camera (grey frames: U = V = 128)."""
    h, w = frames[0].shape
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        chroma = bytes([128]) * ((w // 2) * (h // 2))
        for f in frames:
            fh.write(b"FRAME\n" + np.ascontiguousarray(f, np.uint8).tobytes() + chroma + chroma)


def panning_frames(face: np.ndarray, n: int, size: int = 200, shape=(480, 640), background=None) -> list[np.ndarray]:
    """`n` grey frames with `face` (upscaled to `size`) panning slowly left and right across the frame."""
    import cv2
    h, w = shape
    big = cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)
    base = np.full(shape, 120, np.uint8) if background is None else cv2.resize(background, (w, h))
    y = (h - size) // 2
    frames = []
    for i in range(n):
        phase = 0.5 - 0.5 * np.cos(2 * np.pi * i / max(n, 1))  # 0 -> 1 -> 0: a slow pan out and back
        x = int(40 + phase * (w - size - 80))
        frame = base.copy()
        frame[y:y + size, x:x + size] = big
        frames.append(frame)
    return frames


def write_face_camera(path: Path, faces, n: int = 150, fps: int = 15) -> Path:
    """A fake-camera y4m of the first of `faces` that the Live detector finds in every second of its pan
    (Chromium loops the file); None if none is found throughout."""
    from fer_core.live.detect import FaceDetector
    detector = FaceDetector()
    for face in faces:
        frames = panning_frames(face, n)
        if all(len(detector.detect(f)) for f in frames[::fps]):
            write_y4m(path, frames, fps)
            return path
    return None


def group_frames(faces, n: int, sizes=(90, 120, 150, 180), shape=(480, 640), background=None) -> list[np.ndarray]:
    """`n` grey frames with one face per entry of `sizes` in a row (a meeting or a classroom), each bobbing
    gently up and down on its own phase, so the tracker has to follow every face."""
    import cv2
    h, w = shape
    base = np.full(shape, 120, np.uint8) if background is None else cv2.resize(background, (w, h))
    gap = (w - sum(sizes)) // (len(sizes) + 1)
    bigs = [cv2.resize(f, (s, s), interpolation=cv2.INTER_CUBIC) for f, s in zip(faces, sizes)]
    frames = []
    for i in range(n):
        frame = base.copy()
        x = gap
        for k, (big, s) in enumerate(zip(bigs, sizes)):
            y = int((h - s) / 2 + 0.15 * (h - s) * np.sin(2 * np.pi * i / max(n, 1) + k))
            frame[y:y + s, x:x + s] = big
            x += s + gap
        frames.append(frame)
    return frames


def write_group_camera(path: Path, faces, people: int = 4, n: int = 300, fps: int = 30, shape=(480, 640),
                       detector_name: str | None = None) -> Path | None:
    """A fake-camera y4m of `people` faces from `faces` that `detector_name` finds together in every second of
    the clip (Chromium loops it); None if no such group is found."""
    from fer_core.live.detect import DetectorSettings, FaceDetector
    detector = FaceDetector(DetectorSettings(name=detector_name) if detector_name else None)
    scale = shape[1] / 640
    sizes = tuple(int(s * scale) for s in (90, 120, 150, 180)[:people])
    usable = [f for f in faces if len(detector.detect(np.pad(cv2_resize(f, 180), 100, constant_values=120)))]
    for start in range(0, max(len(usable) - people, 0) + 1, people):
        group = usable[start:start + people]
        if len(group) < people:
            break
        frames = group_frames(group, n, sizes, shape)
        if all(len(detector.detect(f)) == people for f in frames[::fps // 2]):
            write_y4m(path, frames, fps)
            return path
    return None


def cv2_resize(face: np.ndarray, size: int) -> np.ndarray:
    import cv2
    return cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)
