"""Face detection: BlazeFace (MediaPipe's, on LiteRT) or OpenCV's bundled Haar cascade; crops for the model.

Boxes are (x, y, w, h) in frame pixels, framed like FER2013's crops (forehead to chin), whichever detector
found them, so the classifier sees what it was trained on. bench/detect.py measures the detectors.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from fer_core.errors import ConfigError
from fer_core.live import squares
from fer_core.live.merge import merge_detections, not_nested  # noqa: F401  (callers import them from here)

CASCADE = "haarcascade_frontalface_default.xml"
from fer_core.live.detector_names import BLAZE_PASSES, CHECKED, DETECTORS, canonical  # noqa: E402,F401  (names without OpenCV)

# BlazeFace boxes run eyebrows to chin; FER2013 crops (and Haar boxes) sit ~13 % of a box higher and 1.2x wider.
BLAZE_TO_FER = {"shift_up": 0.13, "scale": 1.2}


@dataclass
class DetectorSettings:
    name: str = DETECTORS[0]
    score_threshold: float = 0.5  # BlazeFace: minimum face probability
    scale_factor: float = 1.1  # Haar
    min_neighbors: int = 5  # Haar
    min_size: int = 40  # pixels, in the original frame (both detectors)
    detect_width: int = 320  # Haar: frames are shrunk to this width first (speed)
    align: bool = True  # rotate each crop so the eyes are level (BlazeFace only: it finds the eyes); see detect.json


class FaceDetector:
    def __init__(self, settings: DetectorSettings | None = None):
        self.settings = settings or DetectorSettings()  # every detector has its own networks: one per thread
        if canonical(self.settings.name) != self.settings.name:
            self.settings = replace(self.settings, name=canonical(self.settings.name))
        self._backends: dict = {}
        self._backend(self.settings)  # fail now, with a clear message, if the detector is missing

    def _backend(self, s: DetectorSettings):
        name = canonical(s.name)  # settings swapped in later (the Live page's) may use an old name
        if name not in DETECTORS:
            raise ConfigError(f"unknown face detector {name!r}", fix=f"choose one of {', '.join(DETECTORS)}")
        if name not in self._backends:
            if name == "haar":
                cascade = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)
                if cascade.empty():
                    raise ConfigError(f"OpenCV's {CASCADE} could not be loaded", path=cv2.data.haarcascades + CASCADE,
                                      fix="install opencv-python-headless 4.x, or choose a BlazeFace detector")
                self._backends[name] = cascade
            else:
                from fer_core.live.blazeface import BlazeFace
                for variant, long_side, _ in BLAZE_PASSES[name]:
                    self._backends.setdefault((variant, long_side), BlazeFace(variant, long_side=long_side))
                self._backends[name] = tuple((self._backends[(v, side)], extra)
                                             for v, side, extra in BLAZE_PASSES[name])
        return self._backends[name]

    def locate(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Boxes in FER framing, and the eye centres (n x 2 x 2: person's right, then left) when known."""
        s = self.settings
        backend = self._backend(s)
        if s.name == "haar":
            gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
            return self._haar(backend, gray), None
        return self.framed(*self.find(frame)[::2])

    def find(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """BlazeFace's own boxes (eyebrows to chin), scores and 6 keypoints, every pass merged."""
        s = self.settings
        check = CHECKED.get(s.name)
        found = []
        for net, extra in self._backend(s):
            net.score_threshold = min(max(s.score_threshold + extra, 0.05), 0.99)
            boxes, scores, points = net.detect(frame)
            if check and net.long_side == check["long_side"]:
                sure = scores >= s.score_threshold + check["sure"]
                found.append((boxes[sure], scores[sure], points[sure]))
                if not sure.all():
                    found.append(self.look_again(frame, boxes[~sure], min(s.score_threshold + check["extra"], 0.99)))
            else:
                found.append((boxes, scores, points))
        return found[0] if len(found) == 1 else merge_detections(found)

    def look_again(self, frame: np.ndarray, boxes: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """squares.look_again with this detector's own square network (made on first use)."""
        if "squares" not in self._backends:
            self._backends["squares"] = squares.square_net()
        return squares.look_again(self._backends["squares"], frame, boxes, threshold)

    def framed(self, boxes: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """BlazeFace boxes as FER crops frame faces, with their eyes; boxes under min_size dropped."""
        x, y, w, h = (boxes[:, i].astype(float) for i in range(4))
        side = np.maximum(w, h) * BLAZE_TO_FER["scale"]
        cx, cy = x + w / 2, y + h / 2 - BLAZE_TO_FER["shift_up"] * h
        framed = np.round(np.stack([cx - side / 2, cy - side / 2, side, side], 1)).astype(int).reshape(-1, 4)
        keep = framed[:, 2] >= self.settings.min_size
        return framed[keep], points[keep, :2]

    def detect(self, frame: np.ndarray) -> np.ndarray:
        return self.locate(frame)[0]

    def _haar(self, cascade, gray: np.ndarray) -> np.ndarray:
        s = self.settings
        scale = min(1.0, s.detect_width / gray.shape[1])
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
        min_side = max(int(s.min_size * scale), 12)
        boxes = cascade.detectMultiScale(cv2.equalizeHist(small), scaleFactor=s.scale_factor,
                                         minNeighbors=s.min_neighbors, minSize=(min_side, min_side))
        if len(boxes) == 0:
            return np.zeros((0, 4), int)
        return np.round(np.asarray(boxes) / scale).astype(int)


def eye_angle(eyes: np.ndarray) -> float:
    """Degrees the eye line is tilted (image y points down): rotating the image by this levels the eyes."""
    (rx, ry), (lx, ly) = eyes
    return float(np.degrees(np.arctan2(ly - ry, lx - rx)))


def crop_faces(gray: np.ndarray, boxes: np.ndarray, margin: float = 0.1, size: int = 48,
               eyes: np.ndarray | None = None) -> np.ndarray:
    """Square crops with a margin around each box, resized to size x size (uint8); with `eyes`, each crop is
    rotated about the box centre so the eye line is level (one warpAffine: crop, rotate and scale)."""
    h, w = gray.shape
    crops = []
    for i, (x, y, bw, bh) in enumerate(boxes):
        side = int(max(bw, bh) * (1 + 2 * margin))
        cx, cy = x + bw // 2, y + bh // 2
        if eyes is not None:
            sigma = 0.4 * side / size if side > 2 * size else 0.0  # shrinking a lot: blur first, or warpAffine aliases
            # the face's neighbourhood: the crop's corners at any angle (side / sqrt 2), plus the blur's reach
            r = int(0.71 * side + 3 * sigma) + 2
            rx0, ry0 = max(cx - r, 0), max(cy - r, 0)
            region = gray[ry0:min(cy + r, h), rx0:min(cx + r, w)]
            if sigma:
                region = cv2.GaussianBlur(region, (0, 0), sigma)
            m = cv2.getRotationMatrix2D((float(cx - rx0), float(cy - ry0)), eye_angle(eyes[i]), size / max(side, 1))
            m[:, 2] += (size / 2 - (cx - rx0), size / 2 - (cy - ry0))
            crops.append(cv2.warpAffine(region, m, (size, size), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE))
            continue
        x0, y0 = max(cx - side // 2, 0), max(cy - side // 2, 0)
        x1, y1 = min(x0 + side, w), min(y0 + side, h)
        crops.append(cv2.resize(gray[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA))
    return np.stack(crops) if crops else np.zeros((0, size, size), np.uint8)
