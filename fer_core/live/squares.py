"""A second look at given face boxes: short-range BlazeFace on a square around each, sized so the face fills half of
it (the network's best scale), shrunk to at most ROI_INPUT px. Two users: the cascade detector checks the doubtful
detections of its coarse pass this way, and stream detection follows known faces between full scans.
"""
from __future__ import annotations

import numpy as np

from fer_core.live.merge import merge_detections

ROI_SCALE = 2.0  # the square's side, in face-box sides (BlazeFace boxes: eyebrows to chin)
ROI_INPUT = 80  # the network's input side for one square (shrunk to it, never enlarged). bench/live_stream_detect.py
# --seed 11: recall >= 48 px 84.3% at 80 (84.4% at 96, 82.4% at 64; 85.2% full scans), 0.32x of full scans (96: 0.36x)

EMPTY = (np.zeros((0, 4), int), np.zeros(0, np.float32), np.zeros((0, 6, 2), np.float32))


def square_net():
    """The network for the squares (one per detector: a network runs one call at a time)."""
    from fer_core.live.blazeface import BlazeFace
    return BlazeFace("short", long_side=ROI_INPUT)


def look_again(net, frame: np.ndarray, boxes: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(boxes, scores, keypoints) of the face found nearest each box's centre in its square (a neighbour may share
    the square, and may score higher), scoring at least `threshold`; a box whose square shows no face within half
    a box of where it was gives nothing."""
    net.score_threshold = threshold
    h, w = frame.shape[:2]
    found = []
    for x, y, bw, bh in boxes:
        side = int(min(max(bw, bh) * ROI_SCALE, w, h))
        if side < 8:
            continue
        x0 = int(np.clip(x + bw / 2 - side / 2, 0, w - side))
        y0 = int(np.clip(y + bh / 2 - side / 2, 0, h - side))
        b, s, p = net.detect(frame[y0:y0 + side, x0:x0 + side])
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
        return EMPTY
    return merge_detections(found) if len(found) > 1 else found[0]
