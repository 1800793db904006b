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


SMALL = 3000  # up to this many images the map is a PCA (UMAP needs more points than neighbours to be worth it)


def _layout_file(ds: Dataset, run) -> Path:
    return cache_dir() / "embeddings" / f"{ds.version}-run-{run.id}-{run.model_mtime}-map.npy"


def cached_layout(run, ds: Dataset) -> np.ndarray | None:
    path = _layout_file(ds, run)
    return np.load(path) if path.exists() else None


def layout(run, ds: Dataset, progress=None) -> np.ndarray:
    """N x 2 map of the features: UMAP (umap-learn, cosine neighbourhoods via unit vectors) on a 16-component PCA
    of them, or the PCA's first two components for small sets; kept on disk."""
    cached = cached_layout(run, ds)
    if cached is not None:
        return cached
    from sklearn.decomposition import PCA
    say = progress or (lambda text: None)
    say("image features")
    feats = features(run, ds)
    if len(ds) <= SMALL:
        xy = PCA(n_components=2, random_state=0).fit_transform(feats)
    else:
        say("UMAP")
        import umap
        from sklearn.neighbors import NearestNeighbors

        # 16 components keep the neighbourhoods and halve the neighbour search; a PCA start, because the spectral
        # one fails on FER2013 (its exact duplicates leave too small an eigengap) and falls back to a random one
        reduced = PCA(n_components=min(16, feats.shape[1]), random_state=0).fit_transform(feats).astype(np.float32)
        # the neighbour graph from scikit-learn (2 s) rather than pynndescent, whose numba compiling costs ~20 s in
        # every new process; each point is its own first neighbour, as UMAP expects
        dist, idx = NearestNeighbors(n_neighbors=15).fit(reduced).kneighbors(reduced)
        xy = umap.UMAP(n_neighbors=15, min_dist=0.1, n_epochs=200, init="pca", low_memory=True,
                       precomputed_knn=(idx, dist, None)).fit_transform(reduced)
    xy = np.asarray(xy, np.float32)
    with atomic_path(_layout_file(ds, run), suffix=".npy") as tmp:
        np.save(tmp, xy)
    return xy


# ---- near-duplicates: a perceptual hash and the features must both say so ----

def phash(images: np.ndarray) -> np.ndarray:
    """64-bit perceptual hashes (DCT of a 32x32 copy, the 8x8 lowest frequencies against their median)."""
    import cv2
    from scipy.fft import dctn
    small = np.stack([cv2.resize(im, (32, 32), interpolation=cv2.INTER_AREA) for im in images]).astype(np.float32)
    low = dctn(small, axes=(1, 2), norm="ortho")[:, :8, :8].reshape(len(images), 64)
    bits = low > np.median(low[:, 1:], axis=1, keepdims=True)  # the DC term says brightness, not content
    return np.packbits(bits, axis=1).view(">u8").ravel()


def near_duplicate_pairs(hashes: np.ndarray, feats: np.ndarray, max_bits: int = 10, max_dist: float = 0.03,
                         chunk: int = 256) -> np.ndarray:
    """(i, j) pairs, i < j, whose hashes differ in at most `max_bits` of 64 and whose features are within cosine
    distance `max_dist`: one resized, re-encoded or slightly cropped copy of a face and the other."""
    pairs = []
    for start in range(0, len(hashes), chunk):
        block = hashes[start:start + chunk]
        bits = np.bitwise_count(block[:, None] ^ hashes[None, :])
        close = np.argwhere(bits <= max_bits)
        close = close[close[:, 0] + start < close[:, 1]]
        if len(close):
            i, j = close[:, 0] + start, close[:, 1]
            keep = np.einsum("nd,nd->n", feats[i], feats[j]) >= 1.0 - max_dist
            pairs.append(np.stack([i[keep], j[keep]], axis=1))
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), int)


def groups_from_pairs(pairs: np.ndarray, n: int) -> list[np.ndarray]:
    """Connected groups (2+ rows) of the pair graph, largest first."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    if not len(pairs):
        return []
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    sizes = np.bincount(comp)
    groups = [np.flatnonzero(comp == c) for c in np.flatnonzero(sizes >= 2)]
    return sorted(groups, key=len, reverse=True)
