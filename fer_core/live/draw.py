"""Drawing on BGR frames: boxes, labels, confidence bars, heat-map overlays, timing text."""
from __future__ import annotations

import cv2
import numpy as np

GREEN = (60, 200, 60)
WHITE = (255, 255, 255)
_JET = cv2.applyColorMap(np.arange(256, dtype=np.uint8)[:, None], cv2.COLORMAP_JET).reshape(1, 256, 3)


def overlay_heatmap(frame: np.ndarray, box, heat: np.ndarray, alpha: float = 0.45) -> None:
    """Blend a 0-1 heat map (any size) onto the face box, in place."""
    x, y, w, h = box
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, frame.shape[1]), min(y + h, frame.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    heat = cv2.resize(heat.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    grey = np.uint8(255 * np.clip(heat, 0, 1))
    colour = cv2.LUT(cv2.merge((grey, grey, grey)), _JET)  # applyColorMap's colours, 4x faster here
    roi = frame[y0:y1, x0:x1]
    part = colour[y0 - y:y1 - y, x0 - x:x1 - x]
    frame[y0:y1, x0:x1] = cv2.addWeighted(roi, 1 - alpha, part, alpha, 0)


def _font_scale(frame: np.ndarray, base: float) -> float:
    """Text scales with the frame: the sizes below are for 640 px wide frames (320x240 gets half)."""
    return base * max(frame.shape[1], 160) / 640


def _put_text(frame: np.ndarray, text: str, x: int, y: int, scale: float, colour, thickness: int) -> None:
    """Draw `text` with its baseline at y, shifted left/down so it stays inside the frame (never clipped)."""
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    while tw > frame.shape[1] - 4 and scale > 0.25:  # wider than the frame: shrink before shifting
        scale *= 0.85
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x = int(min(max(x, 3), max(frame.shape[1] - tw - 3, 3)))
    y = int(min(max(y, th + 3), frame.shape[0] - 4))
    # on a dark chip rather than over a thick black copy of itself: legible on any background, and one
    # anti-aliased text instead of two (0.4-0.9 ms each here: four faces' labels were 3.5 ms of a frame)
    cv2.rectangle(frame, (x - 3, y - th - 3), (x + tw + 2, y + 4), (0, 0, 0), -1)
    cv2.putText(frame, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)


def draw_face(frame: np.ndarray, box, label: str, confidence: float, track_id: int | None = None) -> None:
    x, y, w, h = box
    thick = 2 if frame.shape[1] >= 480 else 1
    cv2.rectangle(frame, (x, y), (x + w, y + h), GREEN, thick)
    text = f"{label} {confidence:.0%}" + (f" #{track_id}" if track_id is not None else "")
    _put_text(frame, text, x, y - 8, _font_scale(frame, 0.55), GREEN, thick)
    bar_y = min(y + h + 4, frame.shape[0] - 8)
    cv2.rectangle(frame, (x, bar_y), (x + w, bar_y + 6), (80, 80, 80), -1)
    cv2.rectangle(frame, (x, bar_y), (x + int(w * confidence), bar_y + 6), GREEN, -1)


def draw_timings(frame: np.ndarray, fps: float, timings_ms: dict) -> None:
    """Processed fps and per-stage milliseconds (moving medians) in the top-left corner."""
    text = f"{fps:4.1f} fps | " + " ".join(f"{k} {v:.0f}ms" for k, v in timings_ms.items())
    _put_text(frame, text, 8, 18, _font_scale(frame, 0.45), WHITE, 1)


def draw_notice(frame: np.ndarray, text: str) -> None:
    """A one-line notice across the middle of the frame (e.g. why it was not processed)."""
    h = frame.shape[0]
    cv2.rectangle(frame, (0, h // 2 - 24), (frame.shape[1], h // 2 + 12), (0, 0, 0), -1)
    _put_text(frame, text, 8, h // 2, _font_scale(frame, 0.5), WHITE, 1)


def draw_status(frame: np.ndarray, text: str) -> None:
    """A line of status in the bottom-left corner (leaves the faces visible)."""
    _put_text(frame, text, 8, frame.shape[0] - 10, _font_scale(frame, 0.45), WHITE, 1)
