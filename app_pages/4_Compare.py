import numpy as np
import streamlit as st

from fer_core.app.charts import confusion_figure, curves_figure, p_phrase, per_class_f1_figure, pvalue_figure
from fer_core.errors import FerStudioError
from fer_core.evaluation.compare import (load_history, mcnemar_matrix, misclassified, omnibus_tests, per_class_f1,
                                         recorded_table, summary_table)
from fer_core.evaluation.evaluate import ALL_SPLITS, GROUND_TRUTHS, class_coverage_lines
from fer_core.evaluation.memo import MEMO
from fer_core.app.imaging import upscale
from fer_core.models.predict import TTA_MODES
from fer_core.runs.store import default_run, default_selection, list_runs
from fer_core.data.sources import available_sources
from fer_core.user_paths import readable_path
from fer_core.app.sweep_view import ablation_table
from fer_core.app.ui import broken_runs_notice, load, model_card, show_error
from fer_core.sweeps.study import figures, list_studies, summary
from fer_core.sweeps.study import load as load_study

st.title("Compare")

all_runs = list_runs()
runs = [r for r in all_runs if not r.broken]
broken_runs_notice(all_runs)
if not runs:
    st.info("No usable runs under `models/` yet. Train one on the Train page (or `python -m fer_core train`).")
    st.stop()
by_id = {r.id: r for r in runs}
shipped = default_run()
if shipped is not None:
    with st.expander(f"Default model card: `{shipped.id}`"):
        model_card(shipped)
studies = list_studies()
if studies:
    with st.expander(f"Sweeps ({len(studies)})"):
        name = st.selectbox("Study", studies, key="sweep_study")
        try:
            study, _ = load_study(name)
            result = summary(study)
            st.caption(" · ".join(f"{n} {state}" for state, n in result["counts"].items())
                       + (f" · best: trial {result['best']['trial']}, validation accuracy "
                          f"{result['best']['value']:.1%}, run `{result['best']['run_id']}`" if result["best"] else ""))
            st.dataframe([{**{k: t[k] for k in ("trial", "state", "value", "run_id")}, **t["params"]}
                          for t in result["trials"]], hide_index=True)
            ablation_table(result)
            for title, fig in figures(study).items():
                st.plotly_chart(fig, key=f"sweep_{title}")
        except FerStudioError as exc:
            show_error(exc)
chosen = st.sidebar.multiselect("Runs", list(by_id), default=default_selection(runs, shipped))
ensemble = st.sidebar.multiselect("Ensemble (average of probabilities)", list(by_id), default=[],
                                  help="Pick two or more runs; the ensemble is evaluated like one model.")
sources = available_sources()
OTHER = "Other path…"
data_choice = st.sidebar.selectbox("Evaluate on", ["Each run's training dataset"] + [s.label for s in sources] + [OTHER],
                                   help="Any dataset the app reads: scored on the classes it shares with each model")
typed_data = None
if data_choice == OTHER:
    typed_data = st.sidebar.text_input("Dataset path (CSV, image folder, RAF-DB / AffectNet / JAFFE / ExpW folder)",
                                       key="compare_data_path").strip()
    if not typed_data:
        st.info("Type the path of the dataset to evaluate on in the sidebar.")
        st.stop()
    try:
        typed_data = str(readable_path(typed_data))  # inside the configured data roots, a bounded regular file
    except FerStudioError as exc:
        show_error(exc)
        st.stop()
split = st.sidebar.selectbox("Split", ["PrivateTest", "PublicTest", "Training", ALL_SPLITS])
tta = st.sidebar.selectbox("Test-time augmentation", list(TTA_MODES), format_func=lambda m: f"{m}: {TTA_MODES[m]}")
truth_options = ["each run's"] + list(GROUND_TRUTHS)
truth_choice = st.sidebar.selectbox("Ground truth", truth_options,
                                    format_func=lambda g: g if g not in GROUND_TRUTHS else f"{g}: {GROUND_TRUTHS[g]}",
                                    help="Runs trained on FERPlus votes default to FERPlus majority labels.")
ground_truth = None if truth_choice == "each run's" else truth_choice
exclude_leaks = st.sidebar.checkbox("Exclude test images that also occur in Training")
normalise = st.sidebar.checkbox("Row-normalised confusion matrices", value=True)


def shown_evaluation(members: tuple, **options):
    """One evaluation from the server's memo, or computed now under a progress bar."""
    runs = [by_id[m] for m in members]
    if MEMO.get(runs, **options) is not None:
        return MEMO.get(runs, **options)
    name = members[0] if len(members) == 1 else f"ensemble of {len(members)}"
    bar = st.progress(0.0, text=f"Evaluating {name}…")
    # the bar is also the way out: changing an option (or closing the tab) stops the script at its next update
    ev = MEMO.evaluate(runs, progress=lambda f: bar.progress(min(f, 1.0), text=f"Evaluating {name}… {f:.0%} (change "
                                                             "any option to stop)"), **options)
    bar.empty()
    return ev


