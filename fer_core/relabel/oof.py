"""Out-of-fold predicted probabilities (stratified k-fold) for the label-issue ranking queue.

Each image's probabilities come from a model that never saw it, as confident learning requires.
Results are written to <models>/oof/<name>.npz (ids, labels, probs, classes, data version, config).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from fer_core.atomic import atomic_path
from fer_core.errors import Cancelled
from fer_core.models.predict import predict_probs
from fer_core.settings import models_dir
from fer_core.training.config import TrainConfig
from fer_core.training.data import SplitArrays, prepare
from fer_core.training.fit import fit_model
from fer_core.training.progress import PrintProgress, Progress


def oof_dir(root: Path | None = None) -> Path:
    return (Path(root) if root else models_dir()) / "oof"


def out_of_fold(cfg: TrainConfig, folds: int = 5, progress: Progress | None = None, out_root: Path | None = None) -> Path:
    """Train `folds` models on the train split's other folds and predict each held-out fold."""
    import keras
    progress = progress or PrintProgress()
    cfg = cfg.resolved()
    keras.utils.set_random_seed(cfg.seed)
    data = prepare(cfg)
    x, y = data.train, data.train.labels
    probs = np.zeros((len(y), len(data.class_names)), np.float32)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=cfg.seed)
    work = oof_dir(out_root) / f".work-{time.strftime('%Y%m%d-%H%M%S')}"
    work.mkdir(parents=True, exist_ok=True)
    for k, (fit_rows, held_rows) in enumerate(splitter.split(np.zeros(len(y)), y)):
        if progress.cancelled():
            raise Cancelled("out-of-fold training was cancelled")
        progress.message(f"fold {k + 1}/{folds}: training on {len(fit_rows)}, predicting {len(held_rows)}")
        part = SplitArrays(x.images.subset(fit_rows), x.targets[fit_rows], x.labels[fit_rows], x.ids[fit_rows])
        model = fit_model(cfg, part, data.val, len(data.class_names), progress, work).model
        probs[held_rows] = predict_probs(model, x.images.subset(held_rows))
    name = f"{cfg.run_name or cfg.architecture}-{folds}fold-{time.strftime('%Y%m%d-%H%M%S')}"
    out = oof_dir(out_root) / f"{name}.npz"
    with atomic_path(out, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, ids=x.ids, labels=y, probs=probs, classes=np.array(data.class_names),
                     data_version=np.str_(data.data_version), config=np.str_(cfg.to_json()), folds=folds)
    for f in work.rglob("*"):
        if f.is_file():
            f.unlink()
    for d in sorted(work.rglob("*"), reverse=True):
        d.rmdir()
    work.rmdir()
    progress.message(f"saved out-of-fold probabilities {out}")
    return out


def list_oof(root: Path | None = None) -> list[Path]:
    d = oof_dir(root)
    return sorted(d.glob("*.npz")) if d.is_dir() else []


def oof_data_version(path: str | Path) -> str:
    """The data version an OOF file was computed on, without reading its probabilities."""
    with np.load(path, allow_pickle=False) as z:
        return str(z["data_version"])


def load_oof(path: str | Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {"ids": z["ids"], "labels": z["labels"], "probs": z["probs"], "classes": z["classes"].tolist(),
                "data_version": str(z["data_version"]), "config": json.loads(str(z["config"])), "folds": int(z["folds"])}
