"""AppTest for Live: webrtc_streamer is patched (it cannot run under AppTest) and its callback driven directly."""
from types import SimpleNamespace

import av
import cv2
import pytest
import streamlit_webrtc
from streamlit.testing.v1 import AppTest

from conftest import REPO, frame_with

pytestmark = pytest.mark.app  # layer (the folder says the subject)

LIVE = str(REPO / "app_pages" / "5_Live.py")


class FakeStreamer:
    """Stands in for webrtc_streamer: records its arguments and says whether the stream plays."""

    def __init__(self):
        self.calls, self.playing = [], True

    def __call__(self, **kw):
        self.calls.append(kw)
        return SimpleNamespace(state=SimpleNamespace(playing=self.playing))


@pytest.fixture
def patched_webrtc(monkeypatch):
    streamer = FakeStreamer()
    monkeypatch.setattr(streamlit_webrtc, "webrtc_streamer", streamer)
    return streamer


def _send(kwargs, frames):
    """Drive the queued callback as streamlit-webrtc's worker thread does."""
    import asyncio
    return asyncio.run(kwargs["queued_video_frames_callback"](frames))


def test_live_page_wires_the_callback_and_shows_processed_frames(shipped_run, real_faces, patched_webrtc):  # noqa: F811
    at = AppTest.from_file(LIVE, default_timeout=120)
    at.run()
    assert not at.exception
    kwargs = patched_webrtc.calls[-1]
    assert kwargs["rtc_configuration"] == {"iceServers": []}
    for face in real_faces[:3]:
        _send(kwargs, [av.VideoFrame.from_ndarray(frame_with(face), format="bgr24")])
    frames = [av.VideoFrame.from_ndarray(frame_with(real_faces[3]), format="bgr24")] * 2  # one skipped
    assert len(_send(kwargs, frames)) == 1
    at.run()
    assert any("Processed frames: **4** of **5** received" in m.value for m in at.markdown)
    table = next(m.value for m in at.markdown if m.value.startswith("| face | emotion | top 3 |"))
    rows = table.splitlines()[2:]
    assert len(rows) == 1 and rows[0].startswith("| #") and rows[0].count("%") == 4  # score + top 3
    assert any("processed fps" in c.value for c in at.caption)
    # how many streams the server carries: a caption, or inside the dropped-frames warning (a frame was skipped)
    assert any("on this server (at most 3, FER_LIVE_MAX_STREAMS)" in c.value for c in [*at.caption, *at.warning])
    # STOP: the last stream's numbers are cleared, not left on screen
    patched_webrtc.playing = False
    at.run()
    assert not any("Processed frames" in m.value for m in at.markdown)
    assert not any(m.value.startswith("| face |") for m in at.markdown)
    assert any("Press START" in c.value for c in at.caption)


def test_live_page_says_when_the_model_has_no_cbam_layers(shipped_run, patched_webrtc):  # noqa: F811
    at = AppTest.from_file(LIVE, default_timeout=120)
    at.run()
    at.sidebar.selectbox[1].select("CBAM attention").run()
    assert not at.exception
    assert any("no CBAM layers" in i.value for i in at.info)


def test_live_page_image_upload_annotates_faces(shipped_run, real_faces, patched_webrtc):  # noqa: F811
    at = AppTest.from_file(LIVE, default_timeout=120)
    at.run()
    ok, png = cv2.imencode(".png", frame_with(real_faces[0]))
    at.file_uploader(key="image_upload").upload("face.png", png.tobytes(), "image/png").run()
    assert not at.exception
    assert any("1 face(s)" in str(i.proto) for i in at.get("image"))
    table = next(d.value for d in at.dataframe if "confidence" in d.value)  # the default run's card has a table too
    assert len(table) == 1 and table["confidence"].iloc[0] > 0


def test_live_page_bad_upload_and_video(shipped_run, real_faces, patched_webrtc, tmp_path):  # noqa: F811
    at = AppTest.from_file(LIVE, default_timeout=120)
    at.run()
    at.file_uploader(key="image_upload").upload("x.png", b"not an image", "image/png").run()
    assert not at.exception and any("not a readable image" in e.value for e in at.error)
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for face in real_faces[:4]:
        writer.write(frame_with(face))
    writer.release()
    at.file_uploader(key="video_upload").upload("clip.avi", path.read_bytes(), "video/x-msvideo").run()
    at.button[0].click().run()
    assert not at.exception
    assert at.get("download_button")


def test_live_page_refuses_a_decompression_bomb_before_decoding_it(shipped_run, patched_webrtc):  # noqa: F811
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new("L", (20000, 20000)).save(buf, "PNG")  # ~0.4 MB on disk, 400 MP decoded
    at = AppTest.from_file(LIVE, default_timeout=120)
    at.run()
    at.file_uploader(key="image_upload").upload("bomb.png", buf.getvalue(), "image/png").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "over 170 MP" in errors and "40 MP" in errors and "bomb.png" in errors


def test_export_panel_writes_and_offers_the_onnx_file(shipped_run, patched_webrtc):
    at = AppTest.from_file(LIVE, default_timeout=180)
    at.run()
    assert not at.exception
    at.selectbox(key="live_export_format").set_value("ONNX (.onnx)")
    at.button(key="live_export_go").click()
    at.run()
    assert not at.exception and not at.error
    run_id = at.sidebar.selectbox[0].value
    assert run_id == shipped_run.name
    exported = shipped_run / "exports" / "model.onnx"
    assert exported.exists() and (exported.parent / "model.onnx.json").exists()
    assert any("from fer_core import FER" in c.value for c in at.code)
