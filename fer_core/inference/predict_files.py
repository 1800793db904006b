"""`python -m fer_core predict PATH...`: images, folders (recursively) and videos through `FER`, rows out.

One row per face (per frame for videos): path, frame, time_s, face, box, label, score and every class's
probability; an image without a face still gets a row (face empty), so every input is accounted for. A bad file
is reported on stderr in one line and never stops the rest.
"""
from __future__ import annotations

import csv
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from fer_core.errors import DataError, FerStudioError
from fer_core.inference.images import decode_image, is_image_file, read_bounded
from fer_core.inference.video import VIDEO_EXTENSIONS
from fer_core.user_paths import regular_path

FORMATS = ("csv", "jsonl")
BATCH = 256  # images decoded ahead and classified together


@dataclass
class Summary:
    images: int = 0
    videos: int = 0
    frames: int = 0
    faces: int = 0
    no_face: int = 0
    errors: list = field(default_factory=list)
    skipped: int = 0  # files in folders that are neither images nor videos
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"images": self.images, "videos": self.videos, "video_frames": self.frames, "faces": self.faces,
                "images_without_face": self.no_face, "errors": len(self.errors), "skipped_other_files": self.skipped,
                "seconds": round(self.seconds, 2),
                "images_per_s": round(self.images / self.seconds, 1) if self.seconds else None}


def _fail(summary: Summary, errors, file, message: str) -> None:
    summary.errors.append((str(file), message))
    errors.write(f"error: {message}\n")
    errors.flush()


def _wanted(f: Path) -> bool:
    return is_image_file(f) or f.suffix.lower() in VIDEO_EXTENSIONS


def collect(paths: list[str], summary: Summary, errors=None) -> list[tuple[Path, Path]]:
    """(file, the root it was named under) for every file: folders recursively in sorted order. Each file is judged
    by its stat alone, so a FIFO, device or over-limit file is one error line and never opened (a FIFO blocks)."""
    errors = errors or sys.stderr
    out = []

    def add(file: Path, root: Path, in_folder: bool) -> None:
        try:
            out.append((regular_path(file), root))
        except FileNotFoundError:
            if not in_folder:  # a broken link inside a folder is passed over, as ever
                _fail(summary, errors, file, DataError("file not found", path=str(file), fix="check the path").message)
        except DataError as exc:
            _fail(summary, errors, file, exc.message)

    for text in paths:
        p = Path(text).expanduser()
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.name.startswith(".") or f.is_dir():
                    continue
                if _wanted(f):
                    add(f, p, True)
                elif f.is_file():
                    summary.skipped += 1
        else:
            add(p, p.parent, False)
    return out


class RowWriter:
    def __init__(self, stream, fmt: str, class_names: list[str]):
        self.stream, self.fmt, self.names = stream, fmt, class_names
        self.columns = ["path", "frame", "time_s", "face", "x", "y", "w", "h", "label", "score", *class_names]
        if fmt == "csv":
            self.csv = csv.writer(stream)
            self.csv.writerow(self.columns)

    def row(self, path, frame, time_s, face_id, face) -> None:
        values = [str(path), frame, None if time_s is None else round(time_s, 3), face_id]
        if face is None:
            values += [None] * (6 + len(self.names))
        else:
            values += [*face.box, face.top, round(face.score, 5), *(round(face.emotions[n], 5) for n in self.names)]
        if self.fmt == "csv":
            self.csv.writerow(["" if v is None else v for v in values])
        else:
            self.stream.write(json.dumps(dict(zip(self.columns, values))) + "\n")


def _annotated_path(annotate: Path, file: Path, root: Path, suffix: str | None = None) -> Path:
    try:
        rel = file.relative_to(root)
    except ValueError:
        rel = Path(file.name)
    target = annotate / rel
    return target.with_suffix(suffix) if suffix else target


def _draw(frame: np.ndarray, faces) -> np.ndarray:
    from fer_core.live.draw import draw_face
    out = frame.copy()
    for i, f in enumerate(faces):
        draw_face(out, f.box, f.top, f.score, i)
    return out


def _read(file: Path):
    try:
        return decode_image(read_bounded(file), str(file)), None
    except FerStudioError as exc:
        return None, exc.message


