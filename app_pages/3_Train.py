from pathlib import Path

import streamlit as st

from fer_core.app.charts import history_figure
from fer_core.errors import DataError, FerStudioError
from fer_core.jobs.store import ACTIVE, JobStore, eta_seconds, job_rows
from fer_core.data.ferplus import LABEL_SOURCES
from fer_core.models import ARCHITECTURES
from fer_core.runs.store import cut_off_runs, usable_runs
from fer_core.data.schemes import all_schemes
from fer_core.runs.layout import CONFIG
from fer_core.settings import models_dir
from fer_core.data.sources import available_sources
from fer_core.training.config import LR_SCHEDULES, OPTIMIZERS, XLA_MODES, TrainConfig
from fer_core.training.data import check_trainable
from fer_core.app.ui import broken_runs_notice, link_to_page, load, show_error, typed_dataset
from fer_core.sweeps.spec import SweepSpec, parse_json, templates
from fer_core.user_paths import readable_path

st.title("Train")
broken_runs_notice()
store = JobStore()
sources = available_sources()
with st.expander("New training job", expanded=not store.list()):
    c1, c2 = st.columns(2)
    # outside the form so that the defaults below follow the dataset (the demo has its own, see DEMO_DEFAULTS)
    source_label = c1.selectbox("Dataset", [s.label for s in sources] + ["Other path…"], key="train_dataset")
    other_path = ""
    if source_label == "Other path…":
        other_path = c1.text_input("Other path (CSV, .csv.gz or image folder)", key="train_other_path")
    chosen = None if source_label == "Other path…" else sources[[s.label for s in sources].index(source_label)].path
    # Every default on this form comes from TrainConfig for the chosen dataset, and the label scheme from its labels
    # (a typed path is opened as soon as it is entered: a Relabel export is fer2024, not fer2013).
    D = TrainConfig.for_data(chosen or "other")
    typed = typed_dataset(other_path.strip()) if other_path.strip() else None
    if typed is not None:
        if typed.scheme in all_schemes():
            D = TrainConfig.for_data("other", scheme=typed.scheme)
        c1.caption(f"{typed.name}: {len(typed):,} images, labels in {typed.scheme}, splits "
                   f"{', '.join(typed.split_names)}")
    arch_titles = {a.title: a for a in ARCHITECTURES.values()}
    arch = arch_titles[c2.selectbox("Architecture", list(arch_titles),
                                    index=list(ARCHITECTURES).index(D.architecture))]
    with st.form("train_form"):
        c2, c3 = st.columns(2)
        scheme = c2.selectbox("Label scheme", list(all_schemes()), index=list(all_schemes()).index(D.scheme))
        label_source = c3.selectbox("Labels from", list(LABEL_SOURCES), format_func=LABEL_SOURCES.get)
        c1, c2, c3, c4 = st.columns(4)
        epochs = c1.number_input("Epochs", 1, 1000, D.epochs)
        batch = c2.number_input("Batch size", 1, 1024, D.batch_size or arch.batch_size)
        lr = c3.number_input("Learning rate", 1e-6, 1.0, D.learning_rate or arch.learning_rate, format="%.6f")
        seed = c4.number_input("Seed", 0, 2**31 - 1, D.seed)
        c1, c2, c3, c4 = st.columns(4)
        optimizer = c1.selectbox("Optimizer", OPTIMIZERS, index=OPTIMIZERS.index(D.optimizer))
        schedule = c2.selectbox("LR schedule", LR_SCHEDULES, index=LR_SCHEDULES.index(D.lr_schedule))
        patience = c3.number_input("Early-stopping patience (0 = off)", 0, 1000, D.early_stopping_patience or 0)
        smoothing = c4.number_input("Label smoothing", 0.0, 0.5, D.label_smoothing, step=0.05)
        c1, c2, c3, c4, c5 = st.columns(5)
        class_weights = c1.checkbox("Class weights", D.class_weights)
        mixed = c2.checkbox("Mixed precision (GPU)", D.mixed_precision)
        leaks = c3.checkbox("Drop leaked train images", D.exclude_leaks_from_training,
                            help="Drop Training images that also occur in the validation or test split")
        max_images = c4.number_input("Max training images (0 = all)", 0, 1_000_000, 0)
        xla = c5.selectbox("XLA compile", list(XLA_MODES), format_func=XLA_MODES.get,
                           help="XLA about doubles training speed on CPU after a ~20 s compile")
        st.markdown("**Augmentation**")
        aug = D.augment_dict()
        a1, a2, a3, a4, a5, a6 = st.columns(6)
        aug_on = a1.checkbox("Augment", D.augment_enabled)
        aug["rotation"] = a2.number_input("Rotation °", 0.0, 180.0, aug["rotation"])
        aug["shift"] = a3.number_input("Shift", 0.0, 0.5, aug["shift"])
        aug["shear"] = a4.number_input("Shear", 0.0, 1.0, aug["shear"])
        aug["zoom"] = a5.number_input("Zoom", 0.0, 0.5, aug["zoom"])
        aug["hflip"] = a6.checkbox("Horizontal flip", aug["hflip"])
        a1, a2, a3, a4, a5 = st.columns(5)
        aug["erasing"] = a1.number_input("Random erasing (probability)", 0.0, 1.0, aug["erasing"], step=0.1)
        aug["mixup"] = a2.number_input("Mixup α (0 = off)", 0.0, 5.0, aug["mixup"], step=0.1)
        aug["cutmix"] = a3.number_input("CutMix α (0 = off)", 0.0, 5.0, aug["cutmix"], step=0.1)
        aug["mix_prob"] = a4.number_input("Share of batches mixed", 0.0, 1.0, aug["mix_prob"], step=0.1)
        weight_decay = a5.number_input("Weight decay", 0.0, 0.1, D.weight_decay, step=1e-4, format="%.5f")
        st.markdown("**Distillation** (optional): learn from saved runs' predictions as well as the labels")
        d1, d2, d3 = st.columns([3, 1, 1])
        teachers = d1.multiselect("Teacher runs", [r.id for r in usable_runs()])
        distill_weight = d2.number_input("Teacher share of targets", 0.0, 1.0, 0.5, step=0.1)
        temperature = d3.number_input("Temperature", 0.1, 10.0, 2.0, step=0.5)
        weights_path = head_epochs = fine_tune = None
        if arch.pretrained_capable:
            st.markdown("**Backbone** (ImageNet weights cannot be downloaded here: give a local file or train from scratch)")
            b1, b2, b3 = st.columns(3)
            weights_path = b1.text_input("Local ImageNet weights (.h5, notop)") or None
            head_epochs = b2.number_input("Head-only epochs before fine-tuning", 0, 100, 0)
            fine_tune = b3.number_input("Fine-tune last N backbone layers (0 = all)", 0, 1000, 0) or None
        run_name = st.text_input("Run name (optional)")
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
            if weights_path:
                weights_path = str(readable_path(weights_path))
            cfg = TrainConfig.for_data(data, architecture=arch.name, scheme=scheme, label_source=label_source,
                              epochs=int(epochs), batch_size=int(batch), learning_rate=float(lr), seed=int(seed),
                              optimizer=optimizer, lr_schedule=schedule,
                              early_stopping_patience=int(patience) or None, label_smoothing=float(smoothing),
                              class_weights=class_weights, mixed_precision=mixed, exclude_leaks_from_training=leaks,
                              max_train_images=int(max_images) or None, augment=aug, augment_enabled=aug_on,
                              weights_path=weights_path, head_epochs=int(head_epochs or 0), fine_tune_layers=fine_tune,
                              weight_decay=float(weight_decay), run_name=run_name or None,
                              teacher_runs=[str(models_dir() / t) for t in teachers],
                              distill_weight=float(distill_weight) if teachers else 0.0,
                              distill_temperature=float(temperature), jit_compile=xla)
            check_trainable(cfg, load(data))  # a dataset that loads and has labelled training rows: now, not after queueing
            job_id = store.submit(cfg)
            st.session_state["follow_new"] = job_id  # the jobs panel switches to the job just submitted
            if weights_path is None and arch.pretrained_capable:
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
        st.error(f"Job failed: {job.get('error', 'unknown error')}")
        st.code(job.get("log_tail") or store.log_tail(job["id"]), language="text")
    if job.get("run_id"):
        st.success(f"Saved run: `{models_dir() / job['run_id']}` ({status})")  # FER_MODELS_DIR may be elsewhere
        link_to_page("app_pages/4_Compare.py", "Open in Compare", "📈")
    with st.expander("Log"):
        st.code(store.log_tail(job["id"], 200) or "(empty)", language="text")


jobs_panel()
