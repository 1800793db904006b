"""What every distributed layout shares: reading its images safely, turning each into a 48x48 grey face (a given
box cropped, or a face found by the app's own detector), in parallel, straight into one preallocated array.

A file that is missing or cannot be decoded costs its row, never the load: the rows left out are counted and named
in the dataset's notes, so nothing disappears silently.
"""
from __future__ import annotations

import io
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fer_core.data.load_progress import report

IMAGE_SIZE = 48
MAX_IMAGE_BYTES = 64 * 1024 * 1024  # a larger file in a face dataset is not a photo of a face
MAX_PIXELS = 50_000_000
CROP_MARGIN = 0.1  # as the app's inference crops (api.FER), so training and prediction see the same framing


@dataclass
class Row:
    """One face to read: its image file, the label index, the split, an id, and the face box if the layout gives one
    (x, y, w, h in the original image's pixels)."""
    file: Path | None  # None: the label file named a path outside the dataset's folder
    label: int
    split: str
    id: str
    box: tuple[float, float, float, float] | None = None
    extras: dict = field(default_factory=dict)


class Unreadable(Exception):
    """A row's image could not be used (the reason is kept for the dataset's notes)."""


def inside(base: Path, relative: str) -> Path | None:
    """`base/relative` when it stays inside `base` (a label file is data: it may not point elsewhere), else None."""
    rel = Path(relative.strip())
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        return None
    return base / rel


def read_gray(path: Path | None) -> np.ndarray:
    """The image at `path` as grey uint8, refusing non-files, oversized files and decompression bombs."""
    import cv2
    from PIL import Image

    if path is None:
        raise Unreadable("its path leaves the dataset's folder")
    try:
        st = os.stat(path)
    except OSError:
        raise Unreadable("missing") from None
    if not stat.S_ISREG(st.st_mode):
        raise Unreadable("not a regular file")
    if st.st_size > MAX_IMAGE_BYTES:
        raise Unreadable(f"larger than {MAX_IMAGE_BYTES // 2**20} MB")
    data = np.fromfile(str(path), dtype=np.uint8)
    try:  # the header alone says how large the decoded image would be
        with Image.open(io.BytesIO(data.tobytes())) as probe:
            width, height = probe.size
    except (OSError, ValueError, Image.DecompressionBombError):
        raise Unreadable("not a readable image") from None
    if width * height > MAX_PIXELS:
        raise Unreadable(f"more than {MAX_PIXELS:,} pixels")
    img = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    if img is None or img.size == 0:
        raise Unreadable("not a readable image")
    return img


def box_crop(gray: np.ndarray, box) -> np.ndarray:
    """The square face crop around a given box, 48x48, the way the app crops a detected face."""
    from fer_core.live.detect import crop_faces

    h, w = gray.shape
    x, y, bw, bh = (float(v) for v in box)
    x0, y0, x1, y1 = max(x, 0.0), max(y, 0.0), min(x + bw, w), min(y + bh, h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        raise Unreadable(f"face box {tuple(round(v) for v in box)} lies outside the {w}x{h} image")
    return crop_faces(gray, np.array([[x0, y0, x1 - x0, y1 - y0]], dtype=np.int64), CROP_MARGIN, IMAGE_SIZE)[0]


def face_at_box(gray: np.ndarray, row: Row) -> np.ndarray:
    """The face of a row whose layout gives its box."""
    if row.box is None:
        raise Unreadable("no face box given")
    return box_crop(gray, row.box)


def whole(gray: np.ndarray) -> np.ndarray:
    """An image that already is a face (aligned crops): resized to 48x48."""
    import cv2

    if gray.shape == (IMAGE_SIZE, IMAGE_SIZE):
        return gray
    return cv2.resize(gray, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)


class FaceFinder:
    """The largest face the app's detector finds (eyes levelled, as at inference); None when it finds none."""

    def __init__(self):
        import threading

        self._local = threading.local()  # a detector's networks are not shared between threads

    def __call__(self, gray: np.ndarray) -> np.ndarray | None:
        from fer_core.live.detect import FaceDetector, crop_faces

        detector = getattr(self._local, "detector", None)
        if detector is None:
            detector = self._local.detector = FaceDetector()
        import cv2

        boxes, eyes = detector.locate(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
        if not len(boxes):
            return None
        k = int(np.argmax(boxes[:, 2] * boxes[:, 3]))
        aligned = eyes[k:k + 1] if eyes is not None and detector.settings.align else None
        return crop_faces(gray, boxes[k:k + 1], CROP_MARGIN, IMAGE_SIZE, eyes=aligned)[0]


def read_faces(rows: list[Row], face_of, out: np.ndarray, workers: int | None = None) -> tuple[np.ndarray, dict]:
    """Fill `out[i]` with `face_of(gray, row)` for every row, in threads (OpenCV releases the GIL).

    Returns a mask of the rows that worked and {reason: [ids]} for the rest.
    """
    ok = np.zeros(len(rows), bool)
    failed: dict[str, list[str]] = {}

    def one(i: int):
        try:
            face = face_of(read_gray(rows[i].file), rows[i])
        except Unreadable as exc:
            return i, str(exc)
        if face is None:
            return i, "no face found"
        out[i] = face
        return i, None

    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        for done, (i, problem) in enumerate(pool.map(one, range(len(rows)), chunksize=64), start=1):
            report(done, len(rows), "Reading faces")
            if problem is None:
                ok[i] = True
            else:
                failed.setdefault(problem, []).append(rows[i].id)
    return ok, failed


def failure_notes(failed: dict[str, list[str]], total: int) -> list[str]:
    """One note per reason: how many rows, and the first few ids so the user can look."""
    notes = []
    for reason, ids in sorted(failed.items(), key=lambda kv: -len(kv[1])):
        shown = ", ".join(ids[:3]) + (", …" if len(ids) > 3 else "")
        notes.append(f"{len(ids)} of {total} images left out ({reason}): {shown}.")
    return notes


def hashed_split(keys: list[str], shares=(("Training", 8), ("PublicTest", 1), ("PrivateTest", 1))) -> np.ndarray:
    """A deterministic split per key (sha1 of the key), for layouts that ship none: the same key, the same split."""
    import hashlib

    total = sum(n for _, n in shares)
    bounds = np.cumsum([n for _, n in shares])
    names = [s for s, _ in shares]
    out = []
    for key in keys:
        bucket = int(hashlib.sha1(key.encode()).hexdigest(), 16) % total
        out.append(names[int(np.searchsorted(bounds, bucket, side="right"))])
    return np.array(out)
