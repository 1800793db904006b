"""Small image helpers for display."""
from __future__ import annotations

import cv2
import numpy as np


def upscale(img: np.ndarray, size: int = 144) -> np.ndarray:
    """Crisp (nearest-neighbour) enlargement, so 48x48 pixels stay visible as pixels."""
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_NEAREST)
