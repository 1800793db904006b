"""Face detection for the frames of one stream: the full detector now and then, the faces' neighbourhoods between.

The default detector runs short-range BlazeFace over the whole frame at three scales (~216k network pixels a
640x480 frame), because a face can be anywhere and any size. In a stream, the last frame says where the faces
are: between full scans, the network runs only on a square around each known face, sized so the face fills half
of it (the network's best scale), shrunk to at most 80 px: one small square per face. A new face shows up at the
next full scan, at most FULL_EVERY frames later; a face lost in its square brings that scan forward to the next
frame. bench/live_stream_detect.py measures
what this costs and finds against the full detector on every frame.
"""
from __future__ import annotations

import numpy as np

from fer_core.live.detect import DetectorSettings, FaceDetector, merge_detections

FULL_EVERY = 6  # frames: a new face is found within 0.2 s at 30 fps
ROI_SCALE = 2.0  # the square's side, in face-box sides (BlazeFace boxes: eyebrows to chin)
ROI_INPUT = 80  # the network's input side for one square (shrunk to it, never enlarged). bench/live_stream_detect.py
# --seed 11: recall >= 48 px 84.3% at 80 (84.4% at 96, 82.4% at 64; 85.2% full scans), 0.32x of full scans (96: 0.36x)


class StreamFaceDetector:
    """FaceDetector's locate() for consecutive frames of one stream (one thread, like FaceDetector)."""

    def __init__(self, settings: DetectorSettings | None = None, full_every: int = FULL_EVERY):
        self.detector = FaceDetector(settings)
        self.full_every = full_every
        self._last: tuple | None = None  # (boxes, scores, points) of the last frame, BlazeFace framing
        self._since_full = 0
        self._roi_net = None
        self.full_scans = 0  # counters for benches and tests
        self.frames = 0

    @property
    def settings(self) -> DetectorSettings:
        return self.detector.settings

    @settings.setter
    def settings(self, value: DetectorSettings) -> None:
        if value != self.detector.settings:
            self.reset()  # another detector or threshold: start from a full scan
        self.detector.settings = value

    def reset(self) -> None:
        """Forget the faces (a new stream, a cut): the next frame gets a full scan."""
        self._last, self._since_full = None, 0

    def locate(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        self.frames += 1
        if self.settings.name == "haar":  # no keypoints, no cheap square pass: the full detector every frame
            return self.detector.locate(frame)
        known = self._last is not None and len(self._last[0])
        if not known or self._since_full + 1 >= self.full_every:
            found = self.detector.find(frame)
            self._since_full = 0
            self.full_scans += 1
        else:
            found = self._around(frame, self._last[0])
            # a face lost in its square (it moved fast, turned, left): look everywhere on the next frame
            self._since_full = self.full_every if len(found[0]) < len(self._last[0]) else self._since_full + 1
        self._last = found
        return self.detector.framed(found[0], found[2])

    def detect(self, frame: np.ndarray) -> np.ndarray:
        return self.locate(frame)[0]

    def _around(self, frame: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Short-range BlazeFace on a square around each known face; the best face in each square, merged."""
        if self._roi_net is None:
            from fer_core.live.blazeface import BlazeFace
            self._roi_net = BlazeFace("short", long_side=ROI_INPUT)
        net = self._roi_net
        net.score_threshold = self.settings.score_threshold
        h, w = frame.shape[:2]
        found = []
        for x, y, bw, bh in boxes:
            side = int(min(max(bw, bh) * ROI_SCALE, w, h))
            if side < 8:
                continue
            x0 = int(np.clip(x + bw / 2 - side / 2, 0, w - side))
            y0 = int(np.clip(y + bh / 2 - side / 2, 0, h - side))
            b, s, p = net.detect(frame[y0:y0 + side, x0:x0 + side])
            # the face nearest where this one was (a neighbour may share the square, and may score higher)
            shift = np.hypot(b[:, 0] + b[:, 2] / 2 + x0 - x - bw / 2, b[:, 1] + b[:, 3] / 2 + y0 - y - bh / 2)
            if not len(b) or shift.min() > max(bw, bh) / 2:
                continue
            best = int(np.argmin(shift))
            b, p = b[best:best + 1].copy(), p[best:best + 1].copy()
            b[:, :2] += (x0, y0)
            p[..., 0] += x0
            p[..., 1] += y0
            found.append((b, s[best:best + 1], p))
        if not found:
            return np.zeros((0, 4), int), np.zeros(0, np.float32), np.zeros((0, 6, 2), np.float32)
        return merge_detections(found)
