"""A first load shows a progress bar on the page; the cached load after it replays nothing and raises nothing."""
import itertools

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import write_fer_csv

pytestmark = pytest.mark.app  # layer (the folder says the subject)

SCRIPT = """
from fer_core.app import ui
ds = ui.load({path!r})
import streamlit as st
st.write(f"rows {{len(ds)}}")
"""


def test_a_first_load_draws_a_rising_bar_and_the_cached_load_after_it_still_works(tmp_path, monkeypatch):
    from streamlit.elements.progress import ProgressMixin

    import fer_core.data.csv_format as csv_format
    import fer_core.data.load_progress as load_progress
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(csv_format, "CHUNK_ROWS", 50)  # several chunks from a small file
    clock = itertools.count(step=1.0)
    monkeypatch.setattr(load_progress.time, "monotonic", lambda: next(clock))  # no report is throttled away
    drawn = []
    original = ProgressMixin.progress
    monkeypatch.setattr(ProgressMixin, "progress", lambda self, value, text=None: (drawn.append(value),
                                                                                   original(self, value, text))[1])
    images = np.random.default_rng(0).integers(0, 256, (400, 48, 48), np.uint8)
    path = write_fer_csv(tmp_path / "fer.csv", images, np.arange(400) % 7, ["Training"] * 400)
    (tmp_path / "page.py").write_text(SCRIPT.format(path=str(path)))
    at = AppTest.from_file(str(tmp_path / "page.py"), default_timeout=60)
    at.run()
    assert not at.exception and at.markdown[0].value == "rows 400"
    assert len(drawn) >= 4 and drawn == sorted(drawn) and drawn[-1] == 1.0
    first = len(drawn)
    at.run()  # Streamlit's cache hit: the bar must not have been recorded for replay
    assert not at.exception and at.markdown[0].value == "rows 400" and len(drawn) == first
