from dataclasses import replace
from pathlib import Path

import streamlit as st

from fer_core.app import config_form as form
from fer_core.app.charts import history_figure
from fer_core.app.train_plan import CUSTOM, training_plan
from fer_core.errors import DataError, FerStudioError, RunError
from fer_core.jobs.store import ACTIVE, JobStore, eta_seconds, job_rows
from fer_core.data.ferplus import LABEL_SOURCES
from fer_core.models import ARCHITECTURES
from fer_core.runs.store import cut_off_runs, usable_runs
from fer_core.data.schemes import all_schemes
from fer_core.runs.layout import CONFIG
from fer_core.settings import models_dir
from fer_core.data.sources import available_sources
from fer_core.training.config import TrainConfig, field_meta
from fer_core.training.data import check_trainable
from fer_core.app.ui import broken_runs_notice, link_to_page, load, show_error, typed_dataset
from fer_core.sweeps.spec import SweepSpec, parse_json, templates
from fer_core.user_paths import readable_path

st.title("Train")
broken_runs_notice()
store = JobStore()
sources = available_sources()
# The form's rows: every widget's label, range, step and help come from TrainConfig's field metadata
RUN_ROWS = [("epochs", "batch_size", "learning_rate", "seed"),
            ("optimizer", "lr_schedule", "early_stopping_patience", "label_smoothing"),
            ("class_weights", "mixed_precision", "exclude_leaks_from_training", "max_train_images", "jit_compile")]
AUGMENT_ROWS = [("augment_enabled", "augment.rotation", "augment.shift", "augment.shear", "augment.zoom",
                 "augment.hflip"),
                ("augment.erasing", "augment.mixup", "augment.cutmix", "augment.mix_prob", "weight_decay")]
BACKBONE_ROWS = [("weights_path", "head_epochs", "fine_tune_layers")]

with st.expander("New training job", expanded=not store.list()):
    c1, c2 = st.columns(2)
    # outside the form so that the defaults below follow the dataset and the recipe
    source_label = c1.selectbox("Dataset", [s.label for s in sources] + ["Other path…"], key="train_dataset")
    other_path = ""
    if source_label == "Other path…":
        other_path = c1.text_input("Other path (CSV, .csv.gz, image folder, or a RAF-DB / AffectNet / JAFFE / ExpW folder)", key="train_other_path")
    chosen = None if source_label == "Other path…" else sources[[s.label for s in sources].index(source_label)].path
    # a typed path is opened as soon as it is entered: a Relabel export is fer2024, not fer2013
    typed = typed_dataset(other_path.strip()) if other_path.strip() else None
    if typed is not None:
        c1.caption(f"{typed.name}: {len(typed):,} images, labels in {typed.scheme}, splits "
                   f"{', '.join(typed.split_names)}")
    plan = training_plan(chosen, typed, other_path.strip())
    recipe_names = [r.name for r in plan.recipes] + [CUSTOM]
    recipe_name = c2.selectbox("Recipe", recipe_names, key=f"train_recipe_{plan.key}",
                               format_func=lambda n: plan.titles.get(n, n),
                               help="Named recipes that fit this dataset, the best measured first (validation "
                                    "accuracy of the run that measured it here). `python -m fer_core recipes` lists "
                                    "them all; `train --recipe NAME` trains one from the command line.")
    D = plan.config(recipe_name)
    c2.caption(plan.describe(recipe_name))
    arch_titles = {a.title: a for a in ARCHITECTURES.values()}
    arch = arch_titles[c2.selectbox("Architecture", list(arch_titles),
                                    index=list(ARCHITECTURES).index(D.architecture))]
    D = replace(D, architecture=arch.name).resolved()  # batch size, rate and input size follow the architecture
    with st.form("train_form"):
        labels = form.rows(D, [("scheme", "label_source")],
                           {"scheme": (list(all_schemes()), None), "label_source": (None, LABEL_SOURCES.get)})
        values = form.rows(D, RUN_ROWS)
        st.markdown("**Augmentation**")
        values.update(form.rows(D, AUGMENT_ROWS))
        st.markdown("**Distillation** (optional): learn from saved runs' predictions as well as the labels")
        d1, d2, d3 = st.columns([3, 1, 1])
        known = [r.id for r in usable_runs()]
        teachers = d1.multiselect(field_meta("teacher_runs")["label"], known,
                                  default=[t for t in plan.teacher_ids(recipe_name) if t in known])
        distill_weight = form.widget(D if D.distill_weight else replace(D, distill_weight=0.5), "distill_weight", d2)
        temperature = form.widget(D, "distill_temperature", d3)
        if arch.pretrained_capable:
            st.markdown("**Backbone** (ImageNet weights cannot be downloaded here: give a local file or train from scratch)")
            values.update(form.rows(D, BACKBONE_ROWS))
        run_name = form.widget(D, "run_name")
        submitted = st.form_submit_button("Start training", type="primary")
    if submitted and source_label == "Other path…" and other_path.strip() and typed is None:
        pass  # the error box under the path already says what is wrong with it
    elif submitted:
        data = chosen or other_path.strip()
        try:
            if not data:
                raise DataError("no dataset path given", fix="choose a dataset or type a path")
            if source_label == "Other path…":
                data = str(readable_path(data))  # inside the configured roots
            if values.get("weights_path"):
                values["weights_path"] = str(readable_path(values["weights_path"]))
            cfg = D.with_overrides({**labels, **values, "data": data, "architecture": arch.name, "run_name": run_name,
                                    "teacher_runs": [str(models_dir() / t) for t in teachers],
                                    "distill_weight": float(distill_weight) if teachers else 0.0,
                                    "distill_temperature": float(temperature)})
            check_trainable(cfg, load(data))  # a dataset that loads and has labelled training rows: now, not after queueing
            job_id = store.submit(cfg, adjust=plan.adjust(recipe_name))
            st.session_state["follow_new"] = job_id  # the jobs panel switches to the job just submitted
            if not cfg.weights_path and arch.pretrained_capable:
                st.info("No local ImageNet weights: this backbone trains from random initialisation (recorded in the run).")
            st.toast(f"Queued {job_id}. It runs in its own process; you can leave this page.")  # gone once read
        except FerStudioError as exc:
            show_error(exc, "Cannot start training.")


