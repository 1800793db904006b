"""The life of a run: create `<run-id>.partial`, prepare data, fit, evaluate, write every file, rename.

A crash never leaves a half run under its final name; a run cut off after a checkpoint can be resumed.
"""
from __future__ import annotations

import json
import os
import shlex
import time
from pathlib import Path

from fer_core.atomic import write_text
from fer_core.errors import RunError
from fer_core.evaluation.classification import classification_metrics
from fer_core.models.predict import predict_probs
from fer_core.runs import layout
from fer_core.runs.record import RunRecord, finalize_run
from fer_core.runs.store import checkpoint_state
from fer_core.settings import models_dir
from fer_core.training.config import TrainConfig
from fer_core.training.data import TrainingData, prepare
from fer_core.training.environment import device_description, display_path
from fer_core.training.fit import FitResult, ResumeState, fit_model
from fer_core.training.progress import PrintProgress, Progress


def _prepare(cfg: TrainConfig, progress: Progress) -> TrainingData:
    """The run's data; a first load of a big dataset (minutes) says how far it is in the job's log, every 5 s."""
    from fer_core.data.load_progress import reporting
    with reporting(lambda f, what: progress.message(f"{what}: {f:.0%} (a first load; later runs use the cache)"),
                   every_s=5):
        return prepare(cfg)


def _start_backend(cfg: TrainConfig, seed: int) -> None:
    import keras
    keras.utils.set_random_seed(seed)
    if cfg.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")


def train(cfg: TrainConfig, progress: Progress | None = None, out_root: Path | None = None,
          sweep: dict | None = None) -> Path:
    """Run training; returns the run folder. Cancelled runs are still saved (status 'cancelled' in run.json);
    `sweep` ({"study", "trial", "values"}) marks a sweep's trial in its record."""
    progress = progress or PrintProgress()
    cfg = cfg.resolved()
    out_root = Path(out_root) if out_root else models_dir()
    t0 = time.time()
    data = _prepare(cfg, progress)  # before the run folder exists: bad data leaves no empty .partial behind
    run_dir = out_root / f"{layout.new_run_id(cfg.run_name or cfg.architecture)}{layout.PARTIAL}"
    run_dir.mkdir(parents=True)
    (run_dir / layout.OWNER).write_text(str(os.getpid()))  # tells the Train page this run is not cut off
    _start_backend(cfg, cfg.seed)
    _distil(cfg, data, progress)
    for note in data.notes:
        progress.message(note)
    write_text(run_dir / layout.CONFIG, json.dumps(_config(cfg, data), indent=2))  # resume reads it
    fitted = fit_model(cfg, data.train, data.val, len(data.class_names), progress, run_dir)
    return _finish_run(run_dir, cfg, data, fitted, progress, time.time() - t0, sweep=sweep)


def resume(partial_dir: str | Path, progress: Progress | None = None) -> Path:
    """Continue a run that was cut off (killed, out of time): `<run-id>.partial` with a checkpoint inside."""
    from fer_core.runs.loader import load_checkpoint
    from fer_core.runs.run import read_json

    progress = progress or PrintProgress()
    run_dir = Path(partial_dir)
    state = checkpoint_state(run_dir) if run_dir.name.endswith(layout.PARTIAL) else {}
    if not state.get("epochs_done"):
        raise RunError("this is not a cut-off run with a checkpoint", path=str(run_dir),
                       fix="pass the <run-id>.partial folder of a run that saved at least one epoch")
    saved = read_json(run_dir / layout.CONFIG)
    if not isinstance(saved.get("train_config"), dict):
        raise RunError(f"{layout.CONFIG} is missing or not valid JSON", path=str(run_dir),
                       fix="the run cannot be resumed; start it again")
    t0 = time.time()
    cfg = TrainConfig.from_dict(saved["train_config"]).resolved()
    data = _prepare(cfg, progress)
    if data.data_version != saved.get("data_version"):
        raise RunError(f"the data changed since the run started ({saved.get('data_version')} -> {data.data_version})",
                       path=cfg.data, fix="resume with the dataset the run was started on")
    (run_dir / layout.OWNER).write_text(str(os.getpid()))
    _start_backend(cfg, cfg.seed + state["epochs_done"])
    _distil(cfg, data, progress)
    resumed = ResumeState(model=load_checkpoint(run_dir / layout.CHECKPOINT_DIR / layout.CHECKPOINT),
                          epochs_done=state["epochs_done"], history=list(state.get("history", [])),
                          fit_seconds=state.get("fit_seconds", 0.0))
    fitted = fit_model(cfg, data.train, data.val, len(data.class_names), progress, run_dir, resume=resumed)
    earlier = resumed.fit_seconds  # the cut-off process's training time counts too
    return _finish_run(run_dir, cfg, data, fitted, progress, earlier + time.time() - t0,
                       resumed_after=resumed.epochs_done)


