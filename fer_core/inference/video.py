"""A video file through `FER`: one row per face per processed frame, faces followed across frames by track id."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2

if TYPE_CHECKING:  # imported where the table is built: `predict` refuses bad paths before pandas loads (~1 s)
    import pandas as pd

from fer_core.errors import DataError
from fer_core.live.tracking import Tracker

MAX_VIDEO_SECONDS = 120  # analysed at most by the pages and the server; longer videos are cut, and they say so
MAX_VIDEO_PIXELS = 1920 * 1080
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
ROW_COLUMNS = ["frame", "time_s", "face", "x", "y", "w", "h", "label", "confidence"]


@dataclass
class VideoResult:
    table: pd.DataFrame  # one row per processed frame and face
    seconds_analysed: float
    seconds_total: float | None  # None when the container does not say
    cut: bool  # the video was longer than max_seconds and only its start was analysed
    frames: int = 0  # frames read
    fps: float = 25.0

    @property
    def ended_early(self) -> bool:
        """Frames ran out well before the length the container states: a truncated (partly uploaded) file."""
        return (not self.cut and self.seconds_total is not None
                and self.seconds_analysed < 0.9 * self.seconds_total - 0.5)


def open_video(path: str, name: str):
    """An opened cv2.VideoCapture, through FFmpeg only: OpenCV's other backends would open a still image (or a
    numbered image sequence) as a 'video'."""
    if not Path(path).is_file():
        raise DataError("file not found", path=name, fix="check the path")
    from fer_core.inference.images import image_size
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if image_size(head) is not None:
        raise DataError("this is a still image, not a video", path=name, fix="analyse it as an image")
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        raise DataError("not a video OpenCV can decode", path=name, fix="use an MP4, AVI, MOV, MKV or WebM file")
    return cap


def analyze_video(fer, path: str, every_nth: int = 1, max_seconds: float | None = None, smoothing: float = 1.0,
                  progress=None, name: str | None = None, on_frame=None) -> VideoResult:
    """Emotions per frame and face for at most `max_seconds` (None: the whole video). `on_frame(frame, tracks, fps)`
    sees every frame read (processed ones with their (track id, box, probabilities), others with None), e.g. to
    write an annotated copy. `name` is what messages call the file (an upload's name, not a temp path)."""
    from fer_core.errors import ConfigError
    if int(every_nth) < 1:
        raise ConfigError("every_nth must be 1 or more")
    name = name or str(path)
    cap = open_video(path, name)
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = fps if fps and 0 < fps < 1000 else 25.0
    width, height = cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)
    if width * height > MAX_VIDEO_PIXELS:
        cap.release()
        raise DataError(f"the video is {int(width)}x{int(height)}; the limit is 1920x1080", path=name,
                        fix="use a smaller video (e.g. 720p)")
    frames_total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    total_s = frames_total / fps if frames_total > 0 else None
    max_frames = int(max_seconds * fps) if max_seconds else None
    tracker = Tracker(alpha=smoothing)
    names = fer.class_names
    rows, index, last = [], 0, None
    try:
        while max_frames is None or index < max_frames:
            ok, frame = cap.read()
            if not ok:
                break
            if index % every_nth == 0:
                ff = fer.analyze_frame(frame)
                tracks = tracker.update(ff.boxes, ff.probs)
                last = [(t.id, ff.boxes[i], t.probs) for i, t in enumerate(tracks)]
                for tid, box, p in last:
                    k = int(p.argmax())
                    rows.append([index, index / fps, tid, *(int(v) for v in box), names[k], float(p[k]),
                                 *(float(v) for v in p)])
                if progress:
                    denominator = min(frames_total or max_frames or 1, max_frames or frames_total or 1)
                    progress(min(index / max(denominator, 1), 1.0))
            if on_frame is not None:
                on_frame(frame, last if index % every_nth == 0 else None, fps)
            index += 1
        cut = max_frames is not None and index >= max_frames and cap.read()[0]
    finally:
        cap.release()
    if index == 0:
        raise DataError("the video has no readable frames", path=name, fix="use an MP4, AVI, MOV, MKV or WebM file")
    import pandas as pd
    return VideoResult(pd.DataFrame(rows, columns=[*ROW_COLUMNS, *names]), index / fps, total_s, bool(cut), index, fps)
