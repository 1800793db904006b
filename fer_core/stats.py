"""Class balance and class weights per split."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .dataset import Dataset
from .schemes import UNMAPPED


def class_balance(ds: Dataset) -> pd.DataFrame:
    """Long table: split, class, count, percent (of the split's mapped rows). Unmapped rows get class '(unmapped)'."""
    names = list(ds.class_names)
    rows = []
    for split in ds.split_names:
        labels = ds.labels[ds.splits == split]
        counts = np.bincount(labels[labels != UNMAPPED], minlength=len(names))
        total = counts.sum()
        for name, c in zip(names, counts):
            rows.append({"split": split, "class": name, "count": int(c),
                         "percent": 100.0 * c / total if total else 0.0})
        unmapped = int((labels == UNMAPPED).sum())
        if unmapped:
            rows.append({"split": split, "class": "(unmapped)", "count": unmapped, "percent": float("nan")})
    return pd.DataFrame(rows)


def class_weights(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """n_samples / (n_classes * n_j) (the 'balanced' heuristic); 0 for classes with no samples."""
    labels = labels[labels != UNMAPPED]
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    with np.errstate(divide="ignore"):
        w = len(labels) / (n_classes * counts)
    return np.where(counts > 0, w, 0.0)


def class_weight_table(ds: Dataset) -> pd.DataFrame:
    names = list(ds.class_names)
    data = {split: class_weights(ds.labels[ds.splits == split], len(names)) for split in ds.split_names}
    return pd.DataFrame(data, index=pd.Index(names, name="class")).round(3)
