"""Frame -> faces -> probabilities -> smoothed tracks -> drawing (+ explanation), with per-stage timings."""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from fer_core.explain.overlays import Explainer
from fer_core.live.detect import DetectorSettings
from fer_core.live.draw import draw_face, draw_notice, draw_status, draw_timings, overlay_heatmap
from fer_core.live.frames import from_bgr
from fer_core.live.stats import MovingStats
from fer_core.live.stream_detect import FULL_EVERY, StreamFaceDetector
from fer_core.live.tracking import Tracker

log = logging.getLogger("fer_core.live")


@dataclass
class LiveSettings:
    overlay: str = "none"  # one of explain.OVERLAYS
    target_class: int | None = None  # None: explain the predicted class
    smoothing: float = 0.5  # EMA weight of the newest frame (1 = off)
    margin: float = 0.1
    show_timings: bool = True
    detector: DetectorSettings = field(default_factory=DetectorSettings)
    explain_track: int | None = None  # Grad-CAM++ explains one face: this track, else the largest face
    full_scan_every: int = FULL_EVERY  # a stream's frames: the whole frame searched every n-th, faces' squares between


@dataclass
class FaceResult:
    track_id: int
    box: tuple
    probs: np.ndarray  # smoothed
    label: str
    confidence: float


class LivePipeline:
    """Used by one thread at a time: the WebRTC worker of one stream (LiveSession), or a page run."""

    def __init__(self, run_dir, settings: LiveSettings | None = None, backend: str = "auto"):
        from fer_core.api import FER
        self.settings = settings or LiveSettings()
        self.fer = FER(run_dir, detector=self.settings.detector, backend=backend, margin=self.settings.margin,
                       threads=1)  # a frame's few faces: one thread, the other core detects or draws
        self.fer.classify(np.zeros((1, self.fer.model.input_size, self.fer.model.input_size), np.uint8))  # warm-up
        self.tracker = Tracker(alpha=self.settings.smoothing)
        self._explainer = None
        self._explainer_lock = threading.Lock()
        self._warming: threading.Thread | None = None  # stream mode: explanations compiled off the stream's thread

    def stream_mode(self) -> None:
        """Frames come from one stream (a webcam): search the whole frame every `full_scan_every` frames and only
        around the known faces between (StreamFaceDetector). Stills and uploaded videos keep the full detector.
        The explanations are compiled on a background thread from now on; frames go on without them meanwhile."""
        if self.fer.detector is not None and not isinstance(self.fer.detector, StreamFaceDetector):
            self.fer.detector = StreamFaceDetector(self.fer.detector.settings)
        if self._warming is None:  # now: the page has opened, the camera is not started yet (seconds to spare)
            self._warming = threading.Thread(target=self._warm_explainer, daemon=True)
            self._warming.start()

    def _warm_explainer(self) -> None:
        """Build the explainer and trace Grad-CAM and Grad-CAM++ once (seconds: a stream would freeze that long)."""
        try:
            self._explain_on_onnx()
            face = np.zeros((1, self.fer.model.input_size, self.fer.model.input_size), np.uint8)
            self.explainer.gradcam_many(face, [0])
            if self.explainer.fast_gradcam_pp:
                self.explainer.gradcam_pp_many(face, [0])
        except Exception:  # noqa: BLE001 - the stream's own call then fails where the page shows errors
            pass

    def _explain_on_onnx(self) -> None:
        """Where the classifier runs on ONNX Runtime and Grad-CAM needs only a forward pass, run that pass there
        too: a file of the explainer's two outputs, exported once per model file into the cache."""
        from fer_core.inference.backends import OnnxBackend
        explainer, run = self.explainer, self.fer.run
        if explainer.head is None or run is None or not isinstance(self.fer.model, OnnxBackend):
            return
        from fer_core.settings import cache_dir
        path = cache_dir() / "onnx" / f"{run.id}-{run.model_mtime}-explain-{explainer.layer}.onnx"
        try:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                explainer.export_features(path)
            explainer.use_onnx(path, threads=1)
        except Exception as exc:  # noqa: BLE001 - TensorFlow's forward pass still explains, a little slower
            log.warning("Grad-CAM stays on TensorFlow: the ONNX export failed (%s)", type(exc).__name__)

    def explanations_ready(self) -> bool:
        """Outside stream mode always (the caller waits); in it, whether the background compile has finished."""
        return self._warming is None or not self._warming.is_alive()

    @property
    def class_names(self) -> list[str]:
        return self.fer.class_names

    @property
    def explainer(self) -> Explainer:
        with self._explainer_lock:  # the page's thread, the stream's and the warm-up may all ask first
            if self._explainer is None:
                self._explainer = Explainer(self.fer.keras_model)  # gradients: Keras, whatever backend classifies
            return self._explainer

    def process(self, frame_bgr: np.ndarray, draw: bool = True) -> tuple[np.ndarray, list[FaceResult], dict]:
        """One frame -> (annotated copy, faces, per-stage milliseconds). Settings are read once per frame."""
        s = self.settings  # the page swaps the whole object; this frame keeps the one it started with
        self.fer.detector.settings = s.detector
        if isinstance(self.fer.detector, StreamFaceDetector):
            self.fer.detector.full_every = max(1, s.full_scan_every)
        self.fer.margin = s.margin
        self.tracker.alpha = s.smoothing
        # Grad-CAM(++) of a pooled softmax head needs only a forward pass, which classifies too: one pass for both
        fused = (draw and s.overlay in ("Grad-CAM", "Grad-CAM++") and self.explanations_ready()
                 and self.explainer.head is not None)
        forward = {}

        def classify(crops):
            forward["fmap"], probs = self.explainer.forward(crops)
            return probs

        t0 = time.perf_counter()
        ff = self.fer.analyze_frame(frame_bgr, timings := {}, classify=classify if fused else None)
        t1, t2 = t0 + timings["detect"], t0 + timings["detect"] + timings["classify"]
        faces, boxes, probs = ff.crops, ff.boxes, ff.probs
        tracks = self.tracker.update(boxes, probs)
        names = self.fer.class_names
        results = [FaceResult(t.id, tuple(int(v) for v in t.box), t.probs, names[int(t.probs.argmax())],
                              float(t.probs.max())) for t in tracks]
        out = frame_bgr.copy() if draw else frame_bgr
        overlay_ms = draw_ms = 0.0
        if draw:
            if s.overlay != "none" and not self.explanations_ready():
                draw_status(out, f"Preparing {s.overlay} (first use: a few seconds)...")
            elif s.overlay != "none":
                t_ov = time.perf_counter()
                explained = list(zip(faces, results))
                slow_pp = s.overlay == "Grad-CAM++" and not self.explainer.fast_gradcam_pp
                if slow_pp and len(explained) > 1:  # tf-keras-vis: ~30 ms a face, so one face only
                    chosen = [p for p in explained if p[1].track_id == s.explain_track]
                    explained = chosen or [max(explained, key=lambda p: p[1].box[2])]
                classes = [s.target_class if s.target_class is not None else int(r.probs.argmax()) for _, r in explained]
                if "fmap" in forward:  # the classifying pass explains every face
                    heats = self.explainer.maps(forward["fmap"], probs, classes, plus_plus=s.overlay == "Grad-CAM++")
                elif s.overlay == "Grad-CAM" and explained:  # every face in one pass
                    heats = self.explainer.gradcam_many(np.stack([f for f, _ in explained]), classes)
                elif s.overlay == "Grad-CAM++" and explained and not slow_pp:
                    heats = self.explainer.gradcam_pp_many(np.stack([f for f, _ in explained]), classes)
                else:
                    heats = [self.explainer.explain(s.overlay, f, c) for (f, _), c in zip(explained, classes)]
                for (_, r), heat in zip(explained, heats):
                    if heat is not None:
                        overlay_heatmap(out, r.box, heat)
                overlay_ms = 1000 * (time.perf_counter() - t_ov)
            t3 = time.perf_counter()
            for r in results:
                draw_face(out, r.box, r.label, r.confidence, r.track_id)
            draw_ms = 1000 * (time.perf_counter() - t3)
        return out, results, {"detect": 1000 * (t1 - t0), "classify": 1000 * (t2 - t1), "draw": draw_ms,
                              "overlay": overlay_ms}


