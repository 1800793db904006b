"""Paired statistics for ablation sweeps: each variant against the reference, paired by seed.

A trial's arm is its "variant" parameter (or, in a sweep without variants, its parameters other than the seed);
trials that share a seed are paired. Per arm: the mean difference to the reference over the seeds both finished,
a paired t-test and a Wilcoxon signed-rank test (SciPy); across all arms a one-way ANOVA. The metric is read from
each trial's run (test accuracy by default: these are reported, never used to pick a model).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fer_core.runs import layout

METRICS = {"test accuracy": ("test", "accuracy"), "test macro F1": ("test", "macro_f1"),
           "validation accuracy": ("val", "accuracy"), "validation macro F1": ("val", "macro_f1")}


@dataclass(frozen=True)
class ArmTest:
    arm: str
    n_pairs: int
    mean: float
    mean_difference: float | None  # arm minus reference; None without a shared seed
    t_p: float | None
    wilcoxon_p: float | None


def arm_of(params: dict) -> str:
    if "variant" in params:
        return str(params["variant"])
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "seed") or "all"


def trial_values(trials: list[dict], models: Path, metric: str = "test accuracy") -> list[dict]:
    """[{arm, seed, value}] for the completed trials whose run holds the metric."""
    split, key = METRICS[metric]
    rows = []
    for t in trials:
        if t["state"] != "complete" or not t.get("run_id"):
            continue
        try:
            metrics = json.loads((models / t["run_id"] / layout.METRICS).read_text())
            value = float(metrics[split][key])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a deleted or unevaluated run is left out, not guessed
        rows.append({"arm": arm_of(t["params"]), "seed": t["params"].get("seed", 0), "value": value})
    return rows


def paired_tests(rows: list[dict], reference: str | None = None) -> dict:
    """Each arm against `reference` (default: "full" if present, else the first arm), paired by seed."""
    import numpy as np
    from scipy import stats

    by_arm: dict[str, dict] = {}
    for r in rows:
        by_arm.setdefault(r["arm"], {})[r["seed"]] = r["value"]
    if not by_arm:
        return {"reference": None, "arms": [], "anova_p": None, "anova_f": None}
    ref = reference if reference in by_arm else ("full" if "full" in by_arm else next(iter(by_arm)))
    tests = []
    for arm, values in by_arm.items():
        if arm == ref:
            continue
        seeds = sorted(set(values) & set(by_arm[ref]))
        diff = np.array([values[s] - by_arm[ref][s] for s in seeds])
        t_p = w_p = None
        if len(seeds) >= 2 and np.any(diff != diff[0]):
            t_p = float(stats.ttest_rel([values[s] for s in seeds], [by_arm[ref][s] for s in seeds]).pvalue)
        if len(seeds) >= 2 and np.any(diff != 0):
            w_p = float(stats.wilcoxon(diff).pvalue)
        tests.append(ArmTest(arm, len(seeds), float(np.mean(list(values.values()))),
                             float(diff.mean()) if len(seeds) else None, t_p, w_p))
    groups = [list(v.values()) for v in by_arm.values() if len(v) >= 2]
    anova_f = anova_p = None
    if len(groups) >= 2 and any(np.var(g) > 0 for g in groups):
        result = stats.f_oneway(*groups)
        anova_f, anova_p = float(result.statistic), float(result.pvalue)
    return {"reference": ref, "reference_mean": float(np.mean(list(by_arm[ref].values()))),
            "reference_n": len(by_arm[ref]), "arms": tests, "anova_f": anova_f, "anova_p": anova_p}


def ablation_report(summary: dict, models: Path | None = None, metric: str = "test accuracy") -> dict:
    """paired_tests over a study summary (sweeps.study.summary), as plain JSON-able data."""
    from fer_core.settings import models_dir
    result = paired_tests(trial_values(summary["trials"], Path(models) if models else models_dir(), metric))
    result["arms"] = [vars(a) for a in result["arms"]]
    result["metric"] = metric
    return result
