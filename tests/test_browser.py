"""Real-browser test: Debian's Chromium (never a downloaded build) opens every page of a running app.

Fails on any exception shown on a page; saves a screenshot of each page under tests/artifacts/.
"""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, SHARED_DATA
from fer_core.pages import PAGES

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
    log = open(ARTIFACTS.parent / "streamlit-browser-test.log", "w") if ARTIFACTS.parent.exists() else subprocess.DEVNULL
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
    raise AssertionError("page still running after %.0f s" % timeout_s)


def assert_no_exception(page, name):
    exceptions = page.locator('[data-testid="stException"]')
    if exceptions.count():
        pytest.fail(f"{name}: exception shown on page:\n{exceptions.first.inner_text()}")


@pytest.fixture(scope="module")
def browser():
    sync_api = _require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.mark.parametrize("path,name", [("/", "Home")] + [("/" + Path(p.script).stem.split("_", 1)[1], p.title)
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
