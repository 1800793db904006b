"""From a layout's rows to a Dataset, through a cache: the faces are written straight into a memory-mapped array in
the cache folder (memory grows with the pixels, not with the photos), and a later load maps it read-only.

The cache is keyed by the layout, the label files' size and time and the files' paths; it is written in a temporary
folder and renamed into place, so a load cut off half way leaves nothing that a later load would trust.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from fer_core.data.dataset import Dataset, content_hash
from fer_core.data.layouts.faces import IMAGE_SIZE, Row, failure_notes, read_faces
from fer_core.errors import DataError
from fer_core.settings import cache_dir

CACHE_FORMAT = 1
COPY_ROWS = 8192


def _key(layout: str, label_files: list[Path], rows: list[Row]) -> str:
    h = hashlib.sha1(f"{CACHE_FORMAT}|{layout}".encode())
    for f in label_files:
        st = f.stat()
        h.update(f"|{f.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    h.update(str(len(rows)).encode())
    return h.hexdigest()[:16]


def _read_cache(folder: Path):
    try:
        meta = json.loads((folder / "meta.json").read_text())
        images = np.load(folder / "images.npy", mmap_mode="r")
        with np.load(folder / "columns.npz", allow_pickle=False) as z:
            columns = {k: z[k] for k in z.files}
        if meta.get("format") != CACHE_FORMAT or len(images) != meta["rows"]:
            raise ValueError("stale")
        return images, columns, meta
    except (OSError, ValueError, KeyError):
        shutil.rmtree(folder, ignore_errors=True)  # damaged or stale: rebuilt, never trusted
        return None


def _compact(tmp: Path, images: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """The rows that worked, copied in chunks into a file of their own size (never all in memory)."""
    keep = np.flatnonzero(ok)
    if len(keep) == len(images):
        return images
    final = np.lib.format.open_memmap(tmp / "images.compact.npy", mode="w+", dtype=np.uint8,
                                      shape=(len(keep), IMAGE_SIZE, IMAGE_SIZE))
    for s in range(0, len(keep), COPY_ROWS):
        final[s:s + COPY_ROWS] = images[keep[s:s + COPY_ROWS]]
    final.flush()
    del images
    (tmp / "images.compact.npy").replace(tmp / "images.npy")
    return final


def build_dataset(*, layout: str, title: str, source: Path, scheme: str, label_files: list[Path], rows: list[Row],
                  face_of, notes: list[str], groups_of=None) -> Dataset:
    """Read every row's face (cached), leave out and name the rows that failed, and return the Dataset."""
    if not rows:
        raise DataError(f"the {title} label file lists no images", path=str(label_files[0]),
                        fix="check that it is the complete file as distributed")
    start = time.perf_counter()
    root = cache_dir()
    folder = root / f"{layout}-{_key(layout, label_files, rows)}"
    cached = _read_cache(folder) if folder.exists() else None
    if cached is None:
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=root))
        except OSError as exc:
            raise DataError(f"cannot write the dataset cache ({exc.strerror})", path=str(root),
                            fix="set FER_CACHE_DIR to a writable folder with room for 2.3 KB per face") from None
        try:
            images = np.lib.format.open_memmap(tmp / "images.npy", mode="w+", dtype=np.uint8,
                                               shape=(len(rows), IMAGE_SIZE, IMAGE_SIZE))
            ok, failed = read_faces(rows, face_of, images)
            if not ok.any():
                reasons = "; ".join(failure_notes(failed, len(rows)))
                raise DataError(f"none of the {len(rows)} images listed could be used ({reasons})",
                                path=str(source), fix="check that the image folder sits where the layout expects it")
            images = _compact(tmp, images, ok)
            images.flush()
            kept = [r for r, good in zip(rows, ok) if good]
            columns = {"labels": np.array([r.label for r in kept], np.int64), "splits": np.array([r.split for r in kept]),
                       "ids": np.array([r.id for r in kept])}
            for name in kept[0].extras:
                columns[f"extra:{name}"] = np.array([r.extras[name] for r in kept])
            if groups_of is not None:
                columns["groups"] = np.array([groups_of(r) for r in kept])
            version = content_hash(images, columns["labels"], columns["splits"])
            meta = {"format": CACHE_FORMAT, "rows": len(kept), "version": version,
                    "failures": failure_notes(failed, len(rows))}
            with open(tmp / "columns.npz", "wb") as fh:
                np.savez(fh, **columns)
            (tmp / "meta.json").write_text(json.dumps(meta))
            del images
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
            tmp.replace(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        cached = _read_cache(folder)
        if cached is None:
            raise DataError("the dataset cache could not be read back", path=str(folder),
                            fix="check free disk space and FER_CACHE_DIR")
        how = "read the images; cached for next time"
    else:
        how = "memory-mapped cache"
    images, columns, meta = cached
    extras = {k.split(":", 1)[1]: v for k, v in columns.items() if k.startswith("extra:")} or None
    notes = [*notes, *meta["failures"], f"Loaded in {time.perf_counter() - start:.2f} s ({how})."]
    return Dataset(name=f"{title} ({source.name})", source=str(source), scheme=scheme, images=images,
                   labels=columns["labels"], splits=columns["splits"], ids=columns["ids"], version=meta["version"],
                   groups=columns.get("groups"), extras=extras, notes=tuple(notes))
