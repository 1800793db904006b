"""Several detection passes' (boxes, scores, keypoints) as one set of faces."""
from __future__ import annotations

import cv2
import numpy as np


def merge_detections(found: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Several networks' (boxes, scores, points) as one set: the best-scored box of each overlapping group."""
    boxes = np.concatenate([f[0] for f in found])
    scores = np.concatenate([f[1] for f in found])
    points = np.concatenate([f[2] for f in found])
    if not len(boxes):
        return boxes.reshape(0, 4).astype(int), scores, points
    keep = np.asarray(cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), 0.0, 0.3), int).reshape(-1)
    keep = keep[not_nested(boxes[keep], scores[keep])]
    return boxes[keep], scores[keep], points[keep]


NESTED = 0.6  # a box this much inside a better-scored one is a part of that face (an eye, a mouth), not a face


def not_nested(boxes: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Indices of the boxes to keep, best score first: a box whose area lies mostly (NESTED) inside a kept box, or
    that mostly covers one, is dropped. Faces in a frame do not nest; a fine pass that sees part of a big face in
    detail does find a small "face" inside it, which IoU-based NMS keeps (their IoU is small)."""
    b = boxes.astype(float)
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    area = b[:, 2] * b[:, 3]
    kept: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if kept:
            k = np.asarray(kept)
            inter = (np.clip(np.minimum(x1[i], x1[k]) - np.maximum(x0[i], x0[k]), 0, None)
                     * np.clip(np.minimum(y1[i], y1[k]) - np.maximum(y0[i], y0[k]), 0, None))
            if (inter / np.maximum(np.minimum(area[i], area[k]), 1e-9) >= NESTED).any():
                continue
        kept.append(int(i))
    return np.asarray(kept, int)
