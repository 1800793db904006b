"""Shared by the real-browser tests: where screenshots go, and the system Chromium or a clear failure in CI."""
import os
from pathlib import Path

import pytest

from conftest import REPO
from fer_core.app.browser import CHROMIUM

ARTIFACTS = Path(os.environ.get("FER_ARTIFACTS", REPO / "tests" / "artifacts"))


def require_browser():
    """Playwright's sync API, once Debian's Chromium is known to be there (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing in CI: .ci/run must apt-get install chromium chromium-driver")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium chromium-driver)")
    return pytest.importorskip("playwright.sync_api")
