"""Vectorised NumPy augmentation: one affine warp per image (seed 000 settings), random erasing, and
batch-level mixup / cutmix that mix the targets too. All images of a batch are processed at once.

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


_GRIDS: dict[tuple[int, int], np.ndarray] = {}


def _centred_grid(h: int, w: int) -> np.ndarray:
    """2 x HW output pixel coordinates (x, y) relative to the image centre, cached per size."""
    if (h, w) not in _GRIDS:
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        _GRIDS[(h, w)] = np.stack([xs.ravel() - (w - 1) / 2, ys.ravel() - (h - 1) / 2], 0)
    return _GRIDS[(h, w)]


def augment_batch(images: np.ndarray, rng: np.random.Generator, cfg: dict) -> np.ndarray:
    """images: n x H x W (uint8 or float). Returns float32 n x H x W in 0-255 (float32 maths throughout)."""
    n, h, w = images.shape
    inv, shift = _affine_inverse(rng, n, w, cfg)
    grid = _centred_grid(h, w)
    src = inv.astype(np.float32) @ (grid[None] - shift.astype(np.float32)[:, :, None])  # n x 2 x HW
    sx = np.clip(src[:, 0] + (w - 1) / 2, 0, w - 1)  # edge pixels repeat outside the image ("nearest" fill)
    sy = np.clip(src[:, 1] + (h - 1) / 2, 0, h - 1)
    x0f, y0f = np.floor(sx), np.floor(sy)
    fx, fy = sx - x0f, sy - y0f
    x0, y0 = x0f.astype(np.int32), y0f.astype(np.int32)
    dx = (x0 < w - 1).astype(np.int32)  # step to the right/lower neighbour, 0 at the last column/row
    dy = (y0 < h - 1).astype(np.int32) * w
    flat = images.reshape(-1).astype(np.float32)
    i00 = y0 * w + x0 + (np.arange(n, dtype=np.int32) * (h * w))[:, None]
    top = flat[i00] * (1 - fx) + flat[i00 + dx] * fx
    bottom = flat[i00 + dy] * (1 - fx) + flat[i00 + dy + dx] * fx
    out = top * (1 - fy) + bottom * fy
    lo, hi = cfg.get("brightness") or (1.0, 1.0)
    out *= rng.uniform(lo, hi, (n, 1)).astype(np.float32)
    return np.clip(out, 0, 255).reshape(n, h, w)


def random_erasing(images: np.ndarray, rng: np.random.Generator, probability: float,
                   area: tuple[float, float] = (0.02, 0.25), aspect: tuple[float, float] = (0.3, 3.3)) -> np.ndarray:
    """Replace one random rectangle per chosen image with uniform noise (Zhong et al. 2017). In place; float input."""
    n, h, w = images.shape
    chosen = rng.random(n) < probability
    target_area = rng.uniform(*area, n) * h * w
    log_ratio = rng.uniform(np.log(aspect[0]), np.log(aspect[1]), n)
    eh = np.clip(np.round(np.sqrt(target_area * np.exp(log_ratio))), 1, h).astype(int)
    ew = np.clip(np.round(np.sqrt(target_area / np.exp(log_ratio))), 1, w).astype(int)
    top = (rng.random(n) * (h - eh + 1)).astype(int)
    left = (rng.random(n) * (w - ew + 1)).astype(int)
    ys = np.arange(h)[None, :, None]
    xs = np.arange(w)[None, None, :]
    mask = ((ys >= top[:, None, None]) & (ys < (top + eh)[:, None, None])
            & (xs >= left[:, None, None]) & (xs < (left + ew)[:, None, None]) & chosen[:, None, None])
    noise = rng.uniform(0, 255, images.shape).astype(images.dtype)
    images[mask] = noise[mask]
    return images


def mix_batch(images: np.ndarray, targets: np.ndarray, weights: np.ndarray, rng: np.random.Generator,
              cfg: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mixup (Zhang et al. 2018) or CutMix (Yun et al. 2019) on a whole batch, with probability cfg['mix_prob']."""
    mixup, cutmix = float(cfg.get("mixup") or 0), float(cfg.get("cutmix") or 0)
    if not (mixup or cutmix) or rng.random() >= float(cfg.get("mix_prob", 0.5)):
        return images, targets, weights
    use_cutmix = cutmix > 0 and (mixup <= 0 or rng.random() < 0.5)
    lam = float(rng.beta(cutmix, cutmix) if use_cutmix else rng.beta(mixup, mixup))
    perm = rng.permutation(len(images))
    if use_cutmix:
        n, h, w = images.shape
        ch, cw = int(round(h * np.sqrt(1 - lam))), int(round(w * np.sqrt(1 - lam)))
        cy, cx = int(rng.integers(h)), int(rng.integers(w))
        y0, y1 = max(cy - ch // 2, 0), min(cy + (ch + 1) // 2, h)
        x0, x1 = max(cx - cw // 2, 0), min(cx + (cw + 1) // 2, w)
        images = images.copy()
        images[:, y0:y1, x0:x1] = images[perm, y0:y1, x0:x1]
        lam = 1 - (y1 - y0) * (x1 - x0) / (h * w)  # the pasted area decides the target mix
    else:
        images = lam * images + (1 - lam) * images[perm]
    return (images.astype(np.float32), (lam * targets + (1 - lam) * targets[perm]).astype(np.float32),
            (lam * weights + (1 - lam) * weights[perm]).astype(np.float32))


def augment_training_batch(images: np.ndarray, targets: np.ndarray, weights: np.ndarray,
                           rng: np.random.Generator, cfg: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Everything the config asks for, in order: affine + brightness, random erasing, then mixup / cutmix."""
    x = augment_batch(images, rng, cfg)
    if cfg.get("erasing"):
        x = random_erasing(x, rng, float(cfg["erasing"]))
    return mix_batch(x, targets, weights, rng, cfg)
