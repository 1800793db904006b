"""Side-by-side comparison of evaluations on one test set: table, per-class F1, paired tests, errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fer_core.evaluation.evaluate import Evaluation
from fer_core.evaluation.stats import cochran_q, friedman, mcnemar
from fer_core.runs.layout import HISTORY


def summary_table(evals: list[Evaluation]) -> pd.DataFrame:
    return pd.DataFrame([e.summary_row() for e in evals])


def recorded_table(runs) -> pd.DataFrame:
    """The test figures each run recorded when it was trained (metrics.json), for runs that cannot be
    evaluated here; columns named like summary_table's."""
    rows = []
    for run in runs:
        test = (run.metrics or {}).get("test") or {}
        rows.append({"model": run.id, "dataset": run.record.dataset or run.data, "split": test.get("split"),
                     "n": test.get("n"), "accuracy": test.get("accuracy"), "macro F1": test.get("macro_f1"),
                     "figures": "recorded at training"})
    return pd.DataFrame(rows)


def per_class_f1(evals: list[Evaluation]) -> pd.DataFrame:
    rows = [{"model": e.name, "class": c, "f1": v["f1"]} for e in evals for c, v in e.metrics["per_class"].items()]
    return pd.DataFrame(rows)


def _aligned(evals: list[Evaluation]) -> bool:
    return len(evals) > 1 and all(np.array_equal(e.ids, evals[0].ids) for e in evals[1:])


def mcnemar_matrix(evals: list[Evaluation]) -> pd.DataFrame | None:
    """Pairwise McNemar p-values (None unless all evaluations score the same images in the same order)."""
    if not _aligned(evals):
        return None
    names = [e.name for e in evals]
    p = np.ones((len(evals), len(evals)))
    for i in range(len(evals)):
        for j in range(i + 1, len(evals)):
            p[i, j] = p[j, i] = mcnemar(evals[i].correct, evals[j].correct)["p_value"]
    return pd.DataFrame(p, index=names, columns=names)


def omnibus_tests(evals: list[Evaluation]) -> dict | None:
    """Cochran's Q on correctness and Friedman on the true-class probability, for three or more models."""
    if len(evals) < 3 or not _aligned(evals):
        return None
    correct = np.stack([e.correct for e in evals], axis=1)
    true_prob = np.stack([e.probs[np.arange(len(e.y_true)), e.y_true] for e in evals], axis=1)
    return {"cochran_q": cochran_q(correct), "friedman_true_class_prob": friedman(true_prob)}


def misclassified(ev: Evaluation, true_class: str | None = None, pred_class: str | None = None) -> pd.DataFrame:
    """Wrong predictions (optionally for one true -> predicted pair), most confident first."""
    pred = ev.probs.argmax(axis=1)
    wrong = pred != ev.y_true
    if true_class:
        wrong &= ev.y_true == ev.class_names.index(true_class)
    if pred_class:
        wrong &= pred == ev.class_names.index(pred_class)
    rows = np.flatnonzero(wrong)
    conf = ev.probs[rows, pred[rows]]
    order = np.argsort(-conf)
    rows = rows[order]
    return pd.DataFrame({"id": ev.ids[rows], "true": [ev.class_names[t] for t in ev.y_true[rows]],
                         "predicted": [ev.class_names[p] for p in pred[rows]], "confidence": conf[order]})


def load_history(run_dir: str | Path) -> pd.DataFrame | None:
    path = Path(run_dir) / HISTORY
    if not path.exists() or path.stat().st_size == 0:
        return None
    return pd.read_csv(path)
