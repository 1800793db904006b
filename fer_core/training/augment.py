"""Vectorised NumPy augmentation (seed 000 settings): one affine warp per image, all images at once.

Keras' RandomRotation/RandomTranslation layers ran ~100x slower than the model itself on JAX/GPU; this
runs on the host for any backend, costs a few ms per batch, and is deterministic for a given RNG.
"""
from __future__ import annotations

import numpy as np


def _affine_inverse(rng: np.random.Generator, n: int, size: int, cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per-image inverse matrices (n x 2 x 2) and translations (n x 2) mapping output to input coordinates."""
    angle = np.deg2rad(rng.uniform(-1, 1, n) * float(cfg.get("rotation") or 0))
    shear = rng.uniform(-1, 1, n) * float(cfg.get("shear") or 0)
    zoom_range = float(cfg.get("zoom") or 0)
    zoom = rng.uniform(1 - zoom_range, 1 + zoom_range, n)
    shift = rng.uniform(-1, 1, (n, 2)) * float(cfg.get("shift") or 0) * size
    flip = np.where(rng.random(n) < 0.5, -1.0, 1.0) if cfg.get("hflip") else np.ones(n)
    cos, sin = np.cos(angle), np.sin(angle)
    rot = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)  # n x 2 x 2 (x, y)
    shr = np.zeros((n, 2, 2))
    shr[:, 0, 0] = 1
    shr[:, 0, 1] = shear
    shr[:, 1, 1] = 1
    scale = np.zeros((n, 2, 2))
    scale[:, 0, 0] = zoom * flip
    scale[:, 1, 1] = zoom
    forward = rot @ shr @ scale
    return np.linalg.inv(forward), shift


def augment_batch(images: np.ndarray, rng: np.random.Generator, cfg: dict) -> np.ndarray:
    """images: n x H x W (uint8 or float). Returns float32 n x H x W in 0-255."""
    n, h, w = images.shape
    inv, shift = _affine_inverse(rng, n, w, cfg)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    grid = np.stack([xs.ravel() - cx, ys.ravel() - cy], 0)  # 2 x HW
    src = inv @ (grid[None] - shift[:, :, None])  # n x 2 x HW
    sx = np.clip(src[:, 0] + cx, 0, w - 1)  # edge pixels repeat outside the image ("nearest" fill)
    sy = np.clip(src[:, 1] + cy, 0, h - 1)
    x0 = np.floor(sx).astype(np.int64)
    y0 = np.floor(sy).astype(np.int64)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    fx, fy = sx - x0, sy - y0
    flat = images.reshape(n, h * w).astype(np.float32)
    rows = np.arange(n)[:, None]

    def at(yy, xx):
        return flat[rows, yy * w + xx]

    out = (at(y0, x0) * (1 - fx) * (1 - fy) + at(y0, x1) * fx * (1 - fy)
           + at(y1, x0) * (1 - fx) * fy + at(y1, x1) * fx * fy)
    lo, hi = cfg.get("brightness") or (1.0, 1.0)
    out *= rng.uniform(lo, hi, (n, 1))
    return np.clip(out, 0, 255).reshape(n, h, w).astype(np.float32)
