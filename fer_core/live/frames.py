"""WebRTC video frames <-> BGR arrays, converted by OpenCV rather than by PyAV's swscale.

Browsers send and receive I420 (yuv420p). PyAV's `to_ndarray(format="bgr24")` and the encoder's reformat of a
bgr24 frame each ran swscale's generic path: 4-6 ms a 640x480 frame here, against 0.6-0.8 ms for
cv2.cvtColor (bench/live_frames.py). Both ends of every Live frame pay it, so it was ~10 ms of a 33-ms budget.
Both use BT.601 video range, as browsers do (pixels differ by ~1 level on average).
"""
from __future__ import annotations

import cv2
import numpy as np


def to_bgr(frame) -> np.ndarray:
    """A decoded av.VideoFrame -> H x W x 3 uint8 BGR."""
    if frame.format.name == "yuv420p" and frame.width % 2 == 0 and frame.height % 2 == 0:
        return cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2BGR_I420)  # planes stacked: (H * 3/2) x W
    return frame.to_ndarray(format="bgr24")


def from_bgr(image: np.ndarray):
    """H x W x 3 uint8 BGR -> an av.VideoFrame the VP8/H.264 encoders take without converting it again."""
    import av
    h, w = image.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return av.VideoFrame.from_ndarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
    return av.VideoFrame.from_ndarray(image, format="bgr24")
