"""Live pipeline on real faces (tests/fixtures/faces) pasted into 640x480 frames, through the WebRTC frame callback."""
import av
import cv2
import numpy as np
import pytest

from conftest import frame_with
from fer_core.errors import DataError
from fer_core.live.pipeline import LivePipeline, LiveSession, LiveSettings
from fer_core.live.tracking import Tracker, iou

pytestmark = pytest.mark.training  # layer (the folder says the subject)


def test_callback_detects_and_classifies_real_faces(two_runs, real_faces):
    session = LiveSession(LivePipeline(two_runs[0]))
    for face in real_faces:
        out = session.callback(av.VideoFrame.from_ndarray(frame_with(face), format="bgr24"))
        assert out.to_ndarray(format="bgr24").shape == (480, 640, 3)
    snap = session.snapshot()
    assert snap["error"] is None
    assert snap["frames"] == snap["received"] == len(real_faces) and snap["frames_with_face"] >= len(real_faces) - 1
    track, label, conf, probs = snap["faces"][0]
    assert label in session.pipeline.class_names and abs(sum(probs) - 1) < 1e-3
    assert set(snap["timings"]) >= {"detect", "classify", "draw", "overlay", "fps", "received_fps"}
    session.ended()  # STOP clears what the page shows
    assert session.snapshot()["frames"] == 0 and session.snapshot()["faces"] == []


@pytest.mark.parametrize("overlay", ["Grad-CAM", "Grad-CAM++"])
def test_overlays_change_the_face_region(two_runs, real_faces, overlay):
    pipe = LivePipeline(two_runs[0], LiveSettings(show_timings=False))
    frame = frame_with(real_faces[0])
    plain, results, _ = pipe.process(frame)
    assert results
    pipe.settings.overlay = overlay
    with_overlay, _, timings = pipe.process(frame)
    x, y, w, h = results[0].box
    assert timings["overlay"] > 0
    assert np.abs(with_overlay[y + 10:y + h - 10, x + 10:x + w - 10].astype(int)
                  - plain[y + 10:y + h - 10, x + 10:x + w - 10]).mean() > 1


def test_gradcam_covers_every_face_and_gradcam_pp_the_chosen_one(two_runs, real_faces):
    pipe = LivePipeline(two_runs[0], LiveSettings(show_timings=False, smoothing=1.0))
    frame = frame_with(real_faces[0], at=(10, 140))  # two people
    frame[140:340, 420:620] = frame_with(real_faces[1], at=(420, 140))[140:340, 420:620]
    plain, results, _ = pipe.process(frame)
    assert len(results) == 2

    def changed(img, r):
        x, y, w, h = r.box
        return np.abs(img[y + 10:y + h - 10, x + 10:x + w - 10].astype(int)
                      - plain[y + 10:y + h - 10, x + 10:x + w - 10]).mean() > 1
    pipe.settings.overlay = "Grad-CAM"
    out, results, _ = pipe.process(frame)
    assert all(changed(out, r) for r in results)
    pipe.settings.overlay = "Grad-CAM++"  # compiled: every face too
    out, results, _ = pipe.process(frame)
    assert all(changed(out, r) for r in results)
    pipe.explainer._gradcam_pp = pipe.explainer.head = None  # a head tf-keras-vis must explain: only the chosen face
    pipe.settings.explain_track = results[1].track_id
    out, results, _ = pipe.process(frame)
    assert [changed(out, r) for r in results] == [False, True]


