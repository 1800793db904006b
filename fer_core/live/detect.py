"""Face detection with OpenCV's bundled Haar cascade (no download). Boxes are (x, y, w, h) in frame pixels."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CASCADE = "haarcascade_frontalface_default.xml"


@dataclass
class DetectorSettings:
    scale_factor: float = 1.1
    min_neighbors: int = 5
    min_size: int = 40  # pixels, in the original frame
    detect_width: int = 320  # frames are shrunk to this width for detection (speed)


class FaceDetector:
    def __init__(self, settings: DetectorSettings | None = None):
        self.settings = settings or DetectorSettings()
        self.cascade = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)
        if self.cascade.empty():
            raise RuntimeError(f"OpenCV's {CASCADE} could not be loaded; install opencv-python-headless 4.x")

    def detect(self, gray: np.ndarray) -> np.ndarray:
        s = self.settings
        scale = min(1.0, s.detect_width / gray.shape[1])
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
        min_side = max(int(s.min_size * scale), 12)
        boxes = self.cascade.detectMultiScale(cv2.equalizeHist(small), scaleFactor=s.scale_factor,
                                              minNeighbors=s.min_neighbors, minSize=(min_side, min_side))
        if len(boxes) == 0:
            return np.zeros((0, 4), int)
        return np.round(np.asarray(boxes) / scale).astype(int)


def crop_faces(gray: np.ndarray, boxes: np.ndarray, margin: float = 0.1, size: int = 48) -> np.ndarray:
    """Square crops with a margin around each box, resized to size x size (uint8)."""
    h, w = gray.shape
    crops = []
    for x, y, bw, bh in boxes:
        side = int(max(bw, bh) * (1 + 2 * margin))
        cx, cy = x + bw // 2, y + bh // 2
        x0, y0 = max(cx - side // 2, 0), max(cy - side // 2, 0)
        x1, y1 = min(x0 + side, w), min(y0 + side, h)
        crops.append(cv2.resize(gray[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA))
    return np.stack(crops) if crops else np.zeros((0, size, size), np.uint8)
