"""Compare page: the paired statistics of an ablation sweep (variants x seeds) as a table with a reading aid."""
from __future__ import annotations

import streamlit as st

from fer_core.app.charts import p_phrase, p_text
from fer_core.sweeps.analysis import METRICS, ablation_report, arm_of


def ablation_table(summary: dict) -> None:
    """Each arm against the reference, paired by seed; nothing when the study has fewer than two arms."""
    arms = {arm_of(t["params"]) for t in summary["trials"] if t["state"] == "complete"}
    if len(arms) < 2:
        return
    metric = st.selectbox("Paired tests on", list(METRICS), key=f"ablation_metric_{summary['study']}",
                          help="Each trial's run is evaluated on its test split after training; the tests only "
                               "report differences, no model is selected by them.")
    report = ablation_report(summary, metric=metric)
    if not report["arms"]:
        st.caption("No paired results yet: the arms need finished trials with the same seeds.")
        return
    st.markdown(f"**Ablation against `{report['reference']}`** ({metric}, mean {report['reference_mean']:.1%} over "
                f"{report['reference_n']} seeds): paired by seed; t-test and Wilcoxon signed-rank (SciPy).")
    st.dataframe([{"variant": a["arm"], "seeds paired": a["n_pairs"], f"mean {metric}": f"{a['mean']:.1%}",
                   "difference": "—" if a["mean_difference"] is None else f"{a['mean_difference']:+.1%}", "paired t-test p": p_text(a["t_p"]),
                   "Wilcoxon p": p_text(a["wilcoxon_p"])} for a in report["arms"]], hide_index=True)
    notes = []
    if report["anova_p"] is not None:
        notes.append(f"One-way ANOVA across all variants: F = {report['anova_f']:.2f}, {p_phrase(report['anova_p'])}.")
    if min(a["n_pairs"] for a in report["arms"]) < 6:
        notes.append("With fewer than 6 seeds the Wilcoxon test cannot reach p < 0.05 (its smallest p with n seeds "
                     "is 2/2ⁿ): add seeds to the spec for a conclusive test.")
    if notes:
        st.caption(" ".join(notes))
