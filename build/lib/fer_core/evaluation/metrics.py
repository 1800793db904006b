"""Full metric set from labels and predicted probabilities (scikit-learn / SciPy; ECE is the one hand-written)."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    balanced_accuracy_score,
    cohen_kappa_score,
    log_loss,
    precision_recall_fscore_support,
    roc_auc_score,
)

from fer_core.evaluation.classification import classification_metrics


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray, bins: int = 15) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size (Guo et al. 2017)."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def full_metrics(y_true: np.ndarray, probs: np.ndarray, class_names) -> dict:
    k = len(class_names)
    labels = list(range(k))
    y_pred = probs.argmax(axis=1)
    basic = classification_metrics(y_true, probs, class_names)  # accuracy, per-class P/R/F1, confusion (NumPy)
    present = [c for c in labels if (y_true == c).any()]
    try:
        if len(present) >= 2:
            sub = probs[:, present] / np.clip(probs[:, present].sum(axis=1, keepdims=True), 1e-12, None)
            mask = np.isin(y_true, present)
            auc = float(roc_auc_score(y_true[mask], sub[mask], multi_class="ovr", labels=present, average="macro"))
        else:
            auc = float("nan")
    except ValueError:
        auc = float("nan")
    cm = np.array(basic["confusion_matrix"])
    with np.errstate(invalid="ignore", divide="ignore"):
        cm_norm = np.nan_to_num(cm / cm.sum(axis=1, keepdims=True))
    out = {
        "n": int(len(y_true)),
        "accuracy": basic["accuracy"],
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)) if len(present) else float("nan"),
        "cohen_kappa": float(cohen_kappa_score(y_true, y_pred, labels=labels)),
        "log_loss": float(log_loss(y_true, np.clip(probs, 1e-7, 1), labels=labels)),
        "ece": expected_calibration_error(y_true, probs),
        "auc_ovr_macro": auc,
        "per_class": basic["per_class"],
        "confusion_matrix": basic["confusion_matrix"],
        "confusion_matrix_normalised": np.round(cm_norm, 4).tolist(),
    }
    for avg in ("macro", "weighted"):
        pa, ra, fa, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=avg, zero_division=0)
        out[f"{avg}_precision"], out[f"{avg}_recall"], out[f"{avg}_f1"] = float(pa), float(ra), float(fa)
    return out
