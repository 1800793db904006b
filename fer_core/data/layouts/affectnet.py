"""AffectNet as distributed (http://mohammadmahoor.com/affectnet/, on request):

    Manually_Annotated_file_lists/training.csv, validation.csv
        subDirectory_filePath, face_x, face_y, face_width, face_height, facial_landmarks, expression, valence, arousal
        (expression 0-10 = neutral, happy, sad, surprise, fear, disgust, anger, contempt, none, uncertain, no-face)
    Manually_Annotated_Images/<subDirectory_filePath>

Each face is cropped at its given box; valence and arousal stay as extra columns. training.csv -> Training and
validation.csv -> PrivateTest (AffectNet's own test set is not released: papers report on validation); training holds
a seeded share of Training out for model selection. Codes 8-10 are kept as classes of their own (see schemes.json).
"""
from __future__ import annotations

import csv
from pathlib import Path

from fer_core.data.layouts.faces import Row, face_at_box, inside
from fer_core.errors import DataError
from fer_core.user_paths import regular_path

NAME = "AffectNet"
WHERE = "http://mohammadmahoor.com/affectnet/ (by request; the manually annotated part)"
LISTS = {"training.csv": "Training", "validation.csv": "PrivateTest"}
LIST_DIRS = ("Manually_Annotated_file_lists", "")
IMAGE_DIRS = ("Manually_Annotated_Images", "Manually_Annotated/Manually_Annotated_Images", "images")
COLUMNS = ("subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "expression")


def _lists(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if path.name.lower() in LISTS else []
    found = []
    for d in LIST_DIRS:
        found += [path / d / name for name in LISTS if (path / d / name).is_file()]
    return found


def _header(file: Path) -> list[str]:
    with open(regular_path(file), newline="", errors="replace") as fh:
        return next(csv.reader(fh), [])


def root_of(path: Path) -> Path | None:
    """The AffectNet folder when `path` is it or one of its lists (a CSV whose header has AffectNet's columns)."""
    lists = _lists(path)
    if lists and "subDirectory_filePath" in _header(lists[0]):
        return path if path.is_dir() else path.parent
    return None


def _image_root(folder: Path) -> Path:
    for base in (folder, folder.parent):
        for d in IMAGE_DIRS:
            if (base / d).is_dir():
                return base / d
    raise DataError(f"{NAME}: the lists were found but no {IMAGE_DIRS[0]}/ folder beside them", path=str(folder),
                    fix=f"unpack the images so that {IMAGE_DIRS[0]}/<subDirectory_filePath> exists")


def read(path: Path):
    lists = _lists(path) if path.is_file() else _lists(root_of(path))
    images = _image_root(lists[0].parent)
    rows = []
    for file in lists:
        split = LISTS[file.name.lower()]
        with open(regular_path(file), newline="", errors="replace") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f"{NAME}: {file.name} has no column {', '.join(missing)}", path=str(file),
                                fix="use the file lists as distributed (header subDirectory_filePath,face_x,...)")
            for n, rec in enumerate(reader):
                try:
                    label = int(rec["expression"])
                    box = tuple(float(rec[c]) for c in ("face_x", "face_y", "face_width", "face_height"))
                    valence, arousal = float(rec.get("valence") or "nan"), float(rec.get("arousal") or "nan")
                except (TypeError, ValueError):
                    raise DataError(f"{NAME}: row {n + 1} of {file.name} has a non-numeric box or expression",
                                    path=str(file), fix="use the file lists as distributed") from None
                if not 0 <= label <= 10:
                    raise DataError(f"{NAME}: row {n + 1} of {file.name} has expression {label}, outside 0-10",
                                    path=str(file), fix="use the file lists as distributed")
                rel = rec["subDirectory_filePath"].strip()
                rows.append(Row(inside(images, rel), label, split, rel, box=box,
                                extras={"valence": valence, "arousal": arousal}))
    notes = ["Faces: cropped at AffectNet's face boxes. Valence and arousal are kept as extra columns.",
             "Expressions 8-10 (none, uncertain, no-face) are classes of their own: FER2013 has no counterpart "
             "(left out when scored there), FER2024 maps them to unknown / not-a-face."]
    return rows, face_at_box, lists, notes
