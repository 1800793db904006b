"""`FER`: the one inference path of FER Studio — image in, faces with emotion probabilities out.

    from fer_core import FER
    fer = FER()                                  # the default model (bundled with the package), BlazeFace
    faces = fer.detect_emotions("photo.jpg")     # path, bytes, NumPy array (BGR/RGB/grey) or PIL image
    faces[0].top, faces[0].score, faces[0].emotions["happy"], faces[0].box

The Live page, Relabel's model suggestions, Compare's latency, the CLI (`predict`), the REST server and the
benches all call this class. Calls are stateless: no smoothing across calls (analyze_video can smooth per track
when asked). Face crops (e.g. FER2013's 48x48 images) are classified whole with `detector=None`.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from fer_core.errors import ConfigError, DataError, RunError
from fer_core.inference.backends import Backend, open_backend
from fer_core.inference.bundle import BUNDLED  # noqa: E402  (package data: the default run)
from fer_core.inference.images import to_bgr
from fer_core.live.detect import DETECTORS, DetectorSettings, FaceDetector, canonical, crop_faces


@dataclass
class Face:
    """One face: box (x, y, w, h) in image pixels, every class's probability, the top class and its score, and
    the eye centres (person's right, then left) when the detector finds them."""
    box: tuple[int, int, int, int]
    emotions: dict[str, float]
    top: str
    score: float
    eyes: tuple[tuple[float, float], tuple[float, float]] | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FrameFaces:
    """One frame's raw result (what the Live page tracks and explains): arrays in box order."""
    boxes: np.ndarray  # n x 4 int (x, y, w, h)
    eyes: np.ndarray | None  # n x 2 x 2, or None
    crops: np.ndarray  # n x S x S uint8, what the model saw
    probs: np.ndarray  # n x K


def default_model_path() -> Path:
    """The run models/default_run.txt names (a checkout, or FER_MODELS_DIR), else the copy shipped in the
    package; never merely the newest run, so `FER()` means the same model everywhere."""
    from fer_core.runs.store import pointed_run
    run = pointed_run()
    return run.path if run is not None else BUNDLED


def resolve_model(run) -> "Path | object":
    """None or "default" -> the default model; a Run, a run folder, a run name under models/, or an exported
    .onnx/.tflite file."""
    from fer_core.runs.run import Run
    if run is None or run == "default":
        return Run.load(default_model_path())
    if isinstance(run, Run):
        return run
    path = Path(run).expanduser()
    if path.is_file() and path.suffix.lower() in (".onnx", ".tflite"):
        return path
    if path.is_dir():
        return Run.load(path)
    from fer_core.runs.store import resolve_runs
    from fer_core.settings import models_dir
    if (models_dir() / str(run)).is_dir():
        return Run.load(models_dir() / str(run))
    try:
        return Run.load(resolve_runs([str(run)])[0])
    except RunError:
        raise RunError("no such model", path=str(run),
                       fix="name a run folder, a run name under models/, or an exported .onnx/.tflite file") from None


def _detector_settings(detector, min_face: int, align: bool) -> DetectorSettings | None:
    if detector is None or detector == "none":
        return None
    if isinstance(detector, DetectorSettings):
        return detector
    detector = canonical(detector)
    if detector not in DETECTORS:
        raise ConfigError(f"unknown face detector {detector!r}", fix=f"use one of {', '.join(DETECTORS)}, or None for face crops")
    return DetectorSettings(name=detector, min_size=min_face, align=align)


class FER:
    """Detect faces and classify their emotions with a FER Studio model.

    run: None (the default model), a run folder or name, or an exported .onnx / .tflite file.
    detector: "blazeface-cascade" (default: every face from ~48 px; short-range BlazeFace on the frame at half size
        and on MediaPipe's square, doubtful faces looked at again), "blazeface-multiscale" (three scales: a few more
        faces under 60 px, about twice the time), "blazeface" (short-range on the whole frame: faces from ~150 px,
        4-5x faster), "blazeface-full", "blazeface-multi", "haar", or None when every input is already a face crop
        (classified whole, as the model was trained). "blazeface-tiles", an old name, names the multiscale detector.
    backend: "auto" (ONNX Runtime when installed, else Keras), "onnx", "keras" or "tflite" (a .tflite file).
    """

    def __init__(self, run=None, detector: str | DetectorSettings | None = DETECTORS[0], backend: str = "auto",
                 margin: float = 0.1, min_face: int = 40, align: bool = True, threads: int | None = None):
        source = resolve_model(run)
        self.run = source if not isinstance(source, Path) else None
        self.model: Backend = open_backend(source, backend, threads)
        self.class_names = self.model.class_names
        self.margin = margin
        settings = _detector_settings(detector, min_face, align)
        self.detector = FaceDetector(settings) if settings is not None else None

    def clone(self) -> "FER":
        """A FER sharing this one's model (ONNX Runtime and Keras calls are thread-safe) with its own detector
        network, so several threads can detect at once: one clone per thread."""
        twin = object.__new__(FER)
        twin.__dict__.update(self.__dict__)
        if self.detector is not None:
            twin.detector = FaceDetector(self.detector.settings)
        return twin

    def __repr__(self) -> str:
        det = self.detector.settings.name if self.detector else None
        return f"FER(model={self.model_id!r}, backend={self.model.name!r}, detector={det!r})"

    @property
    def model_id(self) -> str:
        return self.run.id if self.run is not None else Path(self.model.source).name

    @property
    def keras_model(self):
        """The Keras model (Grad-CAM needs gradients); loaded on first use, cached per model file."""
        if self.run is None:
            raise RunError("explanations need the run folder's Keras model", path=self.model.source,
                           fix="name the run folder instead of an exported file")
        from fer_core.runs.loader import load_model
        return load_model(self.run)

    # ---- the path every caller shares: frame -> boxes -> crops -> probabilities ----

    def analyze_frame(self, frame_bgr: np.ndarray, timings: dict | None = None, classify=None) -> FrameFaces:
        """One BGR frame -> its faces as arrays (boxes, eyes, the crops the model saw, probabilities). With
        `timings`, the seconds spent detecting (incl. cropping) and classifying are stored in it. `classify`
        (crops -> probabilities) replaces the model's call: Live's explainer classifies in its own forward pass."""
        t0 = time.perf_counter()
        boxes, eyes, crops = self._locate(frame_bgr)
        t1 = time.perf_counter()
        probs = classify(crops) if classify and len(crops) else self.model.predict_proba(crops)
        if timings is not None:
            timings["detect"], timings["classify"] = t1 - t0, time.perf_counter() - t1
        return FrameFaces(boxes, eyes, crops, probs)

    def _locate(self, frame_bgr: np.ndarray):
        """(boxes, eyes or None, crops) of one frame; without a detector the whole frame is the face."""
        gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY) if frame_bgr.ndim == 3 else frame_bgr
        if self.detector is None:
            h, w = gray.shape
            return np.array([[0, 0, w, h]]), None, self.face_crop(gray)[None]
        boxes, eyes = self.detector.locate(frame_bgr)
        align = eyes is not None and self.detector.settings.align
        return boxes, eyes, crop_faces(gray, boxes, self.margin, size=self.model.input_size,
                                       eyes=eyes if align else None)

    def face_crop(self, gray: np.ndarray) -> np.ndarray:
        """A whole grey image as the model's input: resized to its side (what detector=None classifies)."""
        s = self.model.input_size
        if gray.shape == (s, s):
            return gray
        return cv2.resize(gray, (s, s), interpolation=cv2.INTER_AREA if min(gray.shape) > s else cv2.INTER_LINEAR)

    def _faces(self, ff: FrameFaces) -> list[Face]:
        names = self.class_names
        out = []
        for i, p in enumerate(ff.probs):
            eyes = None
            if ff.eyes is not None:
                (rx, ry), (lx, ly) = ff.eyes[i].tolist()
                eyes = ((round(rx, 1), round(ry, 1)), (round(lx, 1), round(ly, 1)))
            k = int(p.argmax())
            out.append(Face(tuple(int(v) for v in ff.boxes[i]), {n: float(v) for n, v in zip(names, p)},
                            names[k], float(p[k]), eyes))
        return out

    # ---- public calls ----

    def detect_emotions(self, image, color: str = "bgr") -> list[Face]:
        """Every face in one image: a path, bytes, a NumPy array (BGR by default; color="rgb"; or grey) or a PIL
        image. [] when no face is found. DataError for an unreadable or oversized image."""
        return self._faces(self.analyze_frame(to_bgr(image, color)))

    def predict_batch(self, images, color: str = "bgr") -> list[list[Face]]:
        """detect_emotions for many images, with every face of every image classified in batched model calls.
        An n x H x W uint8 array of face crops (detector=None) goes to the model as it is."""
        if self.detector is None and isinstance(images, np.ndarray) and images.ndim == 3 and images.dtype == np.uint8:
            probs = self.classify(images)
            h, w = images.shape[1:]
            return [self._faces(FrameFaces(np.array([[0, 0, w, h]]), None, images[i:i + 1], probs[i:i + 1]))
                    for i in range(len(images))]
        located = [self._locate(to_bgr(img, color)) for img in images]
        s = self.model.input_size
        crops = [c for _, _, c in located]
        probs = self.model.predict_proba(np.concatenate(crops) if crops else np.zeros((0, s, s), np.uint8))
        out, start = [], 0
        for boxes, eyes, c in located:
            out.append(self._faces(FrameFaces(boxes, eyes, c, probs[start:start + len(c)])))
            start += len(c)
        return out

    def classify(self, faces: np.ndarray) -> np.ndarray:
        """Face crops (n x S x S uint8 grey, S = 48 for the shipped models) -> n x K probabilities, batched."""
        faces = np.asarray(faces)
        s = self.model.input_size
        if faces.ndim == 4 and faces.shape[-1] == 1:
            faces = faces[..., 0]
        if faces.ndim != 3 or faces.shape[1:] != (s, s):
            raise DataError(f"face crops must be n x {s} x {s} grey images; got shape {faces.shape}",
                            fix="resize them, or use predict_batch, which crops and resizes")
        return self.model.predict_proba(faces)

    def analyze_video(self, path, every_nth: int = 1, max_seconds: float | None = None, smoothing: float = 1.0,
                      progress=None):
        """One row per face per processed frame: frame, time_s, track id, box, top class, score and every class's
        probability (pandas DataFrame). smoothing < 1 averages each track's probabilities over frames."""
        from fer_core.inference.video import analyze_video
        return analyze_video(self, path, every_nth=every_nth, max_seconds=max_seconds, smoothing=smoothing,
                             progress=progress).table
