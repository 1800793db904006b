"""Live parts without a model: tracking through a slow pan, text inside small frames, moving medians, runtime."""
import tomllib

import numpy as np
import pytest

from conftest import REPO
from fer_core.live.draw import draw_face, draw_timings
from fer_core.live.stats import MovingStats
from fer_core.live.tracking import Tracker

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


def test_a_slowly_panning_face_keeps_its_id_through_jitter_and_missed_frames():
    tr = Tracker(alpha=0.5)
    rng = np.random.default_rng(0)
    ids = set()
    for i in range(120):
        if i % 17 in (5, 6, 7):  # the detector misses it for a few frames now and then
            tr.update(np.zeros((0, 4), int), np.zeros((0, 2)))
            continue
        x = 40 + 3 * i + rng.integers(-6, 7)  # pans right, 3 px per processed frame, with jitter
        side = 160 + rng.integers(-15, 16)  # the box size jitters too
        ids.add(tr.update(np.array([[x, 120, side, side]]), np.array([[0.5, 0.5]]))[0].id)
    assert ids == {0}


def test_two_faces_keep_their_own_ids_and_a_new_face_gets_a_new_one():
    tr = Tracker()
    a, b = tr.update(np.array([[50, 50, 100, 100], [400, 60, 100, 100]]), np.eye(2))
    b2, a2 = tr.update(np.array([[410, 62, 100, 100], [55, 52, 100, 100]]), np.eye(2))
    assert (a2.id, b2.id) == (a.id, b.id)
    far = tr.update(np.array([[230, 300, 60, 60]]), np.eye(2)[:1])[0]
    assert far.id not in (a.id, b.id)


def test_label_and_timings_text_stay_inside_small_frames():
    for w, h in ((320, 240), (640, 480)):
        frame = np.zeros((h, w, 3), np.uint8)
        draw_face(frame, (w - 60, 30, 55, 55), "surprise", 0.97, 12)  # a face at the right edge
        draw_timings(frame, 14.9, {"detect": 23.4, "classify": 5.6, "overlay": 6.1, "draw": 0.7})
        assert frame[:, -1].max() == 0, f"text clipped at the right edge of {w}x{h}"
        assert frame[:28, : w // 2].max() > 0 and frame[:30, w - 120:].max() > 0  # both texts were drawn


def test_moving_medians_ignore_one_slow_frame():
    stats = MovingStats(window=30)
    for i in range(30):
        t = i / 15 + (0.5 if i >= 20 else 0)  # 15 fps with one 0.5 s stall
        stats.add({"detect": 500.0 if i == 20 else 10.0}, received=2 if i == 20 else 1, now=t)
    assert abs(stats.fps() - 15) < 0.01 and stats.medians()["detect"] == 10.0
    assert 12 < stats.received_fps() < 16
    stats.clear()
    assert stats.fps() == 0.0


def test_streamlit_runs_leave_the_keras_session_and_skip_the_full_gc(monkeypatch):
    """Each script run (the Live status refresh too) used to clear the Keras session and gc.collect(2): 0.3-1 s
    holding the GIL, which stalled the webcam stream every second."""
    import keras
    from streamlit.runtime.scriptrunner import script_runner

    from fer_core.app.runtime import keep_keras_session
    cleared = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: cleared.append(1))
    monkeypatch.setattr(script_runner, "_clean_problem_modules", script_runner._clean_problem_modules)
    assert keep_keras_session()
    script_runner._clean_problem_modules()
    assert cleared == []
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_the_served_app_watches_no_files():
    """Streamlit's watcher watches the checkout recursively (.venv included); TensorFlow's import floods it and the
    re-walks cost the Live page a tenth of its frames. The test and bench servers read the same config as `make run`."""
    import inspect

    from fer_core.app import browser

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"
    assert "fileWatcherType" not in inspect.getsource(browser.serve_app)


def test_no_streamlit_pages_directory_beside_the_entry_point():
    """A `pages/` folder next to Home.py makes Streamlit serve a deep link (e.g. /Live) as a v1 multipage app
    without ever running Home.py: no page config, no navigation, none of its runtime settings."""
    assert not (REPO / "pages").exists()
    assert (REPO / "app_pages").is_dir()



def test_error_text_is_shown_as_typed_inside_markdown():
    """A folder layout like <root>/<class>/*.jpg or a path with _ and $ must not turn into italics or maths."""
    from fer_core.app.ui import plain
    assert plain("<root>/<class>/*.jpg, my_file_$1.csv") == r"\<root\>/\<class\>/\*.jpg, my\_file\_\$1.csv"
    assert plain("no special characters here") == "no special characters here"


def test_the_no_face_tip_names_the_chosen_detectors_own_settings():
    from types import SimpleNamespace

    from fer_core.live.video import _detector_tip
    assert "Min face score" in _detector_tip(SimpleNamespace(name="blazeface"))
    assert "Min neighbours" not in _detector_tip(SimpleNamespace(name="blazeface"))
    assert "Min neighbours" in _detector_tip(SimpleNamespace(name="haar"))


def test_stream_cap_admits_running_streams_and_refuses_new_ones(monkeypatch):
    from fer_core.live.capacity import WINDOW, Streams
    monkeypatch.setenv("FER_LIVE_MAX_STREAMS", "2")
    streams = Streams()
    assert streams.admit(1, now=0.0) and streams.admit(2, now=0.1)
    assert not streams.admit(3, now=0.2)  # a third viewer over the cap
    assert streams.admit(1, now=0.3)  # a running stream keeps its place
    assert streams.active(now=0.4) == 2
    streams.leave(2)
    assert streams.admit(3, now=0.5)
    assert streams.active(now=0.5 + WINDOW + 0.1) == 0  # a tab that vanished stops counting by itself


def test_dropped_share_compares_processed_with_received():
    from fer_core.live.pipeline import dropped_share
    assert dropped_share({"fps": 30.0, "received_fps": 30.0}) == 0.0
    assert abs(dropped_share({"fps": 15.0, "received_fps": 30.0}) - 0.5) < 1e-9
    assert dropped_share({"fps": 0.0, "received_fps": 0.0}) == 0.0
