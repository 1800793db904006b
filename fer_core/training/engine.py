"""Train one TrainConfig into a run folder: models/<run-id>/ with model, config, history, metrics, record.

Backend-agnostic Keras 3: augmentation is NumPy on the host, the model uses only Keras layers/ops.
The run is written to '<run-id>.partial' and renamed when complete, so a crash never leaves a half run.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import sys
import time
import uuid
from pathlib import Path

import numpy as np

from ..atomic import write_text
from ..errors import DataError
from ..prediction import predict_probs
from ..runs import CHECKPOINT, CHECKPOINT_DIR, OWNER_FILE, STATE, checkpoint_state
from ..settings import models_dir
from .augment import augment_training_batch
from .config import TrainConfig
from .data import prepare
from .metrics import classification_metrics


class Progress:
    """Receives training progress; the job runner writes it to disk, the CLI prints it."""

    def start(self, epochs: int, steps: int) -> None: ...
    def batch(self, epoch: int, step: int) -> None: ...
    def epoch(self, epoch: int, logs: dict) -> None: ...
    def message(self, text: str) -> None: ...
    def cancelled(self) -> bool:
        return False


class PrintProgress(Progress):
    """Terminal progress; SIGTERM/SIGINT stop training after the current batch and the run is still saved."""

    def __init__(self):
        import signal
        self.stop = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                signal.signal(sig, lambda *_: setattr(self, "stop", True))
            except ValueError:  # not the main thread (e.g. called from a page): no signal handling there
                pass

    def cancelled(self):
        return self.stop

    def start(self, epochs, steps):
        print(f"training: {epochs} epochs x {steps} steps", flush=True)

    def epoch(self, epoch, logs):
        print(f"epoch {epoch + 1}: " + " ".join(f"{k}={v:.4f}" for k, v in logs.items()), flush=True)

    def message(self, text):
        print(text, flush=True)


def _display_path(path: Path) -> str:
    """Paths inside the repository are recorded relative to it, so the reproduce command works in any clone."""
    from ..settings import REPO_ROOT
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


RUN_STAMP = "%Y%m%d-%H%M%S"  # run ids: <stamp>-<run name>-<4 hex>


def run_name_of(run_id: str) -> str:
    """The run name inside a run id (the reverse of new_run_id), with or without the .partial suffix."""
    return run_id.removesuffix(".partial")[len("YYYYmmdd-HHMMSS-"):-5]


def new_run_id(cfg: TrainConfig) -> str:
    stamp = dt.datetime.now().strftime(RUN_STAMP)
    name = cfg.run_name or cfg.architecture
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:40]
    return f"{stamp}-{safe}-{uuid.uuid4().hex[:4]}"


def steps_per_epoch(n_images: int, cfg: TrainConfig) -> int:
    n = -(-n_images // cfg.batch_size)
    return min(n, cfg.max_steps_per_epoch) if cfg.max_steps_per_epoch else n


def _batches(images, targets, weights, cfg: TrainConfig, first_epoch: int = 0):
    """Shuffled, augmented batches. Each batch's randomness comes from (seed, epoch, batch), so batches are the
    same with any number of worker threads and after a resume."""
    import keras

    augment_cfg = cfg.augment if cfg.augment_enabled else None
    batch_size, seed = cfg.batch_size, cfg.seed
    workers = max(int(cfg.data_workers or 1), 1)

    class AugmentedBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=max(10, 2 * workers))
            self.epoch = first_epoch
            self.order = self._order()

        def _order(self):
            return np.random.default_rng([seed, self.epoch]).permutation(len(images))

        def __len__(self):
            return steps_per_epoch(len(images), cfg)

        def __getitem__(self, i):
            rows = self.order[i * batch_size:(i + 1) * batch_size]
            if not augment_cfg:
                return images[rows].astype(np.float32)[..., None], targets[rows], weights[rows]
            rng = np.random.default_rng([seed, self.epoch, i])
            x, y, w = augment_training_batch(images[rows], targets[rows], weights[rows], rng, augment_cfg)
            return x[..., None], y, w

        def on_epoch_end(self):
            self.epoch += 1
            self.order = self._order()

    return AugmentedBatches()


def _optimizer(cfg: TrainConfig, total_steps: int):
    import keras
    lr = cfg.learning_rate
    if cfg.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, decay_steps=max(total_steps, 1))
    decay = cfg.weight_decay or None  # decoupled weight decay (Keras applies it for every optimizer)
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=cfg.momentum, nesterov=True, weight_decay=decay)
    if cfg.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=cfg.weight_decay)
    return keras.optimizers.Adam(lr, weight_decay=decay)


def _callbacks(cfg: TrainConfig, progress: Progress, run_dir: Path, history_rows: list[dict], fit_clock: dict):
    import keras

    class Report(keras.callbacks.Callback):
        # Reads no logs and only sets a flag: safe to run off the training thread. Without this, Keras
        # converts every step's logs to Python floats, which on JAX waits for each step to finish.
        async_safe = True

        def on_train_batch_end(self, batch, logs=None):
            progress.batch(self.epoch, batch + 1)
            if progress.cancelled():
                self.model.stop_training = True

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_epoch_end(self, epoch, logs=None):
            logs = dict(logs or {})
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            progress.epoch(epoch, {k: float(v) for k, v in logs.items()})

    class Checkpoint(keras.callbacks.Callback):
        """Atomic model+optimizer checkpoint and its state, so `resume` continues a run cut off at any point."""

        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % max(cfg.checkpoint_every, 1) and not self.model.stop_training:
                return
            folder = run_dir / CHECKPOINT_DIR
            folder.mkdir(exist_ok=True)
            tmp = folder / f"tmp-{CHECKPOINT}"
            self.model.save(tmp)
            os.replace(tmp, folder / CHECKPOINT)
            state = {"epochs_done": epoch + 1, "history": history_rows,
                     "fit_seconds": fit_clock["before"] + time.time() - fit_clock["start"]}
            write_text(folder / STATE, json.dumps(state, indent=1))

    callbacks = [Report(), Checkpoint()]
    if cfg.early_stopping_patience:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", restore_best_weights=True,
                                                       patience=cfg.early_stopping_patience))
    if cfg.lr_schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=cfg.reduce_lr_factor,
                                                           patience=cfg.reduce_lr_patience, min_lr=1e-6))
    return callbacks


def _freeze_for_head(model, trainable_backbone: int | None):
    """Backbones: freeze everything but the head, or all but the last N backbone layers."""
    from ..models.backbones import backbone_layer_names
    names = backbone_layer_names(model)
    keep = set(names[-trainable_backbone:]) if trainable_backbone else set()
    for layer in model.layers:
        if layer.name in names:
            layer.trainable = layer.name in keep


def device_description() -> dict:
    import keras
    backend = keras.backend.backend()
    device = "cpu"
    try:
        if backend == "jax":
            import jax
            device = str(jax.devices()[0])
        elif backend == "torch":
            import torch
            device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
        elif backend == "tensorflow":
            import tensorflow as tf
            gpus = tf.config.list_physical_devices("GPU")
            device = gpus[0].name if gpus else "cpu"
    except Exception as exc:  # noqa: BLE001 - the record should never fail a run
        device = f"unknown ({exc})"
    return {"backend": backend, "device": device, "keras": keras.__version__, "python": platform.python_version(),
            "host": platform.node(), "cpu_count": os.cpu_count()}


def save_inference_model(model, path: Path) -> None:
    """Save weights and architecture without optimizer state: a third of the size, loads faster, same outputs."""
    import keras
    clone = keras.Model.from_config(model.get_config())  # uncompiled (clone_model would copy the optimizer)
    clone.set_weights(model.get_weights())
    clone.save(path)


def _is_backbone(architecture: str) -> bool:
    from ..models.registry import ARCHITECTURES
    return ARCHITECTURES[architecture].pretrained_capable


def _phases(cfg: TrainConfig) -> list[tuple[str, int, float, int | None]]:
    """(name, epochs, learning rate, trainable backbone layers): backbones may train the head first."""
    if cfg.head_epochs and _is_backbone(cfg.architecture):
        return [("head", cfg.head_epochs, cfg.learning_rate, 0),
                ("fine-tune", cfg.epochs, cfg.learning_rate * cfg.fine_tune_lr_factor, cfg.fine_tune_layers)]
    return [("train", cfg.epochs, cfg.learning_rate, cfg.fine_tune_layers)]


def _sample_weights(cfg: TrainConfig, labels: np.ndarray, n_classes: int) -> np.ndarray:
    if not cfg.class_weights:
        return np.ones(len(labels), np.float32)
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    per_class = np.where(counts > 0, len(labels) / (n_classes * np.maximum(counts, 1)), 0.0)
    return per_class[labels].astype(np.float32)


def fit_model(cfg: TrainConfig, train, val, n_classes: int, progress: Progress, run_dir: Path, resume: dict | None = None):
    """Build and fit the configured model on arrays (SplitArrays); returns model, history, pretrained, seconds.

    `resume` ({"model": loaded checkpoint, "epochs_done", "history", "fit_seconds"}) continues a cut-off run.
    """
    import keras
    from ..models import build_model

    pretrained = bool(cfg.weights_path and Path(cfg.weights_path).exists())
    if resume:
        model, done = resume["model"], resume["epochs_done"]
        history_rows = list(resume["history"])
        progress.message(f"Resuming after epoch {done} from the checkpoint.")
    else:
        model, done, history_rows = build_model(cfg.architecture, n_classes, input_size=cfg.input_size,
                                                weights_path=cfg.weights_path), 0, []
        if _is_backbone(cfg.architecture) and not pretrained:
            progress.message("No local ImageNet weights given: the backbone trains from random initialisation.")
    weights = _sample_weights(cfg, train.labels, n_classes)
    val_xy = (val.images[..., None].astype(np.float32), val.targets)
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing)

    class Collect(Progress):
        def start(self, e, s): progress.start(e, s)
        def batch(self, e, s): progress.batch(e, s)
        def message(self, t): progress.message(t)
        def cancelled(self): return progress.cancelled()

        def epoch(self, e, logs):
            history_rows.append({"epoch": len(history_rows) + 1, **logs})
            progress.epoch(len(history_rows) - 1, logs)

    collect = Collect()
    phases = _phases(cfg)
    total_epochs = sum(p[1] for p in phases)
    steps = steps_per_epoch(len(train.images), cfg)
    collect.start(total_epochs, steps)
    fit_clock = {"before": resume["fit_seconds"] if resume else 0.0, "start": time.time()}
    phase_end = 0
    for name, epochs, lr, trainable_backbone in phases:
        phase_start, phase_end = phase_end, phase_end + epochs
        if collect.cancelled() or done >= phase_end:
            continue
        continuing = resume is not None and done > phase_start  # the checkpoint's optimizer belongs to this phase
        if not continuing:
            if _is_backbone(cfg.architecture) and (name != "train" or trainable_backbone):
                _freeze_for_head(model, trainable_backbone)
            phase_cfg = TrainConfig.from_dict({**cfg.__dict__, "learning_rate": lr})
            model.compile(optimizer=_optimizer(phase_cfg, epochs * steps), loss=loss, metrics=["accuracy"])
        batches = _batches(train.images, train.targets, weights, cfg, first_epoch=done)
        model.fit(batches, validation_data=val_xy, epochs=phase_end, initial_epoch=done, verbose=0,
                  callbacks=_callbacks(cfg, collect, run_dir, history_rows, fit_clock))
        done = len(history_rows)
    fit_seconds = fit_clock["before"] + time.time() - fit_clock["start"]
    return model, history_rows, pretrained, fit_seconds


def train(cfg: TrainConfig, progress: Progress | None = None, out_root: Path | None = None) -> Path:
    """Run training; returns the run folder. Cancelled runs are still saved (status 'cancelled' in run.json)."""
    import keras

    progress = progress or PrintProgress()
    cfg = cfg.resolved()
    out_root = Path(out_root) if out_root else models_dir()
    run_id = new_run_id(cfg)
    run_dir = out_root / f"{run_id}.partial"
    run_dir.mkdir(parents=True)
    (run_dir / OWNER_FILE).write_text(str(os.getpid()))  # tells the Train page this run is not cut off
    t0 = time.time()
    keras.utils.set_random_seed(cfg.seed)
    if cfg.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    data = prepare(cfg)
    _distil(cfg, data, progress)
    for note in data.notes:
        progress.message(note)
    _write_config(run_dir, cfg, data)
    fitted = fit_model(cfg, data.train, data.val, len(data.class_names), progress, run_dir)
    return _finish_run(run_dir, cfg, data, fitted, progress, time.time() - t0)


def resume(partial_dir: str | Path, progress: Progress | None = None) -> Path:
    """Continue a run that was cut off (killed, out of time): `<run-id>.partial` with a checkpoint inside."""
    import keras
    from .. import models  # noqa: F401  (registers the custom layers the checkpoint may use)

    progress = progress or PrintProgress()
    run_dir = Path(partial_dir)
    state = checkpoint_state(run_dir) if run_dir.name.endswith(".partial") else {}
    if not state.get("epochs_done"):
        raise DataError("this is not a cut-off run with a checkpoint", path=str(run_dir),
                        fix="pass the <run-id>.partial folder of a run that saved at least one epoch")
    t0 = time.time()
    (run_dir / OWNER_FILE).write_text(str(os.getpid()))
    saved = json.loads((run_dir / "config.json").read_text())
    cfg = TrainConfig.from_dict(saved["train_config"])
    keras.utils.set_random_seed(cfg.seed + state["epochs_done"])
    if cfg.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    data = prepare(cfg)
    if data.data_version != saved["data_version"]:
        raise DataError(f"the data changed since the run started ({saved['data_version']} -> {data.data_version})",
                        path=cfg.data, fix="resume with the dataset the run was started on")
    _distil(cfg, data, progress)
    state["model"] = keras.saving.load_model(run_dir / CHECKPOINT_DIR / CHECKPOINT)
    fitted = fit_model(cfg, data.train, data.val, len(data.class_names), progress, run_dir, resume=state)
    earlier = state.get("fit_seconds", 0.0)  # the cut-off process's training time counts too
    return _finish_run(run_dir, cfg, data, fitted, progress, earlier + time.time() - t0, resumed_after=state["epochs_done"])


def _distil(cfg: TrainConfig, data, progress: Progress) -> None:
    """Blend the teachers' probabilities into the training targets (knowledge distillation), if asked."""
    if not (cfg.teacher_runs and cfg.distill_weight):
        return
    from .batch import resolve_runs
    from .distill import blend_targets, teacher_probabilities
    teachers = resolve_runs(cfg.teacher_runs)  # config.json keeps names; the note records the exact runs
    progress.message(f"Distilling from {len(teachers)} teacher run(s)...")
    teacher = teacher_probabilities(teachers, data.train.images, data.class_names)
    agree = float((teacher.argmax(1) == data.train.labels).mean())
    data.train.targets = blend_targets(data.train.targets, teacher, cfg.distill_weight, cfg.distill_temperature)
    data.notes.append(f"Targets = {1 - cfg.distill_weight:.2f} x labels + {cfg.distill_weight:.2f} x teachers "
                      f"(T={cfg.distill_temperature}; teachers agree with {agree:.1%} of training labels): "
                      + ", ".join(Path(r).name for r in teachers))


