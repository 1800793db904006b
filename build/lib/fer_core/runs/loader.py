"""Load a run's model once per file version, with the project's custom layers registered, in safe mode."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fer_core.errors import RunError
from fer_core.runs.run import Run


def _register_custom_layers() -> None:
    from fer_core.models import cbam  # noqa: F401  (registers the CBAM layers for deserialisation)


@lru_cache(maxsize=8)
def _load(path: str, mtime: int):
    from fer_core.models.fold import fold_batchnorm
    return fold_batchnorm(_load_uncached(path))  # same outputs, fewer operations per prediction


def _load_uncached(path: str):
    import keras
    _register_custom_layers()
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds for a bad file; the user needs one line
        raise RunError(f"the model file cannot be loaded ({type(exc).__name__})", path=path,
                       fix="the file is corrupt or from an incompatible version: re-train or pick another run") from exc


def load_model(run: Run | str | Path):
    """The inference model of a run (cached, BatchNormalization folded into the layers before it); RunError
    when the run is broken or its file will not load."""
    run = run if isinstance(run, Run) else Run.load(run)
    run.require_usable()
    return _load(str(run.model_path), run.model_mtime)


def load_model_copy(run: Run | str | Path):
    """A private copy of a run's model, for code that changes weights (the cached one is shared by pages)."""
    run = run if isinstance(run, Run) else Run.load(run)
    run.require_usable()
    return _load_uncached(str(run.model_path))


def load_checkpoint(path: str | Path):
    """A training checkpoint (model + optimizer state) for resuming; not cached, compiled as saved."""
    import keras
    _register_custom_layers()
    try:
        return keras.saving.load_model(Path(path))
    except Exception as exc:  # noqa: BLE001
        raise RunError(f"the checkpoint cannot be loaded ({type(exc).__name__})", path=str(path),
                       fix="the run cannot be resumed; start it again") from exc
