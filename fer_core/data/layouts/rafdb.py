"""RAF-DB basic as distributed (http://www.whdeng.cn/raf/model1.html, on request):

    basic/EmoLabel/list_patition_label.txt   "train_00001.jpg 5" (1-7 = surprise, fear, disgust, happiness,
                                             sadness, anger, neutral)
    basic/Image/aligned/train_00001_aligned.jpg   100x100 aligned colour faces (used when present)
    basic/Image/original/train_00001.jpg          full photos, cropped with
    basic/Annotation/boundingbox/train_00001_boundingbox.txt   "x1 y1 x2 y2"

Split from the file names: train_ -> Training, test_ -> PrivateTest (RAF-DB has no validation split: training
holds a seeded share of Training out for it).
"""
from __future__ import annotations

from pathlib import Path

from fer_core.data.layouts.faces import Row, face_at_box, whole
from fer_core.errors import DataError
from fer_core.user_paths import regular_path

LABEL_FILE = Path("EmoLabel") / "list_patition_label.txt"
SPLITS = {"train": "Training", "test": "PrivateTest"}
NAME = "RAF-DB basic"
WHERE = "http://www.whdeng.cn/raf/model1.html (by request to the authors; the 'basic' part)"


def root_of(path: Path) -> Path | None:
    """The `basic/` folder when `path` is it, its parent, or the label file itself."""
    for candidate in (path, path / "basic"):
        if (candidate / LABEL_FILE).is_file():
            return candidate
    if path.name == LABEL_FILE.name and path.parent.name == "EmoLabel":
        return path.parent.parent
    return None


def _box(file: Path) -> tuple[float, float, float, float] | None:
    try:
        if not file.is_file() or file.stat().st_size > 4096:  # four numbers; never a pipe or a huge file
            return None
        x1, y1, x2, y2 = (float(v) for v in file.read_text().split()[:4])
    except (OSError, ValueError):
        return None  # the row is left out, and named, when its face is read
    return x1, y1, x2 - x1, y2 - y1


def read(path: Path):
    """(rows, face_of, label_files, notes) for the build step."""
    root = root_of(path)
    labels_file = root / LABEL_FILE
    aligned, original = root / "Image" / "aligned", root / "Image" / "original"
    if not aligned.is_dir() and not original.is_dir():
        raise DataError(f"{NAME}: {LABEL_FILE} found but neither Image/aligned/ nor Image/original/ beside it",
                        path=str(root), fix="unpack aligned.zip (or original.zip) into basic/Image/")
    rows = []
    for n, line in enumerate(regular_path(labels_file).read_text(errors="replace").splitlines()):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[1].isdigit() or not 1 <= int(parts[1]) <= 7:
            raise DataError(f"{NAME}: line {n + 1} of the label file is not '<image> <label 1-7>'",
                            path=str(labels_file), fix="use the list_patition_label.txt from the basic part")
        name, label = parts[0], int(parts[1]) - 1
        prefix = name.split("_", 1)[0]
        if prefix not in SPLITS:
            raise DataError(f"{NAME}: the image name on line {n + 1} starts neither with train_ nor test_",
                            path=str(labels_file), fix="the split is read from the file name prefix")
        stem = Path(name).stem
        if aligned.is_dir():
            rows.append(Row(aligned / f"{stem}_aligned.jpg", label, SPLITS[prefix], name))
        else:
            rows.append(Row(original / name, label, SPLITS[prefix], name,
                            box=_box(root / "Annotation" / "boundingbox" / f"{stem}_boundingbox.txt")))
    if aligned.is_dir():
        return rows, lambda gray, row: whole(gray), [labels_file], ["Faces: RAF-DB's aligned 100x100 crops, resized."]
    return rows, face_at_box, [labels_file], ["Faces: RAF-DB's original photos cropped at their bounding boxes."]

