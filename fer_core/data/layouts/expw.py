"""ExpW (Expression in-the-Wild) as distributed (https://mmlab.ie.cuhk.edu.hk/projects/socialrelation/index.html):

    label/label.lst   "<image> <face id> <top> <left> <right> <bottom> <confidence> <expression 0-6>"
                      (0-6 = angry, disgust, fear, happy, sad, surprise, neutral)
    image/origin/<image>   the full photos (several faces each)

Each face is cropped at its box; the detector's confidence stays as an extra column. ExpW ships no split: each
photo's faces go together to Training, PublicTest or PrivateTest (8:1:1 by a hash of the photo's name).
"""
from __future__ import annotations

from pathlib import Path

from fer_core.data.layouts.faces import Row, face_at_box, hashed_split, inside
from fer_core.errors import DataError
from fer_core.user_paths import regular_path

NAME = "ExpW"
WHERE = "https://mmlab.ie.cuhk.edu.hk/projects/socialrelation/index.html (free for research)"
LABEL_NAME = "label.lst"
LABEL_PLACES = ("", "label", "data/label")
IMAGE_PLACES = ("origin", "image/origin", "data/image/origin", "../image/origin", "../origin")


def _label_file(path: Path) -> Path | None:
    if path.is_file():
        return path if path.name.lower() == LABEL_NAME else None
    for place in LABEL_PLACES:
        if (path / place / LABEL_NAME).is_file():
            return path / place / LABEL_NAME
    return None


def root_of(path: Path) -> Path | None:
    return path if _label_file(path) is not None else None


def _image_root(label_file: Path) -> Path:
    for base in (label_file.parent, label_file.parent.parent, label_file.parent.parent.parent):
        for place in IMAGE_PLACES:
            if (base / place).is_dir():
                return (base / place).resolve()
    raise DataError(f"{NAME}: {LABEL_NAME} found but no origin/ image folder near it", path=str(label_file.parent),
                    fix="unpack the photos so that image/origin/<image> sits beside label/label.lst")


def read(path: Path):
    label_file = _label_file(path)
    images = _image_root(label_file)
    rows = []
    with open(regular_path(label_file), errors="replace") as fh:
        for n, line in enumerate(fh):
            parts = line.split()
            if not parts:
                continue
            try:
                if len(parts) != 8:
                    raise ValueError
                top, left, right, bottom = (float(v) for v in parts[2:6])
                confidence, label = float(parts[6]), int(parts[7])
            except ValueError:
                raise DataError(f"{NAME}: line {n + 1} of {LABEL_NAME} is not '<image> <face id> <top> <left> <right> "
                                "<bottom> <confidence> <expression>'", path=str(label_file),
                                fix="use label.lst as distributed") from None
            if not 0 <= label <= 6:
                raise DataError(f"{NAME}: line {n + 1} of {LABEL_NAME} has expression {label}, outside 0-6",
                                path=str(label_file), fix="use label.lst as distributed")
            rows.append(Row(inside(images, parts[0]), label, "", f"{parts[0]}#{parts[1]}",
                            box=(left, top, right - left, bottom - top), extras={"confidence": confidence}))
    for row, split in zip(rows, hashed_split([r.id.rsplit("#", 1)[0] for r in rows])):
        row.split = str(split)
    notes = ["Faces: cropped at ExpW's boxes; the box detector's confidence is kept as an extra column.",
             "ExpW ships no split: each photo's faces are in one of Training, PublicTest, PrivateTest (8:1:1, by a "
             "hash of the photo's name)."]
    return rows, face_at_box, [label_file], notes
