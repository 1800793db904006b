"""fer_core.FER, the one inference path: inputs of every kind, batches, videos, the bundled default model and
exported files, on real FER2013 faces and the repo's real face crops."""
import hashlib
import json

import cv2
import numpy as np
import pytest

from conftest import REPO, frame_with, python_ok
from fer_core.errors import DataError, RunError

pytestmark = pytest.mark.training  # layer (the folder says the subject)


@pytest.fixture(scope="module")
def fer():
    from fer_core import FER
    return FER()


@pytest.fixture(scope="module")
def private_test():
    from conftest import SHARED_DATA
    from fer_core.data.loading import load_dataset
    path = SHARED_DATA / "fer2013.csv.gz"
    if not path.exists():
        pytest.skip(f"FER2013 not found at {path}")
    ds = load_dataset(path)
    keep = ds.splits == "PrivateTest"
    return ds.images[keep], ds.labels[keep]


def test_import_is_light_and_the_default_model_runs_without_tensorflow():
    code = ("import sys, fer_core; assert 'tensorflow' not in sys.modules and 'onnxruntime' not in sys.modules;"
            "import numpy as np; f = fer_core.FER(detector=None); p = f.classify(np.zeros((2, 48, 48), np.uint8));"
            "assert p.shape == (2, 7) and f.model.name == 'onnx', f;"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF was imported'")
    python_ok(code, timeout=120)


def test_bundled_default_is_the_checkout_default_and_small():
    from fer_core.api import BUNDLED
    pointer = (REPO / "models" / "default_run.txt").read_text().strip()
    run_dir = REPO / "models" / pointer
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(BUNDLED / "model.keras") == digest(run_dir / "model.keras")
    assert json.loads((BUNDLED / "model.onnx.json").read_text())["keras_sha256"] == digest(run_dir / "model.keras")
    assert sum(p.stat().st_size for p in BUNDLED.iterdir()) <= 5 * 1024**2
    assert json.loads((BUNDLED / "config.json").read_text()) == json.loads((run_dir / "config.json").read_text())


def test_every_input_kind_gives_the_same_faces(fer, real_faces, tmp_path):
    from PIL import Image
    frame = frame_with(real_faces[0])
    path = tmp_path / "face.png"
    cv2.imwrite(str(path), frame)
    first = fer.detect_emotions(frame)
    assert len(first) == 1
    face = first[0]
    assert face.top in fer.class_names and face.score == max(face.emotions.values())
    assert abs(sum(face.emotions.values()) - 1) < 1e-4 and face.eyes is not None
    x, y, w, h = face.box
    assert 180 < x + w / 2 < 460 and 100 < y + h / 2 < 380  # the face pasted at (220, 140), 200 px
    for other in (path, str(path), path.read_bytes(), frame[..., ::-1].copy(), Image.open(path), frame[..., 0]):
        color = "rgb" if isinstance(other, np.ndarray) and other.ndim == 3 and not np.shares_memory(other, frame) else "bgr"
        got = fer.detect_emotions(other, color=color)
        assert len(got) == 1 and got[0].box == face.box and got[0].top == face.top
        assert max(abs(got[0].emotions[k] - v) for k, v in face.emotions.items()) < 1e-5
    assert fer.detect_emotions(frame)[0] == face  # stateless: no smoothing across calls
    assert fer.detect_emotions(np.full((480, 640, 3), 90, np.uint8)) == []
    assert face.to_dict()["box"] == face.box


def test_predict_batch_matches_one_by_one(fer, real_faces):
    frames = [frame_with(f) for f in real_faces[:4]] + [np.full((240, 320, 3), 200, np.uint8)]
    batch = fer.predict_batch(frames)
    assert [len(b) for b in batch] == [1, 1, 1, 1, 0]
    for frame, faces in zip(frames, batch):
        one = fer.detect_emotions(frame)
        assert [f.box for f in one] == [f.box for f in faces]
        assert all(abs(a.score - b.score) < 1e-5 for a, b in zip(one, faces))
    two = frame_with(real_faces[0], at=(10, 140))  # two people in one frame
    two[140:340, 420:620] = frame_with(real_faces[1], at=(420, 140))[140:340, 420:620]
    assert len(fer.detect_emotions(two)) == 2


def test_face_crops_give_the_default_models_recorded_accuracy(private_test):
    """detector=None takes each input as a face crop: the 3,589 PrivateTest images score exactly what the run's
    metrics.json recorded (Keras at training time), through ONNX Runtime, Keras and predict_batch alike."""
    from fer_core import FER
    from fer_core.api import BUNDLED
    images, labels = private_test
    recorded = json.loads((BUNDLED / "metrics.json").read_text())["test"]
    correct = round(recorded["accuracy"] * recorded["n"])
    crops = FER(detector=None)
    probs = crops.classify(images)
    assert int((probs.argmax(1) == labels).sum()) == correct
    keras = FER(detector=None, backend="keras").classify(images[:500])
    assert np.abs(keras - probs[:500]).max() < 1e-5
    records = crops.predict_batch(images[:50])
    assert [r[0].top for r in records] == [crops.class_names[k] for k in probs[:50].argmax(1)]
    assert records[0][0].box == (0, 0, 48, 48)
    listed = crops.predict_batch([images[i] for i in range(5)])  # a list of arrays: each converted, same result
    assert [r[0].top for r in listed] == [r[0].top for r in records[:5]]
    with pytest.raises(DataError, match="n x 48 x 48"):
        crops.classify(np.zeros((3, 40, 40), np.uint8))


def test_analyze_video_tracks_faces_without_smoothing(fer, real_faces, tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    frames = [frame_with(real_faces[1 + 2 * (i % 2)], at=(200 + 5 * i, 140)) for i in range(8)]  # one person, turning
    for f in frames:
        writer.write(f)
    writer.release()
    table = fer.analyze_video(path)
    assert list(table.columns[:9]) == ["frame", "time_s", "face", "x", "y", "w", "h", "label", "confidence"]
    assert set(table["frame"]) == set(range(8)) and table["face"].nunique() == 1  # one person, one track id
    assert np.allclose(table["time_s"], table["frame"] / 10)
    decoded = cv2.VideoCapture(str(path))
    ok, first = decoded.read()
    one = fer.detect_emotions(first)[0]
    row = table.iloc[0]
    assert abs(row[one.top] - one.score) < 1e-5  # unsmoothed: the same numbers as a still
    every3 = fer.analyze_video(path, every_nth=3)
    assert set(every3["frame"]) == {0, 3, 6}
    with pytest.raises(DataError, match="file not found"):
        fer.analyze_video(tmp_path / "missing.mp4")
    cv2.imwrite(str(tmp_path / "still.png"), frames[0])
    (tmp_path / "fake.mp4").write_bytes((tmp_path / "still.png").read_bytes())
    with pytest.raises(DataError, match="still image"):
        fer.analyze_video(tmp_path / "fake.mp4")


def test_models_are_named_by_folder_name_or_exported_file(tmp_path, two_runs):
    from fer_core import FER
    by_folder = FER(two_runs[0], detector=None)
    by_id = FER(two_runs[0].name, detector=None)  # a run id under models/
    assert by_folder.model_id == by_id.model_id == two_runs[0].name
    with pytest.raises(RunError, match="no such model"):
        FER(tmp_path / "missing-run")


@pytest.mark.parametrize("fmt, fp16, tolerance", [("onnx", False, 1e-4), ("onnx", True, 5e-3),
                                                  ("tflite", False, 1e-4), ("tflite", True, 5e-3)])
def test_exports_match_keras_on_1000_private_test_faces(private_test, tmp_path, fmt, fp16, tolerance):
    from fer_core import FER
    from fer_core.api import BUNDLED
    from fer_core.inference.export import export_run
    from fer_core.models.predict import predict_probs
    from fer_core.runs.loader import load_model
    from fer_core.runs.run import Run
    images, labels = private_test[0][:1000], private_test[1][:1000]
    run = Run.load(BUNDLED)
    path = export_run(run, fmt, out=tmp_path / f"m{'-fp16' if fp16 else ''}.{fmt}", fp16=fp16)
    meta = json.loads((tmp_path / f"{path.name}.json").read_text())
    assert meta["class_names"] == run.class_names and meta["fp16"] == fp16
    exported = FER(path, detector=None)
    assert exported.model.name == fmt and exported.class_names == run.class_names
    reference = predict_probs(load_model(run), images)
    got = exported.classify(images)
    assert np.abs(got - reference).max() <= tolerance
    assert (got.argmax(1) == labels).sum() == (reference.argmax(1) == labels).sum()
    if fmt == "onnx":
        import onnx
        props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
        assert json.loads(props["fer_studio"])["class_names"] == run.class_names
        (tmp_path / f"{path.name}.json").unlink()  # the ONNX file carries its own metadata
        assert FER(path, detector=None).class_names == run.class_names


def test_savedmodel_export_and_bad_requests(tmp_path, two_runs):
    import tensorflow as tf

    from fer_core.errors import ConfigError
    from fer_core.inference.export import export_run
    from fer_core.runs.loader import load_model
    out = export_run(two_runs[0], "savedmodel", out=tmp_path / "sm")
    assert json.loads((out / "assets" / "fer_studio.json").read_text())["run_id"] == two_runs[0].name
    x = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1)).astype(np.float32)
    loaded = tf.saved_model.load(str(out))
    assert np.abs(np.asarray(loaded.serve(x)) - np.asarray(load_model(two_runs[0]).predict(x, verbose=0))).max() < 1e-5
    with pytest.raises(ConfigError, match="fp16 is for onnx and tflite"):
        export_run(two_runs[0], "savedmodel", fp16=True)
    with pytest.raises(ConfigError, match="should end in .onnx"):
        export_run(two_runs[0], "onnx", out=tmp_path / "model.bin")
    (tmp_path / "lonely.tflite").write_bytes(b"not a model")
    from fer_core import FER
    with pytest.raises(RunError, match="class names"):
        FER(tmp_path / "lonely.tflite")
