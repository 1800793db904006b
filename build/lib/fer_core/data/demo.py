"""Built-in demo dataset: synthetic cartoon faces, one expression style per FER2013 class.

It lets the app start and be useful with no data configured. The faces are drawn, not photographed:
the UI labels them as synthetic and says how to point the app at FER2013. It is written in the FER2013
CSV layout and read back through the same loader as real data. A few deliberate quality problems
(duplicates across splits, blank images) are planted so the quality checks have something to show.
"""
from __future__ import annotations

import numpy as np

from fer_core.data.csv_format import write_fer_csv
from fer_core.settings import cache_dir

DEMO_VERSION = 1
PER_CLASS = {"Training": 40, "PublicTest": 8, "PrivateTest": 8}
SCALE = 4  # draw at 192x192, then shrink to 48x48 for anti-aliasing


def _face(rng: np.random.Generator, label: int) -> np.ndarray:
    import cv2  # drawing only; loading the demo CSV needs no OpenCV (GPU hosts have none)

    s = 48 * SCALE
    bg = rng.integers(30, 110)
    img = np.full((s, s), bg, np.float32)
    img += np.linspace(-15, 15, s)[None, :] * rng.choice([-1, 1])
    cx, cy = s // 2 + rng.integers(-10, 11), s // 2 + rng.integers(-6, 12)
    skin = int(rng.integers(150, 215))
    cv2.ellipse(img, (int(cx), int(cy)), (int(rng.integers(58, 70)), int(rng.integers(74, 86))), 0, 0, 360, skin, -1)
    dark = int(rng.integers(20, 60))
    eye_y, eye_dx = cy - 22, 26
    eye_r = {2: 11, 5: 11}.get(label, 7) + int(rng.integers(-1, 2))
    for side in (-1, 1):
        ex = cx + side * eye_dx
        cv2.circle(img, (int(ex), int(eye_y)), eye_r, dark, -1)
        # eyebrows: inner end down (angry, disgust), inner end up (sad, fear), raised (surprise)
        inner_dy = {0: 10, 1: 6, 4: -10, 2: -8}.get(label, 0)
        lift = {5: -10, 2: -6}.get(label, 0)
        outer = (int(ex + side * 16), int(eye_y - 20 + lift))
        inner = (int(ex - side * 12), int(eye_y - 20 + lift + inner_dy))
        cv2.line(img, outer, inner, dark, 5)
    my = cy + 40
    if label == 3:  # happy: wide smile
        cv2.ellipse(img, (int(cx), int(my - 10)), (30, 20), 0, 10, 170, dark, 6)
    elif label == 4:  # sad: frown
        cv2.ellipse(img, (int(cx), int(my + 14)), (26, 14), 0, 200, 340, dark, 6)
    elif label == 5:  # surprise: round open mouth
        cv2.ellipse(img, (int(cx), int(my)), (12, 18), 0, 0, 360, dark, -1)
    elif label == 2:  # fear: wide, tense open mouth
        cv2.ellipse(img, (int(cx), int(my)), (24, 8), 0, 0, 360, dark, -1)
    elif label == 1:  # disgust: asymmetric sneer, wrinkled nose
        cv2.line(img, (int(cx - 24), int(my + 6)), (int(cx + 22), int(my - 8)), dark, 6)
        cv2.line(img, (int(cx - 8), int(cy - 2)), (int(cx - 14), int(cy + 8)), dark, 3)
        cv2.line(img, (int(cx + 8), int(cy - 2)), (int(cx + 14), int(cy + 8)), dark, 3)
    elif label == 0:  # angry: tight, short mouth
        cv2.line(img, (int(cx - 14), int(my)), (int(cx + 14), int(my)), dark, 8)
    else:  # neutral: plain line
        cv2.line(img, (int(cx - 22), int(my)), (int(cx + 22), int(my)), dark, 4)
    angle = rng.uniform(-12, 12)
    rot = cv2.getRotationMatrix2D((s / 2, s / 2), angle, rng.uniform(0.9, 1.1))
    img = cv2.warpAffine(img, rot, (s, s), borderMode=cv2.BORDER_REFLECT)
    img = cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA)
    img = img * rng.uniform(0.75, 1.2) + rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def generate(seed: int = 2013):
    """Images, labels, usage for the demo set (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    images, labels, usage = [], [], []
    for split, n in PER_CLASS.items():
        for label in range(7):
            for _ in range(n):
                images.append(_face(rng, label))
                labels.append(label)
                usage.append(split)
    images = np.stack(images)
    labels = np.array(labels)
    usage = np.array(usage)
    # planted quality problems: two test images that also occur in Training, one duplicated pair with
    # conflicting labels, and two blank frames
    train_idx = np.flatnonzero(usage == "Training")
    for test_row, train_row in zip(np.flatnonzero(usage == "PublicTest")[:2], train_idx[:2]):
        images[test_row] = images[train_row]
        labels[test_row] = labels[train_row]
    images[train_idx[-1]] = images[train_idx[-200]]
    images[np.flatnonzero(usage == "PrivateTest")[-1]] = 0
    images[train_idx[100]] = 128
    return images, labels, usage


def demo_csv_path():
    """Write (once) and return the demo dataset as a FER2013-layout CSV in the cache folder."""
    path = cache_dir() / f"demo-faces-v{DEMO_VERSION}.csv"
    if not path.exists():
        images, labels, usage = generate()
        write_fer_csv(path, images, labels, usage)
    return path
