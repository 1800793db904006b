"""Likely label errors from out-of-fold probabilities: confident-learning thresholds + self-confidence ranking.

Written from the method's description (Northcutt et al., "Confident Learning", 2021); cleanlab itself is
AGPL and is not a dependency.
"""
from __future__ import annotations

import numpy as np


def class_thresholds(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """t_j = mean predicted probability of class j over the examples labelled j."""
    k = probs.shape[1]
    return np.array([probs[labels == j, j].mean() if (labels == j).any() else 1.0 for j in range(k)])


def rank_label_issues(labels: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, flagged): all rows, likely issues first (lowest self-confidence first), and the issue mask.

    An example is flagged when its given label's probability is below that class's threshold and some other
    class is confidently predicted (probability at or above its own threshold).
    """
    labels = np.asarray(labels)
    t = class_thresholds(labels, probs)
    self_conf = probs[np.arange(len(labels)), labels]
    confident_other = (probs >= t[None, :])
    confident_other[np.arange(len(labels)), labels] = False
    flagged = (self_conf < t[labels]) & confident_other.any(axis=1)
    order = np.lexsort((self_conf, ~flagged))  # flagged first, then by ascending self-confidence
    return order, flagged


def rank_by_run(run, ds) -> tuple[np.ndarray, int]:
    """Dataset rows ordered by likely label error under a saved run's predictions (rows whose label has no
    counterpart in the run's scheme are left out), and how many are flagged."""
    from fer_core.api import FER
    from fer_core.data.schemes import UNMAPPED, map_labels
    labels = map_labels(ds.labels, ds.scheme, run.scheme)
    known = np.flatnonzero(labels != UNMAPPED)
    probs = FER(run, detector=None).classify(ds.images[known])
    order, flagged = rank_label_issues(labels[known], probs)
    return known[order], int(flagged.sum())


def rank_by_oof(path, project) -> tuple[np.ndarray, int]:
    """Project rows ordered by likely label error under out-of-fold probabilities (a k-fold job's file; its ids
    that the project's dataset lacks are left out), and how many are flagged."""
    from fer_core.relabel.oof import load_oof
    oof = load_oof(path)
    order, flagged = rank_label_issues(oof["labels"], oof["probs"])
    rows = np.array([project.row_of[i] for i in oof["ids"][order] if i in project.row_of], dtype=int)
    return rows, int(flagged.sum())