with st.expander("New sweep (hyperparameter search on Optuna)"):
    st.caption("A search space over the settings above; every trial is a run under models/, results on Compare. "
               "Edit the template: `space` is what varies, `base` what is fixed. See README 'Sweeps'.")
    ready = templates()
    template = st.selectbox("Template", list(ready), key="sweep_template",
                            help="demo: TPE search · cnn004_shape: seed 004's architecture search · "
                                 "seed003_ablation: seed 003's ablation (variants × seeds, paired tests on Compare)")
    spec_text = st.text_area("Sweep spec (JSON)", ready[template].read_text(), height=320,
                             key=f"sweep_spec_{template}")
    if st.button("Start sweep", key="start_sweep"):
        try:
            spec = SweepSpec.from_dict(parse_json(spec_text), "the sweep spec")
            spec.confine_paths()
            job_id = store.submit_sweep(spec)
            st.session_state["follow_new"] = job_id
            st.toast(f"Queued sweep {spec.study} as {job_id}.")
        except FerStudioError as exc:
            show_error(exc)


cut_off = cut_off_runs()
if cut_off:
    with st.expander(f"Cut-off runs that can be resumed ({len(cut_off)})", expanded=True):
        st.caption("These runs stopped before finishing (killed, crashed, machine restarted). Resuming continues "
                   "from the last checkpoint with the optimizer and learning-rate schedule where they were.")
        for run in cut_off:
            c1, c2 = st.columns([4, 1])
            c1.markdown(f"`{run['id']}` · {run['architecture']} · epoch {run['epochs_done']}/{run['epochs']}")
            if c2.button("Resume", key=f"resume_{run['id']}"):
                try:
                    job_id = store.submit(TrainConfig.load(Path(run["path"]) / CONFIG), resume=run["path"])
                    st.session_state["follow_new"] = job_id
                    st.toast(f"Queued {job_id} to resume `{run['id']}`.")
                except FerStudioError as exc:
                    show_error(exc, "Cannot resume.")


@st.fragment(run_every=2)
def jobs_panel():
    jobs = store.list()
    if not jobs:
        st.info("No training jobs yet. Start one above.")
        return
    st.subheader("Jobs")
    st.dataframe(job_rows(jobs), hide_index=True)
    ids = [j["id"] for j in jobs]
    active = [j["id"] for j in jobs if j.get("status") in ACTIVE]
    default = ids.index(active[0]) if active else 0
    state = st.session_state
    wanted = state.pop("follow_new", None)
    if wanted in ids:  # follow the job just submitted: a new widget, so that a fragment rerun the browser sent
        state["followed"] = wanted  # before the submit (carrying the old choice) cannot switch back to the old job
        state["follow_version"] = state.get("follow_version", 0) + 1
    if state.get("followed") not in ids:
        state["followed"] = ids[default]
    key = f"follow_{state.get('follow_version', 0)}"
    if state.get(key) not in ids:
        state[key] = state["followed"]
    state["followed"] = st.selectbox("Follow job", ids, key=key)
    job = jobs[ids.index(state["followed"])]
    status = job.get("status")
    eta = eta_seconds(job) if status in ACTIVE else None
    text = f"{status} · epoch {job.get('epoch', 0)}/{job.get('epochs', '?')}"
    if eta is not None:
        text += f" · ETA {int(eta // 60)} min {int(eta % 60)} s"
    done = status == "completed" and int(job.get("epoch") or 0) < int(job.get("epochs") or 0)
    if done:
        text += " · stopped early (validation accuracy stopped improving; the best epoch was kept)"
    st.progress(1.0 if status == "completed" else min(float(job.get("progress", 0.0)), 1.0), text=text)
    if job.get("history"):
        st.plotly_chart(history_figure(job["history"]), key=f"curves_{job['id']}")
    if status in ACTIVE or status == "queued":
        if st.button("Cancel job", key=f"cancel_{job['id']}"):
            store.cancel(job["id"])
            st.rerun(scope="fragment")
    if status == "failed":
        show_error(RunError(job.get("error") or "unknown error"), "Job failed.")  # the job's one-line failure
        st.code(job.get("log_tail") or store.log_tail(job["id"]), language="text")
    if job.get("run_id"):
        st.success(f"Saved run: `{models_dir() / job['run_id']}` ({status})")  # FER_MODELS_DIR may be elsewhere
        link_to_page("app_pages/4_Compare.py", "Open in Compare", "📈")
    with st.expander("Log"):
        st.code(store.log_tail(job["id"], 200) or "(empty)", language="text")


jobs_panel()