def _write_config(run_dir: Path, cfg: TrainConfig, data) -> None:
    write_text(run_dir / "config.json", json.dumps({"train_config": json.loads(cfg.to_json()),
                                                   "architecture": cfg.architecture,
                                                   "class_names": list(data.class_names),
                                                   "data_version": data.data_version}, indent=2))


def _finish_run(run_dir: Path, cfg: TrainConfig, data, fitted, progress: Progress, seconds: float,
                resumed_after: int | None = None) -> Path:
    """Evaluate on val/test, write model, metrics, history and run.json, and rename the folder to its final name."""
    model, history_rows, pretrained, fit_seconds = fitted
    status = "cancelled" if progress.cancelled() else "completed"
    eval_start = time.time()
    metrics = {"classes": list(data.class_names)}
    for split_name, arrays in (("val", data.val), ("test", data.test)):
        if arrays is not None:
            probs = predict_probs(model, arrays.images)
            metrics[split_name] = classification_metrics(arrays.labels, probs, data.class_names)
            metrics[split_name]["split"] = getattr(cfg, f"{split_name}_split")
    eval_seconds = time.time() - eval_start

    save_inference_model(model, run_dir / "model.keras")
    write_text(run_dir / "metrics.json", json.dumps(metrics, indent=2))
    with open(run_dir / "history.csv", "w", newline="") as fh:
        if history_rows:
            writer = csv.DictWriter(fh, fieldnames=list(history_rows[0]))
            writer.writeheader()
            writer.writerows(history_rows)
    run_id = run_dir.name.removesuffix(".partial")
    final_dir = run_dir.parent / run_id
    notes = list(data.notes)
    if resumed_after is not None:
        notes.append(f"Resumed from the checkpoint after epoch {resumed_after} (plateau/early-stopping counters restart).")
    record = {
        "run_id": run_id,
        "status": status,
        "dataset": data.dataset_name,
        "data_version": data.data_version,
        "train_images": int(len(data.train.labels)),
        "pretrained": pretrained,
        "parameters": int(model.count_params()),
        "epochs_run": len(history_rows),
        "command": f"python -m fer_core train --config {shlex.quote(_display_path(final_dir / 'config.json'))}",
        "timings_s": {"total": round(seconds, 2), "fit": round(fit_seconds, 2),
                      "per_epoch": round(fit_seconds / max(len(history_rows), 1), 3), "evaluate": round(eval_seconds, 2)},
        "environment": device_description(),
        "notes": notes,
        "argv": sys.argv,
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
    }
    write_text(run_dir / "run.json", json.dumps(record, indent=2))
    shutil.rmtree(run_dir / CHECKPOINT_DIR, ignore_errors=True)
    (run_dir / OWNER_FILE).unlink(missing_ok=True)
    os.replace(run_dir, final_dir)
    progress.message(f"saved run {final_dir} ({status})")
    return final_dir
