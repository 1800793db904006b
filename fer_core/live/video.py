"""Uploaded media: annotate a still image, or run a short video through the pipeline to a per-frame table."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pandas as pd

from fer_core.errors import DataError
from fer_core.live.pipeline import LivePipeline

MAX_IMAGE_PIXELS = 40_000_000  # 40 MP: bigger stills are refused before decoding (a 20000x20000 PNG needs 5.9 GB)
MAX_VIDEO_SECONDS = 120  # analysed at most; longer videos are cut, and the page says so
MAX_VIDEO_PIXELS = 1920 * 1080


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the file's header alone (Pillow reads no pixels here), or None if unreadable."""
    import io

    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except Image.DecompressionBombError:  # Pillow refuses > ~179 MP outright: far above our limit anyway
        return (Image.MAX_IMAGE_PIXELS or MAX_IMAGE_PIXELS) * 2, 1
    except Exception:  # noqa: BLE001 - any parse failure means 'not an image we can read'
        return None


def decode_image(data: bytes, name: str = "upload") -> np.ndarray:
    size = image_size(data) if data else None
    if size is None:
        raise DataError("not a readable image", path=name, fix="upload a JPEG, PNG, BMP or WebP file")
    if size[0] * size[1] > MAX_IMAGE_PIXELS:
        what = f"{size[0]:,}x{size[1]:,} pixels" if size[1] > 1 else "over 170 MP"
        raise DataError(f"the image is {what}; the limit is {MAX_IMAGE_PIXELS / 1e6:.0f} MP", path=name,
                        fix="upload a smaller image")
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise DataError("not a readable image", path=name, fix="upload a JPEG, PNG, BMP or WebP file")
    return img


@dataclass
class VideoResult:
    table: pd.DataFrame  # one row per processed frame and face
    seconds_analysed: float
    seconds_total: float | None  # None when the container does not say
    cut: bool  # the video was longer than MAX_VIDEO_SECONDS and only its start was analysed

    @property
    def ended_early(self) -> bool:
        """Frames ran out well before the length the container states: a truncated (partly uploaded) file."""
        return (not self.cut and self.seconds_total is not None
                and self.seconds_analysed < 0.9 * self.seconds_total - 0.5)


def process_video(path: str, pipeline: LivePipeline, every_nth: int = 1, max_seconds: float = MAX_VIDEO_SECONDS,
                  progress=None, name: str | None = None) -> VideoResult:
    """Emotions per frame and face (time, track, label, confidence, every class probability), for at most
    `max_seconds` of video. `name` is what messages call the file (the upload's name, not a temp path)."""
    name = name or path
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise DataError("cannot open the video", path=name, fix="upload an MP4/AVI/WebM file that OpenCV can decode")
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = fps if fps and 0 < fps < 1000 else 25.0
    width, height = cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)
    if width * height > MAX_VIDEO_PIXELS:
        cap.release()
        raise DataError(f"the video is {int(width)}x{int(height)}; the limit is 1920x1080", path=name,
                        fix="upload a smaller video (e.g. 720p)")
    frames_total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    total_s = frames_total / fps if frames_total > 0 else None
    max_frames = int(max_seconds * fps)
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
                    progress(min(index / max(min(frames_total or max_frames, max_frames), 1), 1.0))
            index += 1
        cut = index >= max_frames and cap.read()[0]
    finally:
        cap.release()
    if index == 0:
        raise DataError("the video has no readable frames", path=name, fix="upload an MP4/AVI/WebM file")
    return VideoResult(pd.DataFrame(rows, columns=["frame", "time_s", "face", "label", "confidence", *names]),
                       index / fps, total_s, bool(cut))


def _detector_tip(settings) -> str:
    """What to lower in the sidebar's "Face detector" settings: the sliders the chosen detector has."""
    knobs = "'Min neighbours' or 'Min face size'" if settings.name == "haar" else "'Min face score' or 'Min face size'"
    return f"Try a lower {knobs} under 'Face detector' in the sidebar, or another detector."


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
    note = None if results else f"No face found. {_detector_tip(pipeline.detector.settings)}"
    return out, rows, note
