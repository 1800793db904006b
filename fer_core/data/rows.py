"""A selection of rows of an image array, read only when indexed.

Training and evaluation take their splits as `Rows` of the dataset's memory-mapped cache: a batch reads its own rows
from the map, so a split of a dataset ten times FER2013 is never copied whole into memory (issue #35). Indexing gives
ordinary arrays, as indexing the copied split did, so batch code is the same for both.
"""
from __future__ import annotations

import numpy as np


class Rows:
    def __init__(self, base: np.ndarray, rows: np.ndarray | None = None):
        self.base = base
        self.rows = np.arange(len(base)) if rows is None else np.asarray(rows, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.rows), *self.base.shape[1:])

    @property
    def dtype(self):
        return self.base.dtype

    def subset(self, index) -> "Rows":
        """These rows' own selection (still unread): `index` picks among this selection's rows."""
        return Rows(self.base, self.rows[index])

    def __getitem__(self, key):
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if first is Ellipsis:  # `images[..., None]` and the like: the caller asked for the whole selection
            return np.asarray(self)[key]
        picked = self.rows[first]
        out = np.asarray(self.base[picked])  # a fancy index copies just these rows; asarray drops the memmap type
        if not rest:
            return out
        return out[rest] if np.ndim(picked) == 0 else out[(slice(None), *rest)]

    def __array__(self, dtype=None, copy=None):
        out = np.asarray(self.base[self.rows])
        return out if dtype is None else out.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"Rows({len(self)} of {len(self.base)} rows, {self.shape[1:]} {self.dtype})"