data = (None if data_choice.startswith("Each run") else typed_data if data_choice == OTHER
        else sources[[s.label for s in sources].index(data_choice)].path)
# a run whose training data is not on this machine (a fresh clone) shows the figures recorded when it was trained
missing = [m for m in dict.fromkeys(chosen + ensemble) if data is None and not by_id[m].data_available()]
if missing:
    st.info(f"The training data of {len(missing)} selected run(s) is not on this machine "
            f"({', '.join(sorted({str(by_id[m].data) for m in missing}))}): below are the figures recorded when "
            "they were trained. To evaluate again (other splits, TTA, statistical tests, misclassified images), set "
            "FER_DATA or FER_DATA_DIR to your copy and restart, or pick a dataset under 'Evaluate on'.")
    st.dataframe(recorded_table([by_id[m] for m in missing]), hide_index=True)
groups = [(m,) for m in chosen if m not in missing]
if len(ensemble) >= 2 and not set(ensemble) & set(missing):
    groups.append(tuple(ensemble))
if not groups:
    if not missing:
        st.info("Choose runs in the sidebar.")
    st.stop()
evals = []
for members in groups:
    try:
        evals.append(shown_evaluation(members, data=data, split=split, tta=tta, exclude_leaks=exclude_leaks,
                                      ground_truth=ground_truth))
    except FerStudioError as exc:
        show_error(exc)
if not evals:
    st.stop()

table = summary_table(evals)
st.subheader("Metrics")
scored_on = sorted({(e.dataset, e.metrics["n"]) for e in evals})
on = (f"{scored_on[0][0]} · split {split} · {scored_on[0][1]:,} images" if len(scored_on) == 1 else
      f"split {split} of different datasets (each run's own; see the 'dataset' column): "
      + "; ".join(f"{d}, {n:,} images" for d, n in scored_on))
st.caption(on
           + (f" · {evals[0].excluded_leaks:,} leaked test images excluded" if exclude_leaks else "")
           + (f" · TTA {tta}" if tta != "none" else "") + " · 95% CIs: percentile bootstrap, 1,000 resamples. Click a column to sort.")
st.dataframe(table, hide_index=True)
st.download_button("Download table (CSV)", table.to_csv(index=False).encode(), "compare.csv", "text/csv")
for ev in evals:
    for line in class_coverage_lines(ev):
        st.info(f"{ev.name}: {line}")

st.subheader("Per-class F1")
st.plotly_chart(per_class_f1_figure(per_class_f1(evals)), key="f1_chart")

st.subheader("Confusion matrices")
cols = st.columns(min(len(evals), 3))
for i, ev in enumerate(evals):
    key = "confusion_matrix_normalised" if normalise else "confusion_matrix"
    with cols[i % len(cols)]:
        st.plotly_chart(confusion_figure(np.array(ev.metrics[key]), ev.class_names, ev.class_names, ev.name[:60]),
                        key=f"cm_{i}")

st.subheader("Training curves")
histories = {r: h for r in chosen if (h := load_history(by_id[r].path)) is not None}
if histories:
    c1, c2 = st.columns(2)
    c1.plotly_chart(curves_figure(histories, "accuracy"), key="curve_acc")
    c2.plotly_chart(curves_figure(histories, "loss"), key="curve_loss")

st.subheader("Statistical tests")
pvals = mcnemar_matrix(evals)
if pvals is None:
    st.caption("Paired tests need at least two models scored on the same images.")
else:
    st.plotly_chart(pvalue_figure(pvals), key="mcnemar")
    omni = omnibus_tests(evals)
    if omni:
        st.write(f"Cochran's Q = {omni['cochran_q']['statistic']:.3f}, {p_phrase(omni['cochran_q']['p_value'])}; "
                 f"Friedman (true-class probability) χ² = {omni['friedman_true_class_prob']['statistic']:.3f}, "
                 f"{p_phrase(omni['friedman_true_class_prob']['p_value'])}")

st.subheader("Misclassified test images")
names = [e.name for e in evals]
pick = st.selectbox("Model", range(len(evals)), format_func=lambda i: names[i][:80], key="gallery_model")
ev = evals[pick]
c1, c2 = st.columns(2)
true_c = c1.selectbox("True class", ["(any)"] + ev.class_names, key="gallery_true")
pred_c = c2.selectbox("Predicted class", ["(any)"] + ev.class_names, key="gallery_pred")
wrong = misclassified(ev, None if true_c == "(any)" else true_c, None if pred_c == "(any)" else pred_c)
st.caption(f"{len(wrong):,} misclassified images; most confident first.")
if len(wrong):
    try:
        ds = load(data or by_id[ev.members[0]].data_path() or "demo")
        pos = {i: n for n, i in enumerate(ds.ids.tolist())}
        shown = wrong.head(30)
        st.image([upscale(ds.images[pos[i]], 128) for i in shown["id"]], width=128,  # room for "surprise→neutral"
                 caption=[f"{t}→{p} {c:.0%}" for t, p, c in zip(shown["true"], shown["predicted"], shown["confidence"])])
    except FerStudioError as exc:
        show_error(exc)
