"""Processed BGR frames back to WebRTC: I420 converted by OpenCV, not by the encoder's swscale.

Browsers receive I420 (yuv420p). aiortc's VP8 encoder reformats any other frame with PyAV's swscale, whose
BGR -> I420 path is slow; cv2.cvtColor does it for less, and the encoder then takes the frame as it is: the
return path of a 640x480 frame (conversion + encode) 8.0 -> 6.4 ms median here (bench/results/live_frames.json).
The other way, PyAV's own I420 -> BGR was the faster (0.38 vs 0.48 ms) and stays. BT.601 video range, as browsers
use.
"""
from __future__ import annotations

import cv2
import numpy as np


def from_bgr(image: np.ndarray):
    """H x W x 3 uint8 BGR -> an av.VideoFrame the VP8/H.264 encoders take without converting it again."""
    import av
    h, w = image.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return av.VideoFrame.from_ndarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
    return av.VideoFrame.from_ndarray(image, format="bgr24")  # I420 needs even sides
