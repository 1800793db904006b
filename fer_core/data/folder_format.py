"""Reader for the Kaggle image-folder layout: <root>/<split>/<class>/*.jpg (or <root>/<class>/*.jpg)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fer_core.data.load_progress import report
from fer_core.data.schemes import get_scheme
from fer_core.errors import DataError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".pgm"}
SPLIT_DIRS = {"train": "Training", "training": "Training", "val": "PublicTest", "valid": "PublicTest",
              "validation": "PublicTest", "publictest": "PublicTest", "test": "PrivateTest",
              "privatetest": "PrivateTest"}
USAGE_PREFIXES = ("Training", "PublicTest", "PrivateTest")


def _split_of(split_dir: str | None, file_name: str) -> str:
    # The Kaggle release names files after their original Usage (PublicTest_123.jpg): trust that first.
    for prefix in USAGE_PREFIXES:
        if file_name.startswith(prefix + "_"):
            return prefix
    return SPLIT_DIRS.get((split_dir or "train").lower(), split_dir or "Training")


def list_images(root: Path, scheme: str = "fer2013") -> list[tuple[Path, int, str]]:
    """(file, label, split) for every image, sorted by path so row order is stable."""
    if not root.is_dir():
        raise DataError("folder not found", path=str(root), fix="point to the folder holding train/ and test/")
    sch = get_scheme(scheme)
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    split_dirs = [p for p in subdirs if p.name.lower() in SPLIT_DIRS]
    layout = [(p, p.name) for p in split_dirs] if split_dirs else [(root, None)]
    found = []
    for split_root, split_name in layout:
        for class_dir in sorted(p for p in split_root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            try:
                label = sch.index(class_dir.name)
            except DataError as exc:
                raise DataError(f"folder name '{class_dir.name}' is not a class of scheme '{scheme}'",
                                path=str(class_dir), fix=exc.fix) from None
            for f in sorted(class_dir.iterdir()):
                if f.suffix.lower() in IMAGE_SUFFIXES:
                    found.append((f, label, _split_of(split_name, f.name)))
    if not found:
        raise DataError("no images found", path=str(root),
                        fix="expected <root>/train/<class>/*.jpg (and test/), or <root>/<class>/*.jpg")
    return found


def read_image_48(path: Path) -> np.ndarray:
    import cv2  # here, not at import: the training path must load without OpenCV (GPU hosts)

    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    if img is None:
        raise DataError("unreadable image", path=str(path), fix="the file is damaged or not an image; remove it")
    if img.shape != (48, 48):
        img = cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA)
    return img


def load_folder(root: str | Path, scheme: str = "fer2013"):
    """Returns images, labels, splits, ids (relative paths)."""
    root = Path(root)
    entries = list_images(root, scheme)
    images = np.empty((len(entries), 48, 48), np.uint8)
    for i, (f, _, _) in enumerate(entries):
        images[i] = read_image_48(f)
        report(i + 1, len(entries), f"Reading images in {root.name}")
    labels = np.array([lab for _, lab, _ in entries], dtype=np.int64)
    splits = np.array([s for _, _, s in entries])
    ids = np.array([str(f.relative_to(root)) for f, _, _ in entries])
    return images, labels, splits, ids
