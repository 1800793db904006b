"""Where parsed CSV pixels go: a raw .npy in the cache folder, written row chunk by row chunk and read back
memory-mapped, or (when no cache can be written) one growing in-memory buffer. Either way the pixels are never
held twice. Labels, usage and the data version are small and sit beside the images in a .npz that is written
last: no meta file, or one that does not match the images file, means the cache is rebuilt, never trusted.
"""
from __future__ import annotations

import hashlib
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from fer_core.atomic import atomic_path
from fer_core.settings import cache_dir

CACHE_FORMAT = 3  # bump when the cached arrays change meaning (3: images .npy memory-mapped + meta .npz)
SIDE = 48
ROW_BYTES = SIDE * SIDE
HEADER_BYTES = 128  # fixed .npy header size, so the row count can be filled in once the rows are written


def cache_paths(path: Path, kind: str) -> tuple[Path, Path] | None:
    """(images .npy, meta .npz) for this file's size and mtime; None when there is no usable cache folder."""
    st = path.stat()
    key = f"{CACHE_FORMAT}|{kind}|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    try:
        folder = cache_dir()
    except OSError:
        return None
    stem = f"{path.name}.{hashlib.sha1(key.encode()).hexdigest()[:16]}"
    return folder / f"{stem}.images.npy", folder / f"{stem}.meta.npz"


def npy_header(n_rows: int) -> bytes:
    """A version 1.0 .npy header for n_rows x 48 x 48 uint8, padded to HEADER_BYTES (a multiple of 64)."""
    text = f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({n_rows}, {SIDE}, {SIDE}), }}"
    body = text.ljust(HEADER_BYTES - 10 - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body.encode("latin1")


class MemorySink:
    """Rows appended to one bytearray (grown in place by realloc, not copied into a second array at the end)."""

    def __init__(self):
        self._buf = bytearray()

    def write(self, rows: np.ndarray) -> None:
        self._buf += memoryview(np.ascontiguousarray(rows, dtype=np.uint8)).cast("B")

    def images(self) -> np.ndarray:
        return np.frombuffer(self._buf, dtype=np.uint8).reshape(-1, SIDE, SIDE)


class FileSink:
    """Rows appended to an open file after a placeholder .npy header; `finish` writes the real row count."""

    def __init__(self, fh):
        self._fh = fh
        self.rows = 0
        fh.write(npy_header(0))

    def write(self, rows: np.ndarray) -> None:
        self._fh.write(memoryview(np.ascontiguousarray(rows, dtype=np.uint8)).cast("B"))
        self.rows += len(rows)

    def finish(self) -> int:
        """Fill in the header; returns the file's size."""
        self._fh.seek(0)
        self._fh.write(npy_header(self.rows))
        self._fh.flush()
        return HEADER_BYTES + self.rows * ROW_BYTES


def write_cache(images_path: Path, meta_path: Path, fill) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Run `fill(sink)` (which writes the rows and returns labels, usage, version) into a new images file, then
    write the meta beside it. Returns the memory-mapped images, labels, usage, version. OSError when the images
    file cannot be written (the caller then parses into memory instead)."""
    meta_path.unlink(missing_ok=True)  # the images are replaced: an old meta must not vouch for a half-written file
    with atomic_path(images_path, suffix=".npy") as tmp, open(tmp, "wb") as fh:
        sink = FileSink(fh)
        labels, usage, version = fill(sink)
        size = sink.finish()
    try:
        with atomic_path(meta_path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
            np.savez(fh, labels=labels, usage=usage, version=np.str_(version), image_bytes=np.int64(size))
    except OSError:
        pass  # without its meta the images file is rebuilt next time; this load still has everything
    return np.load(images_path, mmap_mode="r", allow_pickle=False), labels, usage, version


def read_cache(images_path: Path, meta_path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, str] | None:
    """The cached images (memory-mapped, read-only), labels, usage and version; None (and the files removed) when
    missing, partial or inconsistent."""
    if not (images_path.exists() and meta_path.exists()):
        return None
    try:
        with np.load(meta_path, allow_pickle=False) as z:
            labels, usage, version, size = z["labels"], z["usage"], str(z["version"]), int(z["image_bytes"])
        if images_path.stat().st_size != size:
            raise ValueError("the images file does not have the size its meta records")
        images = np.load(images_path, mmap_mode="r", allow_pickle=False)
        if images.dtype != np.uint8 or images.shape != (len(labels), SIDE, SIDE) or len(usage) != len(labels):
            raise ValueError("the cached arrays do not match")
        return images, labels, usage, version
    except (OSError, ValueError, KeyError, EOFError, zlib.error, zipfile.BadZipFile):
        for p in (meta_path, images_path):  # a damaged cache is rebuilt, never trusted
            try:
                p.unlink(missing_ok=True)
            except OSError:
                pass
        return None
