"""FER2013 labels against FERPlus votes: the cross table behind the label-agreement view."""
from __future__ import annotations

import numpy as np

from fer_core.data.dataset import Dataset
from fer_core.data.ferplus import votes_labels
from fer_core.data.schemes import UNMAPPED, get_scheme


def ferplus_cross_table(ds: Dataset, mode: str = "majority") -> tuple[np.ndarray, list[str], list[str], float, int]:
    """Counts [dataset class x FERPlus class], and agreement (fraction) over rows whose FERPlus label maps back."""
    fp = votes_labels(ds, mode)
    rows, cols = list(ds.class_names), list(get_scheme("ferplus").classes)
    valid = (ds.labels != UNMAPPED) & (fp != UNMAPPED)
    table = np.zeros((len(rows), len(cols)), dtype=np.int64)
    np.add.at(table, (ds.labels[valid], fp[valid]), 1)
    mapped = votes_labels(ds, mode, ds.scheme)
    comparable = valid & (mapped != UNMAPPED)
    agreement = float((mapped[comparable] == ds.labels[comparable]).mean()) if comparable.any() else float("nan")
    return table, rows, cols, agreement, int(comparable.sum())
