"""Knowledge distillation from saved runs: the teachers' averaged (flip-TTA) probabilities on the training
images are blended into the targets, so a small student learns from an ensemble with any backend.

Offline (teacher outputs on un-augmented images, computed once) instead of per-batch: it costs one
prediction pass, needs no teacher in the training step, and mixup/cutmix mix these soft targets like labels.
"""
from __future__ import annotations

import numpy as np

from fer_core.errors import DataError
from fer_core.runs.loader import load_model
from fer_core.runs.run import Run


def teacher_probabilities(run_dirs: list[str], images: np.ndarray, class_names, batch_size: int = 256) -> np.ndarray:
    from fer_core.models.predict import predict_probs
    total = np.zeros((len(images), len(class_names)), np.float64)
    for run in run_dirs:
        run = Run.load(run).require_usable()
        names = run.class_names
        model = load_model(run)
        if list(names) != list(class_names):
            raise DataError(f"teacher predicts {names}, the student {list(class_names)}", path=str(run.path),
                            fix="distil from runs trained on the same label scheme")
        total += predict_probs(model, images, tta="flip", batch_size=batch_size)
    return (total / len(run_dirs)).astype(np.float32)


def blend_targets(targets: np.ndarray, teacher: np.ndarray, weight: float, temperature: float = 1.0) -> np.ndarray:
    """(1 - weight) * labels + weight * teacher probabilities sharpened or softened by `temperature`."""
    if not 0 <= weight <= 1 or temperature <= 0:
        raise DataError("distill_weight must be in [0, 1] and distill_temperature > 0")
    soft = np.power(np.clip(teacher, 1e-8, 1), 1.0 / temperature)
    soft /= soft.sum(axis=1, keepdims=True)
    return ((1 - weight) * targets + weight * soft).astype(np.float32)
