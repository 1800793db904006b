"""Drawing on BGR frames: boxes, labels, confidence bars, heat-map overlays, timing text."""
from __future__ import annotations

import cv2
import numpy as np

GREEN = (60, 200, 60)
WHITE = (255, 255, 255)


def overlay_heatmap(frame: np.ndarray, box, heat: np.ndarray, alpha: float = 0.45) -> None:
    """Blend a 0-1 heat map (any size) onto the face box, in place."""
    x, y, w, h = box
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, frame.shape[1]), min(y + h, frame.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    heat = cv2.resize(heat.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    colour = cv2.applyColorMap(np.uint8(255 * np.clip(heat, 0, 1)), cv2.COLORMAP_JET)
    roi = frame[y0:y1, x0:x1]
    part = colour[y0 - y:y1 - y, x0 - x:x1 - x]
    frame[y0:y1, x0:x1] = cv2.addWeighted(roi, 1 - alpha, part, alpha, 0)


def draw_face(frame: np.ndarray, box, label: str, confidence: float, track_id: int | None = None) -> None:
    x, y, w, h = box
    cv2.rectangle(frame, (x, y), (x + w, y + h), GREEN, 2)
    text = f"{label} {confidence:.0%}" + (f" #{track_id}" if track_id is not None else "")
    cv2.putText(frame, text, (x, max(y - 8, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.55, GREEN, 2, cv2.LINE_AA)
    bar_y = min(y + h + 4, frame.shape[0] - 8)
    cv2.rectangle(frame, (x, bar_y), (x + w, bar_y + 6), (80, 80, 80), -1)
    cv2.rectangle(frame, (x, bar_y), (x + int(w * confidence), bar_y + 6), GREEN, -1)


def draw_timings(frame: np.ndarray, fps: float, timings_ms: dict) -> None:
    text = f"{fps:4.1f} fps | " + " ".join(f"{k} {v:.1f}ms" for k, v in timings_ms.items())
    cv2.putText(frame, text, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(frame, text, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.45, WHITE, 1, cv2.LINE_AA)
