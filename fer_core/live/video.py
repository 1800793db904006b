"""Uploaded media: annotate a still image, or run a short video through the pipeline to a per-frame table."""
from __future__ import annotations

import cv2
import numpy as np
import pandas as pd

from fer_core.errors import DataError
from fer_core.live.pipeline import LivePipeline


def decode_image(data: bytes, name: str = "upload") -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if img is None:
        raise DataError("not a readable image", path=name, fix="upload a JPEG, PNG, BMP or WebP file")
    return img


def process_video(path: str, pipeline: LivePipeline, every_nth: int = 1, max_frames: int = 3000,
                  progress=None) -> pd.DataFrame:
    """One row per processed frame and face: time, track, label, confidence and every class probability."""
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise DataError("cannot open the video", path=path, fix="upload an MP4/AVI/WebM file that OpenCV can decode")
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or max_frames
    rows, index = [], 0
    names = pipeline.classifier.class_names
    try:
        while index < max_frames:
            ok, frame = cap.read()
            if not ok:
                break
            if index % every_nth == 0:
                _, results, _ = pipeline.process(frame, draw=False)
                for r in results:
                    rows.append({"frame": index, "time_s": index / fps, "face": r.track_id, "label": r.label,
                                 "confidence": r.confidence, **{n: float(p) for n, p in zip(names, r.probs)}})
                if progress:
                    progress(min(index / max(total, 1), 1.0))
            index += 1
    finally:
        cap.release()
    if index == 0:
        raise DataError("the video has no readable frames", path=path)
    return pd.DataFrame(rows, columns=["frame", "time_s", "face", "label", "confidence", *names])


def annotate_image(pipeline: LivePipeline, img: np.ndarray) -> tuple[np.ndarray, list[dict], str | None]:
    """Detect and classify the faces of a still image: (annotated image, one row per face, a note for the user).
    A small image without a detected face is taken to be a face crop and classified whole."""
    out, results, _ = pipeline.process(img)
    names = pipeline.classifier.class_names
    if not results and max(img.shape[:2]) <= 128:
        gray = cv2.resize(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), (48, 48), interpolation=cv2.INTER_AREA)
        probs = pipeline.classifier.predict(gray[None])[0]
        rows = [{"face": 0, "label": names[int(probs.argmax())], "confidence": float(probs.max()),
                 **{c: float(p) for c, p in zip(names, probs)}}]
        return out, rows, "No face detected; the image is small, so it is classified whole (as a face crop)."
    rows = [{"face": r.track_id, "label": r.label, "confidence": r.confidence,
             **{c: float(p) for c, p in zip(names, r.probs)}} for r in results]
    note = None if results else "No face found. Try a lower 'Min neighbours' or 'Min face size' in the sidebar."
    return out, rows, note
