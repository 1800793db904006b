"""Class counts and class weights (NumPy only, so the training path on GPU hosts can use them)."""
from __future__ import annotations

import numpy as np

from fer_core.data.schemes import UNMAPPED


def class_counts(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Samples per class; unmapped rows are left out."""
    labels = np.asarray(labels)
    return np.bincount(labels[labels != UNMAPPED], minlength=n_classes)


def balanced_class_weights(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """n_samples / (n_present * n_j), the 'balanced' heuristic over the classes that have samples (a scheme's
    empty classes, e.g. FER2024's contempt on FER2013, neither count nor get a weight: they are 0)."""
    counts = class_counts(labels, n_classes).astype(np.float64)
    present = int((counts > 0).sum())
    with np.errstate(divide="ignore"):
        w = counts.sum() / (max(present, 1) * counts)
    return np.where(counts > 0, w, 0.0)