def _distil(cfg: TrainConfig, data: TrainingData, progress: Progress) -> None:
    """Blend the teachers' probabilities into the training targets (knowledge distillation), if asked."""
    if not (cfg.teacher_runs and cfg.distill_weight):
        return
    from fer_core.runs.store import resolve_runs
    from fer_core.training.distill import blend_targets, teacher_probabilities
    teachers = resolve_runs(cfg.teacher_runs)  # config.json keeps names; the note records the exact runs
    progress.message(f"Distilling from {len(teachers)} teacher run(s)...")
    teacher = teacher_probabilities(teachers, data.train.images, data.class_names)
    agree = float((teacher.argmax(1) == data.train.labels).mean())
    data.train.targets = blend_targets(data.train.targets, teacher, cfg.distill_weight, cfg.distill_temperature)
    data.notes.append(f"Targets = {1 - cfg.distill_weight:.2f} x labels + {cfg.distill_weight:.2f} x teachers "
                      f"(T={cfg.distill_temperature}; teachers agree with {agree:.1%} of training labels): "
                      + ", ".join(Path(r).name for r in teachers))


def _config(cfg: TrainConfig, data: TrainingData) -> dict:
    return {"train_config": cfg.to_dict(), "architecture": cfg.architecture, "class_names": list(data.class_names),
            "data_version": data.data_version}


def _finish_run(run_dir: Path, cfg: TrainConfig, data: TrainingData, fitted: FitResult, progress: Progress,
                seconds: float, resumed_after: int | None = None, sweep: dict | None = None) -> Path:
    """Evaluate on val/test, then finish the run folder (model, metrics, history, run.json; one rename)."""
    model = fitted.model
    status = progress.stopped_as() if progress.cancelled() else "completed"
    eval_start = time.time()
    metrics = {"classes": list(data.class_names)}
    for split_name, arrays in (("val", data.val), ("test", data.test)):
        if arrays is not None:
            probs = predict_probs(model, arrays.images)
            metrics[split_name] = classification_metrics(arrays.labels, probs, data.class_names)
            metrics[split_name]["split"] = getattr(cfg, f"{split_name}_split")
    eval_seconds = time.time() - eval_start
    final_dir = run_dir.parent / run_dir.name.removesuffix(layout.PARTIAL)
    notes = list(data.notes)
    if resumed_after is not None:
        notes.append(f"Resumed from the checkpoint after epoch {resumed_after} (plateau/early-stopping counters restart).")
    epochs_planned = cfg.epochs + (cfg.head_epochs or 0)
    if status == "completed" and len(fitted.history) < epochs_planned:
        notes.append(f"Early stopping after epoch {len(fitted.history)} of {epochs_planned}: validation accuracy had not "
                     f"improved for {cfg.early_stopping_patience} epochs; the best epoch's weights were kept.")
    record = RunRecord(
        run_id=final_dir.name, status=status, dataset=data.dataset_name, data_version=data.data_version,
        train_images=int(len(data.train.labels)), pretrained=fitted.pretrained, parameters=int(model.count_params()),
        epochs_run=len(fitted.history), epochs_planned=epochs_planned,
        command=f"python -m fer_core train --config {shlex.quote(display_path(final_dir / layout.CONFIG))}",
        timings_s={"total": round(seconds, 2), "fit": round(fitted.fit_seconds, 2),
                   "per_epoch": round(fitted.fit_seconds / max(len(fitted.history), 1), 3),
                   "evaluate": round(eval_seconds, 2)},
        environment=device_description(), notes=notes, sweep=sweep)
    final_dir = finalize_run(run_dir, record, metrics=metrics, model=model, history=fitted.history,
                             config=_config(cfg, data))
    progress.message(f"saved run {final_dir} ({status})")
    return final_dir