def dropped_share(timings: dict) -> float:
    """The share of arriving frames that were skipped (processing could not keep up), over the moving window."""
    received, processed = timings.get("received_fps", 0.0), timings.get("fps", 0.0)
    return max(0.0, 1.0 - processed / received) if received > 0 else 0.0


class LiveSession:
    """One browser tab's stream: the WebRTC worker thread processes frames, the page reads snapshots.

    The lock guards only the published numbers, never the processing, so the page's once-a-second status
    never waits for a frame and a frame never waits for the page.
    """

    def __init__(self, pipeline: LivePipeline):
        self.pipeline = pipeline
        pipeline.stream_mode()
        self.lock = threading.Lock()
        self.stats = MovingStats()
        self.received = 0
        self.frames = 0
        self.frames_with_face = 0
        self.latest: list[FaceResult] = []
        self.error: Exception | None = None  # the last frame's failure; the page shows it with show_error
        self.refused = 0  # frames returned unprocessed because the server's stream cap was reached
        self.face_counts: Counter = Counter()  # processed frames by how many faces they had

    def process(self, img: np.ndarray, received: int = 1) -> np.ndarray:
        """Process one BGR frame (the newest of `received` that arrived since the last one)."""
        from fer_core.live.capacity import STREAMS, max_streams
        if not STREAMS.admit(id(self)):
            with self.lock:
                self.received += received
                self.refused += received
            out = img.copy()
            draw_notice(out, f"Server busy: {max_streams()} streams already (FER_LIVE_MAX_STREAMS). Try again later.")
            return out
        try:
            out, results, timings = self.pipeline.process(img)
        except Exception as exc:  # noqa: BLE001 - a bad frame must not kill the stream; the page shows it
            with self.lock:
                self.received += received
                self.error = exc.with_traceback(None)  # no frame (nor its image) kept alive by the traceback
            return img
        with self.lock:
            self.received += received
            self.frames += 1
            self.frames_with_face += bool(results)
            self.face_counts[len(results)] += 1
            self.latest = results
            self.stats.add(timings, received)
            fps, medians = self.stats.fps(), self.stats.medians()
        if self.pipeline.settings.show_timings:
            draw_timings(out, fps, medians)
        return out

    def callback(self, frame):
        """streamlit-webrtc video_frame_callback: av.VideoFrame in, av.VideoFrame out. Never calls st.*."""
        return from_bgr(self.process(frame.to_ndarray(format="bgr24")))

    async def queued_callback(self, frames: list) -> list:
        """streamlit-webrtc queued_video_frames_callback: every frame that arrived while the last one was being
        processed. Only the newest is processed; the rest are counted, so the page can show the share."""
        return [from_bgr(self.process(frames[-1].to_ndarray(format="bgr24"), received=len(frames)))]

    def ended(self) -> None:
        """The stream stopped: forget the last frame's faces and numbers (the page shows them otherwise)."""
        from fer_core.live.capacity import STREAMS
        STREAMS.leave(id(self))
        with self.lock:
            self.latest, self.error = [], None
            self.received = self.frames = self.frames_with_face = self.refused = 0
            self.face_counts.clear()
            self.stats.clear()
        self.pipeline.tracker.tracks.clear()
        if isinstance(self.pipeline.fer.detector, StreamFaceDetector):
            self.pipeline.fer.detector.reset()

    def snapshot(self) -> dict:
        from fer_core.live.capacity import STREAMS, max_streams
        streams = STREAMS.active()
        with self.lock:
            timings = {**self.stats.medians(), "fps": self.stats.fps(), "received_fps": self.stats.received_fps()}
            return {"received": self.received, "frames": self.frames, "frames_with_face": self.frames_with_face,
                    "timings": timings if self.frames else {},
                    "faces": [(r.track_id, r.label, r.confidence, r.probs.tolist()) for r in self.latest],
                    "error": self.error, "refused": self.refused, "face_counts": dict(self.face_counts), "streams": streams, "max_streams": max_streams(),
                    "dropped_share": dropped_share(timings) if self.frames else 0.0}

    def update_settings(self, **changes) -> None:
        """Swap in a new settings object: the worker thread reads a whole one per frame, never a half-updated one."""
        self.pipeline.settings = replace(self.pipeline.settings, **changes)
