"""Compiled batch classification of face crops with a saved run's model."""
from __future__ import annotations

import numpy as np

from fer_core.models.predict import compiled_call
from fer_core.runs.loader import load_model
from fer_core.runs.run import Run

PAD_TO = 8  # beyond 8 faces, batches are padded to a multiple of 8


def padded_size(n: int) -> int:
    """1, 2, 4, 8, then multiples of 8: few distinct shapes, so the compiled predict function is rarely retraced."""
    if n <= PAD_TO:
        return 1 << (n - 1).bit_length()
    return -(-n // PAD_TO) * PAD_TO


class FaceClassifier:
    def __init__(self, run_dir):
        self.run = Run.load(run_dir).require_usable()
        self.model = load_model(self.run)
        self.class_names = self.run.class_names
        self._call = compiled_call(self.model)
        self.predict(np.zeros((1, 48, 48), np.uint8))  # warm-up: trace the compiled path once

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """faces: n x 48 x 48 uint8 -> n x K probabilities, via the compiled call."""
        n = len(faces)
        if n == 0:
            return np.zeros((0, len(self.class_names)), np.float32)
        padded = padded_size(n)
        x = np.zeros((padded, 48, 48, 1), np.float32)
        x[:n, ..., 0] = faces
        return np.asarray(self._call(x))[:n]
