"""StreamFaceDetector: the full detector every few frames, each known face's neighbourhood between."""
import cv2
import numpy as np
import pytest

from fer_core.live.detect import DetectorSettings, FaceDetector
from fer_core.live.stream_detect import StreamFaceDetector

pytestmark = pytest.mark.unit


def scene(faces, places, size=110):
    frame = np.full((480, 640, 3), 120, np.uint8)
    for face, (x, y) in zip(faces, places):
        frame[y:y + size, x:x + size] = cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)[..., None]
    return frame


def moving(real_faces, n, people=3, step=3):
    """n frames of `people` faces drifting right by `step` px a frame."""
    return [scene(real_faces[:people], [(40 + 200 * i + step * t, 120 + 60 * (i % 2)) for i in range(people)])
            for t in range(n)]


def centres(boxes):
    return sorted((int(x + w / 2), int(y + h / 2)) for x, y, w, h in boxes)


def test_between_full_scans_every_face_is_found_around_where_it_was(real_faces):
    frames = moving(real_faces, 12)
    stream, full = StreamFaceDetector(full_every=6), FaceDetector()
    for t, frame in enumerate(frames):
        got, want = centres(stream.detect(frame)), centres(full.detect(frame))
        assert len(got) == len(want) == 3, (t, got, want)
        assert all(abs(a[0] - b[0]) <= 12 and abs(a[1] - b[1]) <= 12 for a, b in zip(got, want)), (t, got, want)
    assert stream.full_scans == 2 and stream.frames == 12  # frames 0 and 6; the ten others searched 3 squares


def test_a_new_face_is_found_at_the_next_full_scan(real_faces):
    stream = StreamFaceDetector(full_every=4)
    two = scene(real_faces[:2], [(40, 120), (240, 180)])
    three = scene(real_faces[:3], [(40, 120), (240, 180), (440, 120)])
    assert len(stream.detect(two)) == 2
    counts = [len(stream.detect(three)) for _ in range(4)]
    assert counts == [2, 2, 2, 3]  # frames 1-3 look only around the two known faces; frame 4 is a full scan


def test_a_face_lost_in_its_square_brings_the_full_scan_forward(real_faces):
    stream = StreamFaceDetector(full_every=10)
    stream.detect(scene(real_faces[:2], [(40, 120), (240, 180)]))
    jumped = scene(real_faces[:2], [(40, 120), (480, 300)])  # the second face moved far from its square
    assert len(stream.detect(jumped)) == 1
    assert stream.full_scans == 1
    assert len(stream.detect(jumped)) == 2 and stream.full_scans == 2


def test_new_settings_start_from_a_full_scan_and_haar_scans_every_frame(real_faces):
    stream = StreamFaceDetector(full_every=10)
    frame = scene(real_faces[:2], [(40, 120), (240, 180)])
    stream.detect(frame)
    stream.detect(frame)
    assert stream.full_scans == 1
    stream.settings = DetectorSettings(score_threshold=0.6)
    stream.detect(frame)
    assert stream.full_scans == 2
    stream.settings = DetectorSettings(name="haar")
    for _ in range(3):
        stream.detect(frame)
    assert stream.full_scans == 2 and stream.frames == 6  # Haar: FaceDetector itself, every frame


def test_only_a_webcam_session_uses_stream_detection(two_runs):
    from fer_core.live.pipeline import LivePipeline, LiveSession
    pipe = LivePipeline(two_runs[0])
    assert isinstance(pipe.fer.detector, FaceDetector)  # stills and uploaded videos: the full detector
    session = LiveSession(LivePipeline(two_runs[0]))
    assert isinstance(session.pipeline.fer.detector, StreamFaceDetector)


def test_a_still_without_a_face_says_what_to_try(two_runs):
    """annotate_image's advice used to read a missing attribute (pipeline.detector) and crash the page."""
    from fer_core.live.pipeline import LivePipeline
    from fer_core.live.video import annotate_image
    out, rows, note = annotate_image(LivePipeline(two_runs[0]), np.full((300, 400, 3), 90, np.uint8))
    assert rows == [] and "No face found" in note and "Min face score" in note


def test_a_stream_goes_on_while_grad_cam_compiles_and_the_graph_is_traced_once(two_runs, real_faces, monkeypatch):
    import threading
    from dataclasses import replace

    from fer_core.live.pipeline import LivePipeline, LiveSession
    go, warm = threading.Event(), LivePipeline._warm_explainer
    monkeypatch.setattr(LivePipeline, "_warm_explainer", lambda self: (go.wait(300), warm(self)))
    session = LiveSession(LivePipeline(two_runs[0]))  # the compile starts here, on its own thread
    pipe = session.pipeline
    pipe.settings = replace(pipe.settings, overlay="Grad-CAM", show_timings=False)
    frame = scene(real_faces[:1], [(200, 150)], size=160)
    out, results, timings = pipe.process(frame)  # still compiling: the frame goes on without the overlay
    assert len(results) == 1 and timings["overlay"] == 0.0 and not pipe.explanations_ready()
    go.set()
    pipe._warming.join(timeout=300)
    assert pipe.explanations_ready()
    _, _, timings = pipe.process(frame)
    assert timings["overlay"] > 0.0
    three = scene(real_faces[:3], [(40, 120), (240, 180), (440, 120)])
    assert [len(pipe.process(three)[1]) for _ in range(6)][-1] == 3  # new faces: by the next full scan
    assert pipe.explainer._gradcam_batch.experimental_get_tracing_count() == 1  # 1 face, then 3: one graph
