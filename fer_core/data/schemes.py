"""Label schemes are data (schemes.json); this module reads them and maps labels between them."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from fer_core.errors import DataError

DEFAULT_SCHEME_FILE = Path(__file__).with_name("schemes.json")
UNMAPPED = -1  # label value for "no counterpart in this scheme"


@dataclass(frozen=True)
class Scheme:
    name: str
    title: str
    classes: tuple[str, ...]
    aliases: dict
    note: str = ""

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def index(self, class_name: str) -> int:
        """Index of a class by its name or an alias (case-insensitive); DataError if unknown."""
        lookup = {c.lower(): i for i, c in enumerate(self.classes)}
        key = class_name.strip()
        key = self.aliases.get(key, self.aliases.get(key.lower(), key))
        if key.lower() in lookup:
            return lookup[key.lower()]
        raise DataError(f"class '{class_name}' is not in scheme '{self.name}'",
                        fix=f"use one of {', '.join(self.classes)} or add an alias in schemes.json")


def scheme_file() -> Path:
    return Path(os.environ.get("FER_SCHEMES", DEFAULT_SCHEME_FILE))


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> tuple[dict, dict]:
    try:
        raw = json.loads(Path(path).read_text())
        schemes = {
            name: Scheme(name=name, title=s.get("title", name), classes=tuple(s["classes"]),
                         aliases=dict(s.get("aliases", {})), note=s.get("note", ""))
            for name, s in raw["schemes"].items()
        }
        mappings = dict(raw.get("mappings", {}))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"cannot read the label-scheme file ({exc})", path=path,
                        fix="restore fer_core/data/schemes.json or fix its JSON") from exc
    for key, table in mappings.items():
        src, _, dst = key.partition("->")
        if src not in schemes or dst not in schemes:
            raise DataError(f"mapping '{key}' names an unknown scheme", path=path)
        for a, b in table.items():
            schemes[src].index(a)
            if b is not None:
                schemes[dst].index(b)
    return schemes, mappings


def all_schemes() -> dict[str, Scheme]:
    path = scheme_file()
    return _load(str(path), path.stat().st_mtime if path.exists() else 0.0)[0]


def get_scheme(name: str) -> Scheme:
    schemes = all_schemes()
    if name not in schemes:
        raise DataError(f"unknown label scheme '{name}'", fix=f"choose one of {', '.join(schemes)}")
    return schemes[name]


def mapping_table(src: str, dst: str) -> np.ndarray | None:
    """Index lookup table src-label -> dst-label (UNMAPPED where no counterpart); None if no mapping is defined."""
    s, d = get_scheme(src), get_scheme(dst)
    if src == dst:
        return np.arange(s.n_classes)
    path = scheme_file()
    mappings = _load(str(path), path.stat().st_mtime if path.exists() else 0.0)[1]
    table = mappings.get(f"{src}->{dst}")
    if table is None:
        return None
    out = np.full(s.n_classes, UNMAPPED, dtype=np.int64)
    for a, b in table.items():
        if b is not None:
            out[s.index(a)] = d.index(b)
    return out


def reachable_schemes(src: str) -> list[str]:
    """Schemes that labels in `src` can be mapped into (itself first)."""
    return [src] + [n for n in all_schemes() if n != src and mapping_table(src, n) is not None]


def map_labels(labels: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Map label indices from one scheme to another; UNMAPPED stays UNMAPPED, classes without counterpart become it."""
    table = mapping_table(src, dst)
    if table is None:
        raise DataError(f"no mapping from scheme '{src}' to '{dst}'",
                        fix=f"add a '{src}->{dst}' entry to schemes.json")
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(labels.shape, UNMAPPED, dtype=np.int64)
    valid = labels >= 0
    out[valid] = table[labels[valid]]
    return out


def map_distribution(dist: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Columns of `dist` (N x classes of `src`: probabilities, vote counts or shares) summed into `dst`'s classes;
    columns without counterpart are dropped, so rows may sum to less than before. Keeps the dtype."""
    table = mapping_table(src, dst)
    if table is None:
        raise DataError(f"no mapping from scheme '{src}' to '{dst}'", fix=f"add a '{src}->{dst}' entry to schemes.json")
    dist = np.asarray(dist)
    out = np.zeros((len(dist), get_scheme(dst).n_classes), dist.dtype)
    for i, j in enumerate(table):
        if j != UNMAPPED:
            out[:, j] += dist[:, i]
    return out

