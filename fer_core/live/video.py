"""Uploaded media: annotate a still image, or run a short video through the pipeline to a per-frame table."""
from __future__ import annotations

import cv2
import numpy as np

# Kept here for the pages' imports; the definitions live with the one inference path (fer_core.inference).
from fer_core.inference.images import MAX_IMAGE_PIXELS, decode_image, image_size  # noqa: F401,E402
from fer_core.inference.video import MAX_VIDEO_PIXELS, MAX_VIDEO_SECONDS, VideoResult  # noqa: F401,E402
from fer_core.live.pipeline import LivePipeline


def process_video(path: str, pipeline: LivePipeline, every_nth: int = 1, max_seconds: float = MAX_VIDEO_SECONDS,
                  progress=None, name: str | None = None) -> VideoResult:
    """Emotions per frame and face (time, track, box, label, confidence, every class probability), for at most
    `max_seconds` of video, through the pipeline's `FER` with its smoothing."""
    from fer_core.inference.video import analyze_video
    return analyze_video(pipeline.fer, path, every_nth=every_nth, max_seconds=max_seconds,
                         smoothing=pipeline.settings.smoothing, progress=progress, name=name)


def _detector_tip(settings) -> str:
    """What to lower in the sidebar's "Face detector" settings: the sliders the chosen detector has."""
    knobs = "'Min neighbours' or 'Min face size'" if settings.name == "haar" else "'Min face score' or 'Min face size'"
    return f"Try a lower {knobs} under 'Face detector' in the sidebar, or another detector."


def annotate_image(pipeline: LivePipeline, img: np.ndarray) -> tuple[np.ndarray, list[dict], str | None]:
    """Detect and classify the faces of a still image: (annotated image, one row per face, a note for the user).
    A small image without a detected face is taken to be a face crop and classified whole."""
    out, results, _ = pipeline.process(img)
    names = pipeline.fer.class_names
    if not results and max(img.shape[:2]) <= 128:
        probs = pipeline.fer.classify(pipeline.fer.face_crop(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))[None])[0]
        rows = [{"face": 0, "label": names[int(probs.argmax())], "confidence": float(probs.max()),
                 **{c: float(p) for c, p in zip(names, probs)}}]
        return out, rows, "No face detected; the image is small, so it is classified whole (as a face crop)."
    rows = [{"face": r.track_id, "label": r.label, "confidence": r.confidence,
             **{c: float(p) for c, p in zip(names, r.probs)}} for r in results]
    note = None if results else f"No face found. {_detector_tip(pipeline.settings.detector)}"
    return out, rows, note
