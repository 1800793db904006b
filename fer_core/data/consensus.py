"""Consensus labels from several annotators, estimated by crowd-kit (Apache-2.0): Dawid–Skene (each annotator
has a confusion matrix, learnt by EM together with the true labels) and majority vote; each annotator's
confusion matrix against the consensus and a quality score.

Input is a long table, one row per label: task (image id), worker (annotator), label (class index). The FERPlus
release publishes ten vote counts per image and not who voted, so its crowd enters as one pseudo-annotator,
"ferplus", with one row per vote: Dawid–Skene then learns the crowd's confusion matrix and the class priors.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from fer_core.errors import DataError

METHODS = {"dawid-skene": "Dawid–Skene (EM over annotators' confusion matrices)", "majority": "majority vote"}
FERPLUS_WORKER = "ferplus"
DS_ITERATIONS = 100


def _check(labels: pd.DataFrame, method: str, n_classes: int) -> pd.DataFrame:
    if method not in METHODS:
        raise DataError(f"unknown consensus method '{method}'", fix=f"use one of {', '.join(METHODS)}")
    missing = {"task", "worker", "label"} - set(labels.columns)
    if missing:
        raise DataError(f"labels table lacks column(s) {', '.join(sorted(missing))}")
    labels = labels[["task", "worker", "label"]].astype({"task": str, "worker": str, "label": int})
    if len(labels) and (labels["label"].min() < 0 or labels["label"].max() >= n_classes):
        raise DataError(f"labels must be class indices 0..{n_classes - 1}")
    return labels.reset_index(drop=True)


def estimate(labels: pd.DataFrame, n_classes: int, method: str = "dawid-skene") -> pd.DataFrame:
    """Per task: `label` (consensus), `confidence` (its probability), `n_labels`, `unanimous`, and one
    probability column per class (p0..p{n-1}). Empty in, empty out."""
    labels = _check(labels, method, n_classes)
    columns = ["label", "confidence", "n_labels", "unanimous"] + [f"p{c}" for c in range(n_classes)]
    if labels.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="task"))
    from crowdkit.aggregation import DawidSkene, MajorityVote
    with warnings.catch_warnings():  # crowd-kit 1.4 uses pandas keywords that pandas 3 deprecates
        warnings.filterwarnings("ignore", module="crowdkit")
        if method == "dawid-skene":
            probs = DawidSkene(n_iter=DS_ITERATIONS, tol=1e-6).fit_predict_proba(labels)
        else:
            probs = MajorityVote().fit_predict_proba(labels)
    probs = probs.reindex(columns=range(n_classes), fill_value=0.0).fillna(0.0)
    probs.columns = [f"p{c}" for c in range(n_classes)]
    values = probs.to_numpy()
    stats = labels.groupby("task")["label"].agg(n_labels="size", distinct="nunique")
    out = pd.DataFrame({"label": values.argmax(axis=1), "confidence": values.max(axis=1)}, index=probs.index)
    out["n_labels"] = stats["n_labels"].reindex(out.index).astype(int)
    out["unanimous"] = stats["distinct"].reindex(out.index) == 1
    out.index.name = "task"
    return pd.concat([out, probs], axis=1)[columns]


def annotator_quality(labels: pd.DataFrame, consensus: pd.DataFrame, n_classes: int) -> dict:
    """Per annotator: how many labels, agreement with the consensus (on tasks that someone else labelled too,
    so a lone label cannot agree with itself), a confusion matrix (rows: consensus, columns: the annotator's
    label) and a quality score (Cohen's kappa against the consensus on those tasks; None below 5 tasks)."""
    from sklearn.metrics import cohen_kappa_score
    labels = _check(labels, "majority", n_classes)
    shared = labels[labels["task"].map(consensus["n_labels"]).fillna(0) >= 2]
    out = {}
    for worker, rows in labels.groupby("worker"):
        mine = shared[shared["worker"] == worker]
        truth = consensus.loc[mine["task"], "label"].to_numpy(dtype=int)
        given = mine["label"].to_numpy(dtype=int)
        matrix = np.zeros((n_classes, n_classes), dtype=int)
        np.add.at(matrix, (truth, given), 1)
        kappa = None
        if len(mine) >= 5 and len(set(truth) | set(given)) > 1:
            kappa = float(cohen_kappa_score(truth, given, labels=list(range(n_classes))))
        out[worker] = {"labels": int(len(rows)), "shared": int(len(mine)),
                       "agreement": float((truth == given).mean()) if len(mine) else None,
                       "kappa": kappa, "confusion": matrix}
    return out


def ferplus_crowd(votes: np.ndarray, task_ids) -> pd.DataFrame:
    """FERPlus vote counts (N x classes) as a long labels table: one row per vote, worker 'ferplus'."""
    votes = np.asarray(votes, dtype=np.int64)
    rows, classes = np.nonzero(votes)
    counts = votes[rows, classes]
    task_ids = np.asarray([str(t) for t in task_ids])
    return pd.DataFrame({"task": np.repeat(task_ids[rows], counts), "worker": FERPLUS_WORKER,
                         "label": np.repeat(classes, counts)})


def crowd_labels(votes: np.ndarray, no_votes: int) -> np.ndarray:
    """Dawid–Skene labels of a crowd given as vote counts (N x classes), one per row; rows without votes get
    `no_votes`. (For FERPlus the last two classes are 'unknown' and 'not a face': a caller maps them out.)"""
    votes = np.asarray(votes)
    table = estimate(ferplus_crowd(votes, np.arange(len(votes))), votes.shape[1], "dawid-skene")
    out = np.full(len(votes), no_votes, dtype=np.int64)
    out[table.index.astype(int)] = table["label"].to_numpy()
    return out
