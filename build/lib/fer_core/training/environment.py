"""What a run records about the machine it trained on, and how it writes its inference model."""
from __future__ import annotations

import os
import platform
from pathlib import Path


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


def display_path(path: Path) -> str:
    """Paths inside the repository are recorded relative to it, so the reproduce command works in any clone."""
    from fer_core.settings import REPO_ROOT
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
