"""Real-browser test: Debian's Chromium (never a downloaded build) opens every page of a running app.

Fails on any exception shown on a page; saves a screenshot of each page under tests/artifacts/.
"""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, SHARED_DATA
from fer_core.app.navigation import PAGES

CHROMIUM = os.environ.get("FER_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("FER_ARTIFACTS", REPO / "tests" / "artifacts"))
CHROMIUM_FLAGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _require_browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing in CI: .ci/run must apt-get install chromium chromium-driver")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium chromium-driver)")
    return pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(two_runs):
    _require_browser()
    port = _free_port()
    env = dict(os.environ)
    if (SHARED_DATA / "fer2013.csv.gz").exists():
        env["FER_DATA_DIR"] = str(SHARED_DATA)  # the real FER2013, as a user would configure it
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "streamlit-server.log", "w")  # ignored folder: the server's output, for debugging
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "Home.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail("streamlit did not start within 90 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_until_idle(page, timeout_s: float = 120):
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


def assert_no_exception(page, name):
    exceptions = page.locator('[data-testid="stException"]')
    if exceptions.count():
        pytest.fail(f"{name}: exception shown on page:\n{exceptions.first.inner_text()}")


@pytest.fixture(scope="module")
def playwright():
    sync_api = _require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    yield b
    b.close()


@pytest.mark.parametrize("path,name", [("/", "Home")] + [("/" + p.url_path, p.title)
                                                          for p in PAGES])
def test_page_loads_without_exception(browser, app_url, path, name):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(app_url + path)
    wait_until_idle(page)
    assert_no_exception(page, name)
    assert page.locator("h1").first.inner_text().strip() in (name, "FER Studio")
    if name == "Dataset":  # open every tab, each must render without an exception
        for tab in page.get_by_role("tab").all():
            tab.click()
            wait_until_idle(page)
            assert_no_exception(page, f"{name} / {tab.inner_text()}")
    page.screenshot(path=str(ARTIFACTS / f"{name.lower()}.png"), full_page=True)
    assert not errors, f"JavaScript errors on {name}: {errors}"
    page.close()


def write_y4m(path: Path, frames) -> None:
    """Raw YUV 4:2:0 video Chromium can use as a fake camera (grey frames: U = V = 128)."""
    h, w = frames[0].shape
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode())
        chroma = bytes([128]) * ((w // 2) * (h // 2))
        for f in frames:
            fh.write(b"FRAME\n" + f.tobytes() + chroma + chroma)


def test_live_webrtc_streams_real_faces_through_the_callback(playwright, app_url, tmp_path):
    """Fake camera from real CK+ faces -> START in the component iframe -> processed frames with a face."""
    import re

    from test_live import frame_with

    from fer_core.data.loading import load_dataset
    from fer_core.live.detect import FaceDetector
    ck = SHARED_DATA / "ckplus" / "ckplus.csv.gz"
    if not ck.exists():
        pytest.skip(f"CK+ not found at {ck}")
    detector = FaceDetector()
    faces = [img for img in load_dataset(ck).images[::25] if len(detector.detect(frame_with(img)[..., 0]))][:20]
    video = tmp_path / "faces.y4m"
    write_y4m(video, [frame_with(f)[..., 0] for f in faces for _ in range(5)])
    flags = CHROMIUM_FLAGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                              f"--use-file-for-fake-video-capture={video}"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    page.goto(app_url + "/Live")
    wait_until_idle(page)
    assert_no_exception(page, "Live")
    frame = page.frame_locator('iframe[title*="streamlit_webrtc"]').first
    frame.get_by_role("button", name=re.compile("start", re.I)).click(timeout=60000)
    deadline, frames, with_face = time.time() + 90, 0, 0
    while time.time() < deadline:
        text = page.locator('[data-testid="stMarkdownContainer"]', has_text="Processed frames").first
        if text.count():
            m = re.search(r"Processed frames: (\d+) · with a face: (\d+)", text.inner_text())
            if m:
                frames, with_face = int(m.group(1)), int(m.group(2))
                if frames >= 10 and with_face >= 5:
                    break
        time.sleep(1)
    page.screenshot(path=str(ARTIFACTS / "live-webrtc.png"), full_page=True)
    assert_no_exception(page, "Live (streaming)")
    browser.close()
    assert frames >= 10 and with_face >= 5, f"only {frames} frames processed, {with_face} with a face"


def test_relabel_20_images_with_the_keyboard_undo_reload_export_train(browser, app_url, tmp_path):
    """The Relabel done-criterion in a real browser, with the keypress -> next-image round trip measured."""
    import json
    import re
    import statistics

    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(app_url + "/Relabel")
    wait_until_idle(page)
    annotator = f"browser-{int(time.time())}"

    def sign_in():
        box = page.get_by_label("Your name (annotator)")
        box.fill(annotator)
        box.press("Enter")
        wait_until_idle(page)
        page.locator("h1").first.click()  # move focus out of the text box so keys reach the shortcuts

    def caption() -> str:
        return page.locator('[data-testid="stImageCaption"]').first.inner_text()

    sign_in()
    assert_no_exception(page, "Relabel")
    timings = []
    for i in range(20):
        before = caption().split(" ")[0]
        t = time.perf_counter()
        page.keyboard.press(str((i % 9) + 1))
        page.wait_for_function(
            "prev => { const c = document.querySelector('[data-testid=\"stImageCaption\"]');"
            " return c && !c.innerText.startsWith(prev + ' '); }", arg=before, timeout=15000)
        timings.append(1000 * (time.perf_counter() - t))
        wait_until_idle(page, 30)
    page.keyboard.press("u")
    wait_until_idle(page)
    assert_no_exception(page, "Relabel after labelling")
    page.reload()
    wait_until_idle(page)
    sign_in()
    page.get_by_role("tab", name="Progress").click()
    metric = page.locator('[data-testid="stMetric"]', has_text="Labelled by you").first
    assert re.search(r"\b19\b", metric.inner_text()), metric.inner_text()
    page.get_by_role("tab", name="Export / import").click()
    export_dir = tmp_path / "export"
    page.get_by_label("Export folder").fill(str(export_dir))
    page.get_by_label("Export folder").press("Enter")
    wait_until_idle(page)
    page.get_by_text(f"only {annotator}'s").click()
    wait_until_idle(page)
    page.get_by_role("button", name="Export FER2024 dataset").click()
    wait_until_idle(page)
    assert_no_exception(page, "Relabel export")
    page.screenshot(path=str(ARTIFACTS / "relabel.png"), full_page=True)
    page.close()
    csv = next(export_dir.glob("*.csv"))
    from fer_core.data.loading import load_dataset
    exported = load_dataset(csv)
    assert len(exported) == 19 and exported.scheme == "fer2024"
    from fer_core.training.config import TrainConfig
    from fer_core.training.lifecycle import train
    split = exported.split_names[0]
    run = train(TrainConfig(architecture="cnn004", data=str(csv), scheme="fer2024", epochs=1, batch_size=8,
                            train_split=split, val_split=split, test_split=split), out_root=tmp_path / "runs")
    assert (run / "model.keras").exists()
    report = {"keypress_to_next_image_ms": {"median": statistics.median(timings), "max": max(timings),
                                            "all": [round(t, 1) for t in timings]}}
    (ARTIFACTS / "relabel_roundtrip.json").write_text(json.dumps(report, indent=2))
    print(f"keypress -> next image: median {statistics.median(timings):.0f} ms, max {max(timings):.0f} ms")
