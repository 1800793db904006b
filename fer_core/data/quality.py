"""Data-quality findings: exact duplicates, train/test leaks, blank images, label disagreement with FERPlus."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from fer_core.data.dataset import Dataset
from fer_core.data.ferplus import votes_disagreement

NEAR_CONSTANT_STD = 3.0  # grey levels; below this an image carries no usable face
CHUNK_ROWS = 4096  # images per block when scanning pixels


@dataclass
class QualityReport:
    n_rows: int
    duplicate_groups: list[np.ndarray]  # row indices sharing one exact image (groups of >= 2)
    leaks: dict[str, np.ndarray]  # "PublicTest<-Training" -> rows of the later split whose image occurs in the earlier
    blank: np.ndarray  # rows with a single flat value
    near_constant: np.ndarray  # rows with tiny spread (not blank)
    conflicting_duplicates: list[np.ndarray]  # duplicate groups whose labels differ
    ferplus_disagreement: np.ndarray | None = None  # rows whose FER2013 label differs from the FERPlus majority
    ferplus_comparable: int = 0  # rows with a FERPlus majority emotion that maps to the dataset's scheme
    notes: list[str] = field(default_factory=list)

    @property
    def duplicate_rows(self) -> int:
        return int(sum(len(g) for g in self.duplicate_groups))

    def summary(self) -> dict:
        out = {
            "rows": self.n_rows,
            "rows sharing an image with another row": self.duplicate_rows,
            "distinct duplicated images": len(self.duplicate_groups),
            "duplicate groups with conflicting labels": len(self.conflicting_duplicates),
            "blank images (one flat value)": int(len(self.blank)),
            f"near-constant images (std < {NEAR_CONSTANT_STD:g}, not blank)": int(len(self.near_constant)),
        }
        for key, rows in self.leaks.items():
            out[leak_title(key)] = int(len(rows))
        if self.ferplus_disagreement is not None:
            out["FERPlus-majority disagreements"] = int(len(self.ferplus_disagreement))
            out["FERPlus-comparable rows"] = self.ferplus_comparable
        return out


def leak_title(key: str) -> str:
    """'PrivateTest<-Training' -> 'PrivateTest images also in Training (leaks)'."""
    later, earlier = key.split("<-")
    return f"{later} images also in {earlier} (leaks)"


def _row_blocks(images: np.ndarray):
    """(start, n x pixels plain-ndarray block) over the images, so no whole-array temporary is ever made."""
    flat = images.reshape(len(images), -1)
    for start in range(0, len(flat), CHUNK_ROWS):
        yield start, np.ascontiguousarray(flat[start:start + CHUNK_ROWS])


def image_hashes(images: np.ndarray) -> np.ndarray:
    """One digest per image (exact pixel equality)."""
    return np.array([hashlib.blake2b(row.tobytes(), digest_size=12).hexdigest()
                     for _, block in _row_blocks(images) for row in block])


def _spread(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row min, max and std, computed block by block (std widens to float64: never for all rows at once)."""
    n = len(images)
    lo, hi, std = np.empty(n, np.uint8), np.empty(n, np.uint8), np.empty(n, np.float64)
    for start, block in _row_blocks(images):
        end = start + len(block)
        lo[start:end], hi[start:end], std[start:end] = block.min(axis=1), block.max(axis=1), block.std(axis=1)
    return lo, hi, std


def leaked(hashes: np.ndarray, splits: np.ndarray, into, source) -> np.ndarray:
    """The one leak detector: a mask of the rows in split(s) `into` whose exact image also occurs in split(s)
    `source` (e.g. test images that are also training images)."""
    into_mask = np.isin(splits, [into] if isinstance(into, str) else list(into))
    source_mask = np.isin(splits, [source] if isinstance(source, str) else list(source))
    return into_mask & np.isin(hashes, np.unique(hashes[source_mask]))


def _leaks(hashes: np.ndarray, splits: np.ndarray, order: list[str]) -> dict[str, np.ndarray]:
    out = {}
    for i, later in enumerate(order):
        for earlier in order[:i]:
            out[f"{later}<-{earlier}"] = np.flatnonzero(leaked(hashes, splits, later, earlier))
    return out


def ferplus_disagreement(ds: Dataset) -> tuple[np.ndarray, int]:
    """Rows whose label differs from the FERPlus majority label (mapped into the dataset's scheme)."""
    disagree, comparable = votes_disagreement(ds, "majority")
    return np.flatnonzero(disagree), int(comparable.sum())


def analyse(ds: Dataset) -> QualityReport:
    hashes = image_hashes(ds.images)
    _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    dup_rows = np.flatnonzero(counts[inverse] > 1)
    groups: dict[int, list[int]] = {}
    for r in dup_rows:
        groups.setdefault(int(inverse[r]), []).append(int(r))
    dup_groups = [np.array(g) for g in groups.values()]
    conflicting = [g for g in dup_groups if len(set(ds.labels[g].tolist())) > 1]
    lo, hi, std = _spread(ds.images)
    blank = np.flatnonzero(lo == hi)
    near = np.flatnonzero((std < NEAR_CONSTANT_STD) & (lo != hi))
    report = QualityReport(n_rows=len(ds), duplicate_groups=dup_groups, leaks=_leaks(hashes, ds.splits, ds.split_names),
                           blank=blank, near_constant=near, conflicting_duplicates=conflicting)
    if ds.votes is not None:
        report.ferplus_disagreement, report.ferplus_comparable = ferplus_disagreement(ds)
    return report
