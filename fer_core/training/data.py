"""Turn a TrainConfig's data settings into arrays: images, one-hot/soft targets per split."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fer_core.data.ferplus import require_votes, votes_in_scheme, votes_labels
from fer_core.data.loading import load_dataset
from fer_core.data.pack import is_pack
from fer_core.data.quality import image_hashes, leaked
from fer_core.data.rows import Rows
from fer_core.data.schemes import UNMAPPED, get_scheme
from fer_core.errors import DataError


@dataclass
class SplitArrays:
    images: Rows | np.ndarray  # n x 48 x 48 uint8, read from the dataset's (mapped) array when indexed
    targets: np.ndarray  # n x K float32 (one-hot or soft)
    labels: np.ndarray  # n hard labels (argmax of targets)
    ids: np.ndarray


@dataclass
class TrainingData:
    train: SplitArrays
    val: SplitArrays
    test: SplitArrays | None
    class_names: tuple[str, ...]
    data_version: str
    dataset_name: str
    notes: list[str] = field(default_factory=list)


def _targets(cfg, ds) -> np.ndarray:
    """One row of targets per image in `cfg.scheme` (all zeros where the row has no label there)."""
    k = get_scheme(cfg.scheme).n_classes
    if cfg.label_source == "labels":
        labels = ds.in_scheme(cfg.scheme).labels
        targets = np.zeros((len(ds), k), np.float32)
        targets[labels != UNMAPPED, labels[labels != UNMAPPED]] = 1.0
    else:
        require_votes(ds, f"for the label source '{cfg.label_source}'")
        if cfg.label_source == "probability":
            targets = votes_in_scheme(ds.votes, cfg.scheme, "soft")
        else:
            hard = votes_labels(ds, cfg.label_source, cfg.scheme)
            targets = np.zeros((len(ds), k), np.float32)
            targets[hard != UNMAPPED, hard[hard != UNMAPPED]] = 1.0
    return targets


def check_trainable(cfg, ds) -> None:
    """Refuse, before a job is queued, a dataset whose training split has no label in the chosen scheme."""
    usable = _targets(cfg, ds).sum(axis=1) > 0
    if not (usable & (ds.splits == cfg.train_split)).any():
        in_scheme = f"in the '{cfg.scheme}' scheme" if cfg.label_source == "labels" else f"from '{cfg.label_source}'"
        raise DataError(f"no labelled images {in_scheme} in split '{cfg.train_split}' of {ds.name} "
                        f"(its labels are {ds.scheme}; splits: {', '.join(ds.split_names)})",
                        fix=f"choose the label scheme '{ds.scheme}', or a dataset with {cfg.train_split} rows")


def _approximate_mode(counts: np.ndarray, n_draws: int, rng) -> np.ndarray:
    """Draws per class in proportion to `counts`, largest remainders rounded up (ties broken by `rng`)."""
    continuous = counts / counts.sum() * n_draws
    floored = np.floor(continuous)
    need, remainder = int(n_draws - floored.sum()), continuous - floored
    for value in np.sort(np.unique(remainder))[::-1]:
        if need <= 0:
            break
        picked = rng.choice(np.flatnonzero(remainder == value), size=min(int((remainder == value).sum()), need),
                            replace=False)
        floored[picked] += 1
        need -= len(picked)
    return floored.astype(int)


def _hold_out(labels: np.ndarray, rows: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split `rows` into (train, val): a seeded share for validation, stratified by class where every class has two
    rows or more and the share has a row for each, otherwise plain random.

    NumPy only (GPU hosts have no scikit-learn), yet scikit-learn's train_test_split draw for draw: the same seed
    holds out the same rows as before, so a run resumed or adjusted across the change keeps its validation rows.
    """
    n_val = max(1, int(round(fraction * len(rows))))
    y = labels[rows]
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    rng = np.random.RandomState(seed)  # the legacy generator: its stream is frozen, as scikit-learn's draws used it
    if counts.min() >= 2 and n_val >= len(classes):
        by_class = np.split(np.argsort(inverse, kind="stable"), np.cumsum(counts)[:-1])
        n_train = _approximate_mode(counts, len(rows) - n_val, rng)
        n_held = _approximate_mode(counts - n_train, n_val, rng)  # all the rest, but float rounding may draw ties
        val = np.concatenate([idx[rng.permutation(len(idx))][n:n + k] for idx, n, k in zip(by_class, n_train, n_held)])
    else:
        val = rng.permutation(len(rows))[:n_val]
    return np.sort(np.delete(rows, val)), np.sort(rows[val])


def prepare(cfg) -> TrainingData:
    ds = load_dataset(cfg.data)
    scheme = get_scheme(cfg.scheme)
    targets = _targets(cfg, ds)
    usable = targets.sum(axis=1) > 0
    notes = list(ds.notes) if is_pack(cfg.data) else []  # a lossy copy says so in the run's record
    if (~usable).any():
        notes.append(f"{int((~usable).sum())} rows have no label in '{cfg.scheme}' from '{cfg.label_source}' and are left out.")
    train_mask = usable & (ds.splits == cfg.train_split)
    if cfg.exclude_leaks_from_training:
        leak = train_mask & leaked(image_hashes(ds.images), ds.splits, cfg.train_split, [cfg.val_split, cfg.test_split])
        train_mask &= ~leak
        notes.append(f"{int(leak.sum())} Training rows whose image also occurs in {cfg.val_split}/{cfg.test_split} were dropped from training (test sets unchanged).")
    train_rows = np.flatnonzero(train_mask)
    held_out = None
    if not (usable & (ds.splits == cfg.val_split)).any() and cfg.val_holdout and len(train_rows) >= 2:
        # No validation split (a class-folder dataset, a CSV without Usage, a Relabel export of Training rows):
        # selection needs one, so a seeded share of the training rows is held out and never trained on.
        train_rows, held_out = _hold_out(targets.argmax(axis=1), train_rows, cfg.val_holdout, cfg.seed)
        notes.append(f"{ds.name} has no labelled '{cfg.val_split}' rows: {len(held_out)} of its "
                     f"'{cfg.train_split}' rows ({cfg.val_holdout:.0%}, seed {cfg.seed}) are held out for validation "
                     "and not trained on.")
    if cfg.max_train_images and len(train_rows) > cfg.max_train_images:
        rng = np.random.default_rng(cfg.seed)
        train_rows = np.sort(rng.choice(train_rows, cfg.max_train_images, replace=False))
        notes.append(f"Training on a random subset of {cfg.max_train_images} images (seed {cfg.seed}).")

    def arrays(rows):
        return SplitArrays(Rows(ds.images, rows), targets[rows], targets[rows].argmax(axis=1), ds.ids[rows])

    def split(name):
        rows = np.flatnonzero(usable & (ds.splits == name))
        return arrays(rows) if len(rows) else None

    val = arrays(held_out) if held_out is not None else split(cfg.val_split)
    test = split(cfg.test_split)
    if not len(train_rows):
        raise DataError(f"no labelled images in split '{cfg.train_split}' of {ds.name}",
                        fix=f"splits here: {', '.join(ds.split_names)}")
    if val is None:
        raise DataError(f"no labelled images in validation split '{cfg.val_split}' of {ds.name}",
                        fix=f"splits here: {', '.join(ds.split_names)}; or hold out part of "
                            f"'{cfg.train_split}' (val_holdout > 0)")
    return TrainingData(arrays(train_rows), val, test, scheme.classes, ds.version, ds.name, notes)
