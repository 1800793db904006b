"""Small copies of RAF-DB, AffectNet, JAFFE and ExpW built to their documented layouts from real faces (CK+), so
the readers are tested on the files as distributed without shipping the datasets."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

BACKGROUND = 120


def photo_with(faces, size=(360, 480), at=None, side=120) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A grey 'photo' with each face pasted at `side` px; returns it (BGR) and the boxes (x, y, w, h)."""
    h, w = size
    img = np.full((h, w), BACKGROUND, np.uint8)
    boxes = []
    for k, face in enumerate(faces):
        x, y = at[k] if at else (30 + k * (side + 40), 60)
        img[y:y + side, x:x + side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
        boxes.append((x, y, side, side))
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR), boxes


def rafdb(root: Path, faces, labels, original: bool = False) -> Path:
    """basic/EmoLabel/list_patition_label.txt + Image/aligned (or original + Annotation/boundingbox). Labels 0-6 in
    the rafdb scheme are written as RAF-DB's codes 1-7; the first 3/4 are train_, the rest test_."""
    basic = root / "basic"
    (basic / "EmoLabel").mkdir(parents=True)
    lines = []
    n_train = len(faces) * 3 // 4
    for i, (face, label) in enumerate(zip(faces, labels)):
        name = f"train_{i + 1:05d}.jpg" if i < n_train else f"test_{i - n_train + 1:04d}.jpg"
        lines.append(f"{name} {int(label) + 1}")
        stem = Path(name).stem
        if original:
            img, [(x, y, w, h)] = photo_with([face], at=[(40 + i % 5 * 10, 50)])
            (basic / "Image" / "original").mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(basic / "Image" / "original" / name), img)
            (basic / "Annotation" / "boundingbox").mkdir(parents=True, exist_ok=True)
            (basic / "Annotation" / "boundingbox" / f"{stem}_boundingbox.txt").write_text(
                f"{x:.1f} {y:.1f} {x + w:.1f} {y + h:.1f}\n")
        else:
            (basic / "Image" / "aligned").mkdir(parents=True, exist_ok=True)
            aligned = cv2.cvtColor(cv2.resize(face, (100, 100), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2BGR)
            cv2.imwrite(str(basic / "Image" / "aligned" / f"{stem}_aligned.jpg"), aligned, [cv2.IMWRITE_JPEG_QUALITY, 98])
    (basic / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")
    return root


AFFECTNET_HEADER = ("subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,"
                    "valence,arousal")


def affectnet(root: Path, faces, labels) -> Path:
    """Manually_Annotated_file_lists/{training,validation}.csv + Manually_Annotated_Images/<dir>/<hash>.jpg."""
    lists, images = root / "Manually_Annotated_file_lists", root / "Manually_Annotated_Images"
    lists.mkdir(parents=True)
    rows = {"training.csv": [], "validation.csv": []}
    for i, (face, label) in enumerate(zip(faces, labels)):
        rel = f"{100 + i % 3}/{i:040x}.jpg"
        img, [(x, y, w, h)] = photo_with([face], at=[(60 + i % 4 * 15, 40)], side=150)
        (images / rel).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(images / rel), img, [cv2.IMWRITE_JPEG_QUALITY, 98])
        landmarks = ";".join(f"{x + k}.0" for k in range(10))
        valence, arousal = round(-1 + 2 * i / len(faces), 3), round(0.5 - i / len(faces), 3)
        file = "validation.csv" if i % 4 == 3 else "training.csv"
        rows[file].append(f"{rel},{x},{y},{w},{h},{landmarks},{int(label)},{valence},{arousal}")
    for file, lines in rows.items():
        (lists / file).write_text("\n".join([AFFECTNET_HEADER, *lines]) + "\n")
    return root


JAFFE_CODES = ("AN", "DI", "FE", "HA", "NE", "SA", "SU")


def jaffe(root: Path, faces, posers=("KA", "KL", "KM")) -> Path:
    """jaffedbase/<poser>.<code><n>.<id>.tiff, 256x256 grey, one face per photo (every code for every poser)."""
    folder = root / "jaffedbase"
    folder.mkdir(parents=True)
    k = 0
    for poser in posers:
        for code in JAFFE_CODES:
            face = faces[k % len(faces)]
            img = np.full((256, 256), BACKGROUND, np.uint8)
            img[40:240, 28:228] = cv2.resize(face, (200, 200), interpolation=cv2.INTER_CUBIC)
            cv2.imwrite(str(folder / f"{poser}.{code}1.{k + 10}.tiff"), img)
            k += 1
    return root


def expw(root: Path, faces, labels) -> Path:
    """label/label.lst + image/origin/<photo>.jpg with two faces per photo."""
    (root / "label").mkdir(parents=True)
    (root / "image" / "origin").mkdir(parents=True)
    lines = []
    for p in range(0, len(faces) - 1, 2):
        name = f"happy_people_{p // 2}.jpg"
        img, boxes = photo_with(faces[p:p + 2])
        cv2.imwrite(str(root / "image" / "origin" / name), img, [cv2.IMWRITE_JPEG_QUALITY, 98])
        for face_id, (x, y, w, h) in enumerate(boxes):
            # ExpW's order: top left right bottom
            lines.append(f"{name} {face_id} {y} {x} {x + w} {y + h} {0.9 + face_id / 100:.2f} {int(labels[p + face_id])}")
    (root / "label" / "label.lst").write_text("\n".join(lines) + "\n")
    return root
