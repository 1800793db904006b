"""Statistics for comparing models on one test set: bootstrap CIs, McNemar, Cochran's Q and Friedman."""
from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.metrics import f1_score


def bootstrap_ci(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int, n_boot: int = 1000, seed: int = 0,
                 level: float = 0.95) -> dict:
    """Percentile bootstrap CIs for accuracy and macro-F1 (resampling test images with replacement)."""
    rng = np.random.default_rng(seed)
    n = len(y_true)
    idx = rng.integers(0, n, (n_boot, n))
    correct = (y_true == y_pred).astype(np.float64)
    accs = correct[idx].mean(axis=1)
    labels = list(range(n_classes))
    f1s = np.array([f1_score(y_true[i], y_pred[i], labels=labels, average="macro", zero_division=0) for i in idx])
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return {"accuracy_ci": [float(np.percentile(accs, lo)), float(np.percentile(accs, hi))],
            "macro_f1_ci": [float(np.percentile(f1s, lo)), float(np.percentile(f1s, hi))],
            "n_boot": n_boot, "level": level}


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> dict:
    """McNemar's test on paired correctness. Exact binomial test when discordant pairs < 25, else chi² with
    continuity correction."""
    b = int((correct_a & ~correct_b).sum())
    c = int((~correct_a & correct_b).sum())
    if b + c == 0:
        return {"b": b, "c": c, "statistic": 0.0, "p_value": 1.0, "method": "no discordant pairs"}
    if b + c < 25:
        p = stats.binomtest(b, b + c, 0.5).pvalue
        return {"b": b, "c": c, "statistic": float(min(b, c)), "p_value": float(p), "method": "exact binomial"}
    chi2 = (abs(b - c) - 1) ** 2 / (b + c)
    return {"b": b, "c": c, "statistic": float(chi2), "p_value": float(stats.chi2.sf(chi2, 1)),
            "method": "chi-squared, continuity corrected"}


def cochran_q(correct: np.ndarray) -> dict:
    """Cochran's Q for k >= 3 models' paired binary correctness (n x k)."""
    x = correct.astype(np.float64)
    k = x.shape[1]
    col, row = x.sum(axis=0), x.sum(axis=1)
    denom = k * row.sum() - (row ** 2).sum()
    if denom == 0:
        return {"statistic": 0.0, "p_value": 1.0, "df": k - 1}
    q = (k - 1) * (k * (col ** 2).sum() - row.sum() ** 2) / denom
    return {"statistic": float(q), "p_value": float(stats.chi2.sf(q, k - 1)), "df": k - 1}


def friedman(scores: np.ndarray) -> dict:
    """Friedman test over k >= 3 models on n paired blocks (n x k scores, e.g. per-image log-probability of the
    true class, which is continuous and so ranks meaningfully)."""
    res = stats.friedmanchisquare(*[scores[:, j] for j in range(scores.shape[1])])
    return {"statistic": float(res.statistic), "p_value": float(res.pvalue), "df": scores.shape[1] - 1}
