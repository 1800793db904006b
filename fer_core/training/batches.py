"""The training batch sequence: shuffled, augmented on the host, deterministic per (seed, epoch, batch)."""
from __future__ import annotations

import keras
import numpy as np

from fer_core.training.augment import augment_training_batch


def steps_per_epoch(n_images: int, batch_size: int, max_steps: int | None = None) -> int:
    n = -(-n_images // batch_size)
    return min(n, max_steps) if max_steps else n


class AugmentedBatches(keras.utils.PyDataset):
    """Each batch's randomness comes from (seed, epoch, batch), so batches are the same with any number of
    worker threads and after a resume. `augment` is an augmentation dict, or None for plain batches."""

    def __init__(self, images, targets, weights, *, batch_size: int, seed: int, augment: dict | None,
                 workers: int = 1, max_steps: int | None = None, first_epoch: int = 0):
        workers = max(int(workers or 1), 1)
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=max(10, 2 * workers))
        self.images, self.targets, self.weights = images, targets, weights
        self.batch_size, self.seed, self.augment, self.max_steps = batch_size, seed, augment, max_steps
        self.epoch = first_epoch
        self.order = self._order()

    def _order(self):
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.images))

    def __len__(self):
        return steps_per_epoch(len(self.images), self.batch_size, self.max_steps)

    def __getitem__(self, i):
        rows = self.order[i * self.batch_size:(i + 1) * self.batch_size]
        if not self.augment:
            return self.images[rows].astype(np.float32)[..., None], self.targets[rows], self.weights[rows]
        rng = np.random.default_rng([self.seed, self.epoch, i])
        x, y, w = augment_training_batch(self.images[rows], self.targets[rows], self.weights[rows], rng, self.augment)
        return x[..., None], y, w

    def on_epoch_end(self):
        self.epoch += 1
        self.order = self._order()


class PlainBatches(keras.utils.PyDataset):
    """(x, y) batches in row order, each read when Keras asks for it: validation data that is never held as one
    float32 array (at 10x FER2013 that array alone would be 330 MB)."""

    def __init__(self, images, targets, batch_size: int):
        super().__init__()
        self.images, self.targets, self.batch_size = images, targets, batch_size

    def __len__(self):
        return steps_per_epoch(len(self.images), self.batch_size)

    def __getitem__(self, i):
        rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return np.asarray(self.images[rows]).astype(np.float32)[..., None], self.targets[rows]


def training_batches(images, targets, weights, cfg, first_epoch: int = 0) -> AugmentedBatches:
    """The batch sequence a TrainConfig asks for."""
    return AugmentedBatches(images, targets, weights, batch_size=cfg.batch_size, seed=cfg.seed,
                            augment=cfg.augment_dict() if cfg.augment_enabled else None, workers=cfg.data_workers,
                            max_steps=cfg.max_steps_per_epoch, first_epoch=first_epoch)