def test_a_stream_classifies_and_explains_in_one_onnx_pass(real_faces, monkeypatch):
    """The shipped model on a webcam stream: the explainer's forward pass (ONNX Runtime, exported to the cache
    once) gives the probabilities too, so the classifier is not called again; the labels are the classifier's."""
    import time

    from fer_core.inference.bundle import BUNDLED
    pipe = LivePipeline(str(BUNDLED), LiveSettings(show_timings=False, smoothing=1.0, full_scan_every=1))
    pipe.stream_mode()
    deadline = time.time() + 300
    while not pipe.explanations_ready() and time.time() < deadline:
        time.sleep(0.2)
    assert pipe.explainer._onnx is not None, "Grad-CAM's forward pass is not on ONNX Runtime"
    frame = frame_with(real_faces[0], at=(10, 140))
    frame[140:340, 420:620] = frame_with(real_faces[1], at=(420, 140))[140:340, 420:620]
    plain, before, _ = pipe.process(frame)
    assert len(before) == 2
    calls = []
    classifier = pipe.fer.model.predict_proba
    monkeypatch.setattr(pipe.fer.model, "predict_proba", lambda faces: calls.append(len(faces)) or classifier(faces))
    pipe.settings.overlay = "Grad-CAM"
    out, after, timings = pipe.process(frame)
    assert calls == [] and timings["overlay"] > 0
    for a, b in zip(before, after):
        assert a.label == b.label and np.abs(a.probs - b.probs).max() < 1e-4
        x, y, w, h = b.box
        assert np.abs(out[y + 10:y + h - 10, x + 10:x + w - 10].astype(int)
                      - plain[y + 10:y + h - 10, x + 10:x + w - 10]).mean() > 1  # every face's heat map drawn


def test_gradcam_for_many_faces_in_one_pass_equals_one_by_one(two_runs, real_faces):
    from fer_core.explain.overlays import Explainer
    from fer_core.runs.loader import load_model
    explainer = Explainer(load_model(two_runs[0]))
    faces, classes = real_faces[:3], [0, 3, 6]
    many = explainer.gradcam_many(faces, classes)
    for face, cls, cam in zip(faces, classes, many):
        assert np.abs(cam - explainer.gradcam(face, cls)).max() < 1e-4


def test_one_forward_pass_explains_as_the_gradients_do(two_runs, real_faces, tmp_path):
    """Pooled softmax heads: Grad-CAM and Grad-CAM++ in closed form from one forward pass (TensorFlow or ONNX
    Runtime) equal the autodiff passes, on the shipped model and on a ResNet-18; a head with dense layers between
    (cnn004's) keeps the gradients."""
    from fer_core.explain.overlays import Explainer
    from fer_core.inference.bundle import BUNDLED
    from fer_core.models.registry import build_model
    from fer_core.runs.loader import load_model
    assert Explainer(load_model(two_runs[0])).head is None
    faces = np.stack([cv2.resize(f, (48, 48)) for f in real_faces[:4]])
    classes = [0, 3, 6, 3]
    for source, model in (("shipped", load_model(BUNDLED)), ("resnet18", build_model("resnet18", 7))):
        explainer = Explainer(model)
        assert explainer.head is not None and explainer.fast_gradcam_pp
        grad = explainer._batched(explainer._gradcam_batch, faces, classes)
        grad_pp = explainer._batched(explainer._gradcam_pp, faces, classes)
        for onnx in (False, True):
            if onnx:
                explainer.export_features(tmp_path / "features.onnx")
                explainer.use_onnx(tmp_path / "features.onnx")
            for mine, theirs in ((explainer.gradcam_many(faces, classes), grad),
                                 (explainer.gradcam_pp_many(faces, classes), grad_pp)):
                for a, b in zip(mine, theirs):
                    assert a.shape == b.shape and np.abs(a - b).max() < 1e-3, (source, onnx)
                # maps, not empty ones agreeing with empty ones (a class with no evidence may have none)
                assert sum(a.max() > 0 for a in mine) >= 3, (source, onnx)
        assert np.abs(explainer.gradcam(faces[1], 3) - grad[1]).max() < 1e-3


def test_compiled_gradcam_pp_agrees_with_tf_keras_vis(real_faces):
    """On the shipped default model (a tiny 3-epoch test run's maps are too noisy to compare: 0.93-0.99 run to run)."""
    from fer_core.explain.overlays import Explainer
    from fer_core.inference.bundle import BUNDLED
    from fer_core.runs.loader import load_model
    explainer = Explainer(load_model(BUNDLED))
    assert explainer.fast_gradcam_pp
    fast = explainer.gradcam_pp_many(real_faces[:3], [0, 3, 6])
    explainer._gradcam_pp = explainer.head = None
    for face, cls, cam in zip(real_faces[:3], [0, 3, 6], fast):
        reference = explainer.gradcam_plus_plus(face, cls)  # tf-keras-vis, upsampled to the input
        up = cv2.resize(cam.astype(np.float32), reference.shape[::-1], interpolation=cv2.INTER_LINEAR)
        assert np.corrcoef(up.ravel(), reference.ravel())[0, 1] > 0.95


