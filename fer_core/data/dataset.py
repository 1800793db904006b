"""The Dataset value every page, loader and trainer passes around."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from fer_core.data.schemes import UNMAPPED, get_scheme, map_labels
from fer_core.errors import DataError

IMAGE_SIZE = 48
SPLIT_ORDER = ("Training", "PublicTest", "PrivateTest")


@dataclass(frozen=True, eq=False)
class Dataset:
    """N 48x48 uint8 images with labels in `scheme`, a split per row, stable row ids and a content hash.

    `votes` (N x 10 FERPlus vote counts) and `groups` (e.g. CK+ subject) are optional per-row extras; `extras`
    holds any other per-row columns a layout brings (AffectNet's valence and arousal, the original image's path).
    """

    name: str
    source: str
    scheme: str
    images: np.ndarray
    labels: np.ndarray
    splits: np.ndarray
    ids: np.ndarray
    version: str
    votes: np.ndarray | None = None
    groups: np.ndarray | None = None
    extras: dict[str, np.ndarray] | None = None
    is_demo: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self):
        n = len(self.images)
        if self.images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or self.images.dtype != np.uint8:
            raise DataError(f"images must be N x 48 x 48 uint8, got {self.images.shape} {self.images.dtype}",
                            path=self.source or None, fix="a dataset holds 48x48 grey face crops")
        columns = {"labels": self.labels, "splits": self.splits, "ids": self.ids, **(self.extras or {})}
        for attr, column in columns.items():
            if len(column) != n:
                raise DataError(f"{attr} has {len(column)} rows, images {n}", path=self.source or None,
                                fix="every image needs one label, split and id: the file is damaged or cut short")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def class_names(self) -> tuple[str, ...]:
        return get_scheme(self.scheme).classes

    @property
    def split_names(self) -> list[str]:
        return list(self._split_names)

    @cached_property
    def _split_names(self) -> tuple[str, ...]:
        """Once per Dataset (frozen: its rows never change): a page asks on every rerun, and the scan is O(rows)."""
        present = list(dict.fromkeys(self.splits.tolist()))
        return tuple(sorted(present, key=lambda s: (SPLIT_ORDER.index(s) if s in SPLIT_ORDER else 99, s)))

    def select(self, mask: np.ndarray) -> "Dataset":
        """Rows where mask is true (or the given indices), same version lineage noted in the name."""
        mask = np.asarray(mask)
        take = lambda a: None if a is None else a[mask]  # noqa: E731
        return replace(self, images=self.images[mask], labels=self.labels[mask], splits=self.splits[mask],
                       ids=self.ids[mask], votes=take(self.votes), groups=take(self.groups),
                       extras={k: v[mask] for k, v in self.extras.items()} if self.extras else None)

    def split(self, name: str) -> "Dataset":
        return self.select(self.splits == name)

    def in_scheme(self, scheme: str) -> "Dataset":
        """The same rows with labels mapped into another scheme (UNMAPPED where there is no counterpart)."""
        if scheme == self.scheme:
            return self
        return replace(self, scheme=scheme, labels=map_labels(self.labels, self.scheme, scheme))

    def with_labels(self, labels: np.ndarray, scheme: str) -> "Dataset":
        return replace(self, labels=np.asarray(labels, dtype=np.int64), scheme=scheme)

    def unmapped_count(self) -> int:
        return int((self.labels == UNMAPPED).sum())


HASH_CHUNK_ROWS = 4096  # rows hashed per update: the whole array is never copied at once


def content_hash(images: np.ndarray, labels: np.ndarray, splits: np.ndarray) -> str:
    """Data version: sha256 over pixels, labels and splits (short hex). Row order matters, as in training."""
    h = hashlib.sha256()
    update_image_hash(h, images)
    return finish_content_hash(h, labels, splits)


def update_image_hash(h, images: np.ndarray) -> None:
    """Feed the C-order bytes of `images` to `h` in row chunks (same bytes as one `tobytes()`, without the copy)."""
    images = np.asarray(images)
    if images.ndim == 0:
        h.update(images.tobytes())
        return
    for start in range(0, len(images), HASH_CHUNK_ROWS):
        h.update(np.ascontiguousarray(images[start:start + HASH_CHUNK_ROWS]).tobytes())


def finish_content_hash(h, labels: np.ndarray, splits: np.ndarray) -> str:
    """The rest of `content_hash` once every image went through `update_image_hash` (or was fed in row order)."""
    h.update(np.asarray(labels, dtype=np.int64).tobytes())
    h.update("\n".join(np.asarray(splits).tolist()).encode())
    return h.hexdigest()[:16]
