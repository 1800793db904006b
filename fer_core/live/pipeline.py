"""Frame -> faces -> probabilities -> smoothed tracks -> drawing (+ explanation), with per-stage timings."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from fer_core.explain.overlays import Explainer
from fer_core.live.classify import FaceClassifier
from fer_core.live.detect import DetectorSettings, FaceDetector, crop_faces
from fer_core.live.draw import draw_face, draw_timings, overlay_heatmap
from fer_core.live.tracking import Tracker


@dataclass
class LiveSettings:
    overlay: str = "none"  # one of explain.OVERLAYS
    target_class: int | None = None  # None: explain the predicted class
    smoothing: float = 0.5  # EMA weight of the newest frame (1 = off)
    margin: float = 0.1
    show_timings: bool = True
    detector: DetectorSettings = field(default_factory=DetectorSettings)


@dataclass
class FaceResult:
    track_id: int
    box: tuple
    probs: np.ndarray  # smoothed
    label: str
    confidence: float


class LivePipeline:
    """Not thread-safe by itself: LiveSession serialises access from the WebRTC worker thread."""

    def __init__(self, run_dir, settings: LiveSettings | None = None):
        self.settings = settings or LiveSettings()
        self.classifier = FaceClassifier(run_dir)
        self.detector = FaceDetector(self.settings.detector)
        self.tracker = Tracker(alpha=self.settings.smoothing)
        self._explainer = None
        self._last = None

    @property
    def explainer(self) -> Explainer:
        if self._explainer is None:
            self._explainer = Explainer(self.classifier.model)
        return self._explainer

    def process(self, frame_bgr: np.ndarray, draw: bool = True) -> tuple[np.ndarray, list[FaceResult], dict]:
        s = self.settings
        self.detector.settings = s.detector
        self.tracker.alpha = s.smoothing
        t0 = time.perf_counter()
        gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
        boxes = self.detector.detect(gray)
        t1 = time.perf_counter()
        faces = crop_faces(gray, boxes, s.margin)
        probs = self.classifier.predict(faces)
        t2 = time.perf_counter()
        tracks = self.tracker.update(boxes, probs)
        names = self.classifier.class_names
        results = [FaceResult(t.id, tuple(int(v) for v in t.box), t.probs, names[int(t.probs.argmax())],
                              float(t.probs.max())) for t in tracks]
        out = frame_bgr.copy() if draw else frame_bgr
        overlay_ms = 0.0
        if draw:
            if s.overlay != "none":
                t_ov = time.perf_counter()
                for face, r in zip(faces, results):
                    cls = s.target_class if s.target_class is not None else int(r.probs.argmax())
                    heat = self.explainer.explain(s.overlay, face, cls)
                    if heat is not None:
                        overlay_heatmap(out, r.box, heat)
                overlay_ms = 1000 * (time.perf_counter() - t_ov)
            t3 = time.perf_counter()
            for r in results:
                draw_face(out, r.box, r.label, r.confidence, r.track_id)
            draw_ms = 1000 * (time.perf_counter() - t3)
        else:
            draw_ms = 0.0
        timings = {"detect": 1000 * (t1 - t0), "classify": 1000 * (t2 - t1), "draw": draw_ms, "overlay": overlay_ms}
        now = time.perf_counter()
        fps = 1.0 / (now - self._last) if self._last else 0.0
        self._last = now
        if draw and s.show_timings:
            draw_timings(out, fps, timings)
        return out, results, {**timings, "fps": fps}


class LiveSession:
    """State shared between the WebRTC callback thread and the page (guarded by a lock)."""

    def __init__(self, pipeline: LivePipeline):
        self.pipeline = pipeline
        self.lock = threading.Lock()
        self.frames = 0
        self.frames_with_face = 0
        self.latest: list[FaceResult] = []
        self.timings: dict = {}
        self.error: str | None = None

    def callback(self, frame):
        """streamlit-webrtc video_frame_callback: av.VideoFrame in, av.VideoFrame out. Never calls st.*."""
        import av
        img = frame.to_ndarray(format="bgr24")
        try:
            with self.lock:
                out, results, timings = self.pipeline.process(img)
                self.frames += 1
                self.frames_with_face += bool(results)
                self.latest, self.timings = results, timings
        except Exception as exc:  # noqa: BLE001 - a bad frame must not kill the stream; the page shows it
            with self.lock:
                self.error = f"{type(exc).__name__}: {exc}"
            out = img
        return av.VideoFrame.from_ndarray(out, format="bgr24")

    def snapshot(self) -> dict:
        with self.lock:
            return {"frames": self.frames, "frames_with_face": self.frames_with_face, "timings": dict(self.timings),
                    "faces": [(r.track_id, r.label, r.confidence, r.probs.tolist()) for r in self.latest],
                    "error": self.error}

    def update_settings(self, **changes) -> None:
        with self.lock:
            for k, v in changes.items():
                setattr(self.pipeline.settings, k, v)
