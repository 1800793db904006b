"""Fit a model on prepared arrays: optimizer, loss, callbacks (progress, checkpoints, early stopping), phases.

Backend-agnostic Keras 3: augmentation is NumPy on the host, the model uses only Keras layers/ops.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from fer_core.atomic import write_text
from fer_core.models.registry import ARCHITECTURES, build_model, check_model_options
from fer_core.runs import layout
from fer_core.training.batches import PlainBatches, steps_per_epoch, training_batches
from fer_core.training.config import XLA_FROM_STEPS, TrainConfig
from fer_core.training.progress import HistoryProgress, Progress


@dataclass
class ResumeState:
    """Where a cut-off run stopped: its checkpointed model (with optimizer), epochs done, history, fit time."""
    model: object
    epochs_done: int
    history: list[dict]
    fit_seconds: float = 0.0


@dataclass
class FitResult:
    model: object
    history: list[dict]
    pretrained: bool
    fit_seconds: float


@dataclass
class FitClock:
    """Training time, counting the time a cut-off process spent before the resume."""
    before: float = 0.0
    start: float = field(default_factory=time.time)

    def seconds(self) -> float:
        return self.before + time.time() - self.start


@dataclass(frozen=True)
class Phase:
    name: str
    epochs: int
    learning_rate: float
    trainable_backbone: int | None  # backbones: unfreeze only the last N layers (0: head only, None: all)


def make_optimizer(cfg: TrainConfig, learning_rate: float, total_steps: int):
    lr = learning_rate
    if cfg.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(total_steps, 1))
    decay = cfg.weight_decay or None  # decoupled weight decay (Keras applies it for every optimizer)
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=cfg.momentum, nesterov=True, weight_decay=decay)
    if cfg.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=cfg.weight_decay)
    return keras.optimizers.Adam(lr, weight_decay=decay)


# BatchNorm's moving averages (momentum 0.99) need a few hundred steps to forget their initial values (mean 0,
# variance 1). With few steps per epoch (the demo: 280 images = 5 steps) validation ran on stale statistics: one
# class for every image, val_loss at ln(K), early stopping acting on noise. There the statistics are recomputed
# from training images before each validation ("precise BN", Wu & Johnson 2021).
PRECISE_BN_BELOW_STEPS = 100
PRECISE_BN_IMAGES = 256


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):  # nested models (backbones)
            yield from _all_layers(layer)


def recalibrate_batchnorm(model, images: np.ndarray, batch_size: int = 128) -> None:
    """Set every BatchNorm layer's moving mean/variance to the average batch statistics over `images`."""
    bns = [layer for layer in _all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
    if not bns or not len(images):
        return
    saved = [layer.momentum for layer in bns]
    try:
        for k, start in enumerate(range(0, len(images), batch_size), start=1):
            for layer in bns:
                layer.momentum = (k - 1) / k  # cumulative average of the batch statistics
            model(images[start:start + batch_size].astype(np.float32)[..., None], training=True)
    finally:
        for layer, momentum in zip(bns, saved):
            layer.momentum = momentum


class PreciseBatchNorm(keras.callbacks.Callback):
    def __init__(self, images: np.ndarray):
        super().__init__()
        self.images = images

    def on_test_begin(self, logs=None):
        recalibrate_batchnorm(self.model, self.images)


class ReportProgress(keras.callbacks.Callback):
    """Batch and epoch progress, and cancellation. Reads no batch logs and only sets a flag, so it is safe off
    the training thread: without `async_safe`, Keras converts every step's logs to floats, which on JAX waits
    for each step to finish."""

    async_safe = True

    def __init__(self, progress: Progress):
        super().__init__()
        self.progress = progress
        self.current_epoch = 0

    def on_train_batch_end(self, batch, logs=None):
        self.progress.batch(self.current_epoch, batch + 1)
        if self.progress.cancelled():
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self.current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.progress.epoch(epoch, {k: float(v) for k, v in logs.items()})


class Checkpoint(keras.callbacks.Callback):
    """Atomic model+optimizer checkpoint and its state, so `resume` continues a run cut off at any point."""

    def __init__(self, run_dir: Path, every: int, history: list[dict], clock: FitClock):
        super().__init__()
        self.run_dir, self.every, self.history, self.clock = Path(run_dir), max(every, 1), history, clock

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every and not self.model.stop_training:
            return
        folder = self.run_dir / layout.CHECKPOINT_DIR
        folder.mkdir(exist_ok=True)
        tmp = folder / f"tmp-{layout.CHECKPOINT}"
        self.model.save(tmp)
        os.replace(tmp, folder / layout.CHECKPOINT)
        state = {"epochs_done": epoch + 1, "history": self.history, "fit_seconds": self.clock.seconds()}
        write_text(folder / layout.STATE, json.dumps(state, indent=1))


def make_callbacks(cfg: TrainConfig, progress: Progress, run_dir: Path, history: list[dict], clock: FitClock,
                   calibration: np.ndarray | None = None) -> list:
    callbacks = [ReportProgress(progress), Checkpoint(run_dir, cfg.checkpoint_every, history, clock)]
    if calibration is not None:
        callbacks.insert(0, PreciseBatchNorm(calibration))  # before the checkpoint: a resume sees the same statistics
    if cfg.early_stopping_patience:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", restore_best_weights=True,
                                                       patience=cfg.early_stopping_patience))
    if cfg.lr_schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=cfg.reduce_lr_factor,
                                                           patience=cfg.reduce_lr_patience, min_lr=1e-6))
    return callbacks