def predict_paths(fer, paths: list[str], stream=None, fmt: str = "csv", annotate: str | None = None,
                  every_nth: int = 1, max_seconds: float | None = None, progress: bool | None = None,
                  errors=None) -> Summary:
    """Rows for every face in `paths` to `stream`; bad files go to `errors` (stderr) one line each."""
    _check_format(fmt)
    summary = Summary()
    files = collect(paths, summary, errors)
    return predict_files(fer, files, summary, stream, fmt, annotate, every_nth, max_seconds, progress, errors)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise DataError(f"unknown output format {fmt!r}", fix=f"use one of {', '.join(FORMATS)}")


def predict_files(fer, files: list[tuple[Path, Path]], summary: Summary, stream=None, fmt: str = "csv",
                  annotate: str | None = None, every_nth: int = 1, max_seconds: float | None = None,
                  progress: bool | None = None, errors=None) -> Summary:
    """predict_paths after `collect`: the CLI collects first, so refused paths never wait for a model to load."""
    stream = stream or sys.stdout
    errors = errors or sys.stderr
    _check_format(fmt)
    from tqdm import tqdm
    t0 = time.perf_counter()
    writer = RowWriter(stream, fmt, fer.class_names)
    annotate_dir = Path(annotate).expanduser() if annotate else None

    def fail(file, message):
        _fail(summary, errors, file, message)

    images = [(f, r) for f, r in files if f.suffix.lower() not in VIDEO_EXTENSIONS]
    videos = [(f, r) for f, r in files if f.suffix.lower() in VIDEO_EXTENSIONS]
    bar = tqdm(total=len(files), unit="file", disable=progress is False if progress is not None else None,
               file=errors, dynamic_ncols=True)
    with ThreadPoolExecutor(max_workers=2) as pool:  # decoding overlaps the model (OpenCV releases the GIL)
        for start in range(0, len(images), BATCH):
            chunk = images[start:start + BATCH]
            decoded = list(pool.map(lambda fr: _read(fr[0]), chunk))
            ok = [(fr, img) for fr, (img, err) in zip(chunk, decoded) if img is not None]
            for (file, _), (_, err) in zip(chunk, decoded):
                if err is not None:
                    fail(file, err)
            results = fer.predict_batch([img for _, img in ok]) if ok else []
            for ((file, root), img), faces in zip(ok, results):
                summary.images += 1
                summary.faces += len(faces)
                summary.no_face += not faces
                for i, face in enumerate(faces):
                    writer.row(file, None, None, i, face)
                if not faces:
                    writer.row(file, None, None, None, None)
                if annotate_dir is not None:
                    target = _annotated_path(annotate_dir, file, root)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    cv2.imwrite(str(target.with_suffix(".png") if target.suffix.lower() not in (".jpg", ".jpeg", ".png")
                                    else target), _draw(img, faces))
            bar.update(len(chunk))
        for file, root in videos:
            try:
                _video(fer, file, root, writer, summary, annotate_dir, every_nth, max_seconds)
            except FerStudioError as exc:
                fail(file, exc.message)
            bar.update(1)
    bar.close()
    stream.flush()
    summary.seconds = time.perf_counter() - t0
    return summary


def _video(fer, file: Path, root: Path, writer: RowWriter, summary: Summary, annotate_dir, every_nth, max_seconds):
    from fer_core.api import Face
    from fer_core.inference.video import analyze_video
    from fer_core.live.draw import draw_face
    out = {"writer": None, "last": []}
    target = _annotated_path(annotate_dir, file, root, ".mp4") if annotate_dir is not None else None

    def on_frame(frame, tracks, fps):
        if target is None:
            return
        if out["writer"] is None:
            target.parent.mkdir(parents=True, exist_ok=True)
            h, w = frame.shape[:2]
            out["writer"] = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        if tracks is not None:
            out["last"] = tracks
        frame = frame.copy()
        for tid, box, p in out["last"]:
            k = int(p.argmax())
            draw_face(frame, tuple(int(v) for v in box), fer.class_names[k], float(p[k]), tid)
        out["writer"].write(frame)

    try:
        result = analyze_video(fer, str(file), every_nth=every_nth, max_seconds=max_seconds, on_frame=on_frame)
    finally:
        if out["writer"] is not None:
            out["writer"].release()
    names = fer.class_names
    for row in result.table.to_dict("records"):
        face = Face((row["x"], row["y"], row["w"], row["h"]), {n: float(row[n]) for n in names}, row["label"],
                    float(row["confidence"]))
        writer.row(file, int(row["frame"]), float(row["time_s"]), int(row["face"]), face)
    summary.videos += 1
    summary.frames += result.frames
    summary.faces += len(result.table)
