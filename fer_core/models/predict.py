"""Class probabilities from a model, optionally averaged over test-time augmentation views.

Kept free of scikit-learn/scipy so training (incl. distillation on GPU hosts) and evaluation share it.
"""
from __future__ import annotations

import numpy as np

from fer_core.errors import DataError

TTA_MODES = {"none": "no test-time augmentation", "flip": "image + mirror (2 views)",
             "shift10": "image + mirror, each also shifted 2 px up/down/left/right (10 views)"}
SHIFT_PX = 2


def tta_mode(tta: bool | str | None) -> str:
    """True/False (older callers) or a mode name -> a mode name."""
    mode = {True: "flip", False: "none", None: "none"}.get(tta, tta)
    if mode not in TTA_MODES:
        raise DataError(f"unknown test-time augmentation '{tta}'", fix=f"use one of {', '.join(TTA_MODES)}")
    return mode


def tta_views(x: np.ndarray, mode: str):
    """The views of N x H x W x 1 images a mode averages over; shifts repeat edge pixels (no wrap-around)."""
    if mode == "none":
        yield x
        return
    if mode == "shift10":
        s, (h, w) = SHIFT_PX, x.shape[1:3]
        padded = np.pad(x, ((0, 0), (s, s), (s, s), (0, 0)), mode="edge")
        for dy, dx in ((0, 0), (-s, 0), (s, 0), (0, -s), (0, s)):
            view = padded[:, s + dy:s + dy + h, s + dx:s + dx + w]
            yield view
            yield view[:, :, ::-1]
        return
    yield x
    yield x[:, :, ::-1]


def predict_probs(model, images: np.ndarray, tta: bool | str = False, batch_size: int = 256) -> np.ndarray:
    """Class probabilities, averaged over the test-time augmentation views of `tta` (see TTA_MODES)."""
    x = images[..., None].astype(np.float32)
    views = [np.asarray(model.predict(np.ascontiguousarray(v), batch_size=batch_size, verbose=0))
             for v in tta_views(x, tta_mode(tta))]
    return np.mean(views, axis=0)
