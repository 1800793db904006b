"""AppTest for Live: webrtc_streamer is patched (it cannot run under AppTest) and its callback driven directly."""
import av
import cv2
import pytest
import streamlit_webrtc
from streamlit.testing.v1 import AppTest

from conftest import REPO, frame_with

LIVE = str(REPO / "pages" / "5_Live.py")


@pytest.fixture
def patched_webrtc(monkeypatch):
    calls = []
    monkeypatch.setattr(streamlit_webrtc, "webrtc_streamer", lambda **kw: calls.append(kw))
    return calls


def test_live_page_wires_the_callback_and_shows_processed_frames(two_runs, ck_faces, patched_webrtc):  # noqa: F811
    at = AppTest.from_file(LIVE, default_timeout=120)
    at.run()
    assert not at.exception
    kwargs = patched_webrtc[-1]
    assert kwargs["rtc_configuration"] == {"iceServers": []}
    for face in ck_faces[:3]:
        kwargs["video_frame_callback"](av.VideoFrame.from_ndarray(frame_with(face), format="bgr24"))
    at.run()
    assert any("Processed frames: **3**" in m.value for m in at.markdown)
    assert any(m.value.startswith("Face #") for m in at.markdown)


def test_live_page_image_upload_annotates_faces(two_runs, ck_faces, patched_webrtc):  # noqa: F811
    at = AppTest.from_file(LIVE, default_timeout=120)
    at.run()
    ok, png = cv2.imencode(".png", frame_with(ck_faces[0]))
    at.file_uploader(key="image_upload").upload("face.png", png.tobytes(), "image/png").run()
    assert not at.exception
    assert any("1 face(s)" in str(i.proto) for i in at.get("image"))
    table = at.dataframe[0].value
    assert len(table) == 1 and table["confidence"].iloc[0] > 0


def test_live_page_bad_upload_and_video(two_runs, ck_faces, patched_webrtc, tmp_path):  # noqa: F811
    at = AppTest.from_file(LIVE, default_timeout=120)
    at.run()
    at.file_uploader(key="image_upload").upload("x.png", b"not an image", "image/png").run()
    assert not at.exception and any("not a readable image" in e.value for e in at.error)
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for face in ck_faces[:4]:
        writer.write(frame_with(face))
    writer.release()
    at.file_uploader(key="video_upload").upload("clip.avi", path.read_bytes(), "video/x-msvideo").run()
    at.button[0].click().run()
    assert not at.exception
    assert at.get("download_button")