def _is_backbone(architecture: str) -> bool:
    return ARCHITECTURES[architecture].pretrained_capable


def _freeze_for_head(model, trainable_backbone: int | None):
    """Backbones: freeze everything but the head, or all but the last N backbone layers."""
    from fer_core.models.backbones import backbone_layer_names
    names = backbone_layer_names(model)
    keep = set(names[-trainable_backbone:]) if trainable_backbone else set()
    for layer in model.layers:
        if layer.name in names:
            layer.trainable = layer.name in keep


def phases(cfg: TrainConfig) -> list[Phase]:
    """Backbones may train the head first, then fine-tune with a lower learning rate."""
    if cfg.head_epochs and _is_backbone(cfg.architecture):
        return [Phase("head", cfg.head_epochs, cfg.learning_rate, 0),
                Phase("fine-tune", cfg.epochs, cfg.learning_rate * cfg.fine_tune_lr_factor, cfg.fine_tune_layers)]
    return [Phase("train", cfg.epochs, cfg.learning_rate, cfg.fine_tune_layers)]


def sample_weights(cfg: TrainConfig, labels: np.ndarray, n_classes: int) -> np.ndarray:
    if not cfg.class_weights:
        return np.ones(len(labels), np.float32)
    from fer_core.data.balance import balanced_class_weights
    return balanced_class_weights(labels, n_classes)[labels].astype(np.float32)


def fit_model(cfg: TrainConfig, train, val, n_classes: int, progress: Progress, run_dir: Path,
              resume: ResumeState | None = None) -> FitResult:
    """Build (or take the resumed checkpoint's) model and fit it on SplitArrays."""
    pretrained = bool(cfg.weights_path and Path(cfg.weights_path).exists())
    if resume:
        model, done, history = resume.model, resume.epochs_done, list(resume.history)
        progress.message(f"Resuming after epoch {done} from the checkpoint.")
    else:
        check_model_options(cfg.architecture, cfg.model_options)
        model = build_model(cfg.architecture, n_classes, input_size=cfg.input_size, weights_path=cfg.weights_path,
                            **cfg.model_options)
        done, history = 0, []
        if _is_backbone(cfg.architecture) and not pretrained:
            progress.message("No local ImageNet weights given: the backbone trains from random initialisation.")
    weights = sample_weights(cfg, train.labels, n_classes)
    val_xy = PlainBatches(val.images, val.targets, cfg.batch_size)  # the batch size fit used for arrays
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing)
    collect = HistoryProgress(progress, history)
    plan = phases(cfg)
    steps = steps_per_epoch(len(train.images), cfg.batch_size, cfg.max_steps_per_epoch)
    collect.start(sum(p.epochs for p in plan), steps)
    calibration = None
    if steps < PRECISE_BN_BELOW_STEPS:
        calibration = train.images[np.random.default_rng(cfg.seed).permutation(len(train.images))[:PRECISE_BN_IMAGES]]
        collect.message(f"{steps} steps per epoch: too few for BatchNorm's moving averages, so they are recomputed "
                        f"from {len(calibration)} training images before each validation.")
    clock = FitClock(before=resume.fit_seconds if resume else 0.0)
    jit = cfg.jit_compile if cfg.jit_compile is not None else sum(p.epochs for p in plan) * steps >= XLA_FROM_STEPS
    phase_end = 0
    for phase in plan:
        phase_start, phase_end = phase_end, phase_end + phase.epochs
        if collect.cancelled() or done >= phase_end:
            continue
        continuing = resume is not None and done > phase_start  # the checkpoint's optimizer belongs to this phase
        if continuing:
            model.jit_compile = jit  # a checkpoint comes back compiled as it was saved
        else:
            if _is_backbone(cfg.architecture) and (phase.name != "train" or phase.trainable_backbone):
                _freeze_for_head(model, phase.trainable_backbone)
            model.compile(optimizer=make_optimizer(cfg, phase.learning_rate, phase.epochs * steps), loss=loss,
                          metrics=["accuracy"], jit_compile=jit)
        batches = training_batches(train.images, train.targets, weights, cfg, first_epoch=done)
        model.fit(batches, validation_data=val_xy, epochs=phase_end, initial_epoch=done, verbose=0,
                  callbacks=make_callbacks(cfg, collect, run_dir, history, clock, calibration))
        done = len(history)
    if calibration is not None:  # the final (or restored best) weights, also after a cancel mid-epoch
        recalibrate_batchnorm(model, calibration)
    return FitResult(model, history, pretrained, clock.seconds())
