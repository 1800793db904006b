"""A model's penultimate features for every image: the active-learning loop's inputs, "similar images", and
near-duplicate groups.

Features are the input of a run's classifier layer (FERNet: its 128 pooled channels), L2-normalised so that a dot
product is the cosine similarity; computed once per (data version, run) and kept on disk beside the suggestions.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fer_core.atomic import atomic_path
from fer_core.data.dataset import Dataset
from fer_core.settings import cache_dir


def _cache_file(ds: Dataset, run) -> Path:
    return cache_dir() / "embeddings" / f"{ds.version}-run-{run.id}-{run.model_mtime}.npy"


def features(run, ds: Dataset, batch_size: int = 512) -> np.ndarray:
    """N x D float32, unit length; from disk when computed before."""
    path = _cache_file(ds, run)
    if path.exists():
        return np.load(path)
    import keras

    from fer_core.runs.loader import load_model
    model = load_model(run)
    head = keras.Model(model.inputs, model.layers[-1].input)  # what the classifier layer sees
    feats = np.asarray(head.predict(ds.images[..., None].astype(np.float32), batch_size=batch_size, verbose=0),
                       dtype=np.float32).reshape(len(ds), -1)
    feats /= np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, feats)
    return feats


def similar(feats: np.ndarray, row: int, k: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """The k rows nearest to `row` (itself excluded), nearest first, with their cosine distances."""
    dist = 1.0 - feats @ feats[row]
    dist[row] = np.inf
    near = np.argpartition(dist, min(k, len(dist) - 1))[:k]
    near = near[np.argsort(dist[near], kind="stable")]
    return near, dist[near]
