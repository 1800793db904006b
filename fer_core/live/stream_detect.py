"""Face detection for the frames of one stream: the full detector now and then, the faces' neighbourhoods between.

The default detector runs short-range BlazeFace over the whole frame at two scales (~93k network pixels a 640x480
frame, plus a second look at doubtful faces), because a face can be anywhere and any size. In a stream, the last
frame says where the faces are: between full scans, the network runs only on a square around each known face
(fer_core/live/squares.py): one small square per face. A new face shows up at the
next full scan, at most FULL_EVERY frames later; a face lost in its square brings that scan forward to the next
frame. bench/live_stream_detect.py measures
what this costs and finds against the full detector on every frame.
"""
from __future__ import annotations

import numpy as np

from fer_core.live.detect import DetectorSettings, FaceDetector

FULL_EVERY = 6  # frames: a new face is found within 0.2 s at 30 fps


class StreamFaceDetector:
    """FaceDetector's locate() for consecutive frames of one stream (one thread, like FaceDetector)."""

    def __init__(self, settings: DetectorSettings | None = None, full_every: int = FULL_EVERY):
        self.detector = FaceDetector(settings)
        self.full_every = full_every
        self._last: tuple | None = None  # (boxes, scores, points) of the last frame, BlazeFace framing
        self._since_full = 0
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
        return self.detector.look_again(frame, boxes, self.settings.score_threshold)