def test_cbam_attention_overlay_on_a_cbam_model(tmp_path, real_faces):
    from fer_core.training.config import TrainConfig
    from fer_core.training.lifecycle import train
    run = train(TrainConfig(architecture="cbam5cnn", data="demo", epochs=1, batch_size=16, max_train_images=32,
                            max_steps_per_epoch=1), out_root=tmp_path)
    pipe = LivePipeline(run, LiveSettings(overlay="CBAM attention", show_timings=False))
    heat = pipe.explainer.cbam_attention(cv2.resize(real_faces[0], (48, 48)))
    assert heat.shape == (48, 48) and 0 <= heat.min() and heat.max() <= 1
    _, results, timings = pipe.process(frame_with(real_faces[0]))
    assert results and timings["overlay"] > 0


def test_tracker_smooths_and_keeps_identity():
    tr = Tracker(alpha=0.5)
    a = tr.update(np.array([[100, 100, 50, 50]]), np.array([[1.0, 0.0]]))[0]
    b = tr.update(np.array([[104, 102, 50, 50]]), np.array([[0.0, 1.0]]))[0]
    assert a.id == b.id and np.allclose(b.probs, [0.5, 0.5])
    c = tr.update(np.array([[400, 300, 50, 50]]), np.array([[0.0, 1.0]]))[0]
    assert c.id != a.id
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)


def test_no_face_frame_is_passed_through(two_runs):
    session = LiveSession(LivePipeline(two_runs[0]))
    session.callback(av.VideoFrame.from_ndarray(np.full((480, 640, 3), 30, np.uint8), format="bgr24"))
    snap = session.snapshot()
    assert snap["frames"] == 1 and snap["frames_with_face"] == 0 and snap["faces"] == []


def test_video_processing_writes_per_frame_rows(two_runs, real_faces, tmp_path):
    from fer_core.live.video import process_video
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for face in real_faces[:6]:
        writer.write(frame_with(face))
    writer.release()
    result = process_video(str(path), LivePipeline(two_runs[0]))
    table = result.table
    assert not result.cut and abs(result.seconds_analysed - 0.6) < 1e-6
    cut = process_video(str(path), LivePipeline(two_runs[0]), max_seconds=0.3, name="holiday.avi")
    assert cut.cut and cut.table["frame"].max() <= 2
    with pytest.raises(DataError) as err:
        process_video(str(tmp_path / "x.avi"), LivePipeline(two_runs[0]), name="holiday.avi")
    assert err.value.path == "holiday.avi"  # the upload's own name, never the server's temp file
    from fer_core.live.video import VideoResult
    assert VideoResult(table, 2.0, 10.0, False).ended_early and not VideoResult(table, 9.8, 10.0, False).ended_early
    assert len(table) >= 5 and set(table["frame"]) <= set(range(6))
    assert np.allclose(table.iloc[:, 9:].sum(axis=1), 1, atol=1e-3)
    assert (table[["w", "h"]] > 0).all().all()  # every row has its face's box


@pytest.mark.parametrize("backend", ["keras", "onnx"])
def test_classifier_matches_keras_predict_for_every_padded_size(two_runs, real_faces, backend):
    from fer_core.api import FER
    from fer_core.runs.loader import load_model
    fer = FER(two_runs[0], detector=None, backend=backend)
    assert fer.model.name == backend
    model = load_model(two_runs[0])
    for n in (1, 3, 9, 300):  # padded to 1, 4, 16 (compiled call); 300 crosses the 256 chunk
        faces = np.stack([real_faces[i % len(real_faces)] for i in range(n)])
        expected = np.asarray(model.predict(faces[..., None].astype(np.float32), verbose=0))
        got = fer.classify(faces)
        assert got.shape == expected.shape and np.abs(got - expected).max() < 1e-5
