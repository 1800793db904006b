"""Reader for the FER2013 CSV layout (`emotion,pixels,Usage`, plain or gzip), with a binary cache.

Pixels are parsed with vectorised NumPy over the raw bytes (no per-value Python work), and every
problem is reported with the file, the data row and the fix.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_core.atomic import atomic_path
from fer_core.data.dataset import content_hash
from fer_core.errors import DataError
from fer_core.settings import cache_dir

PIXELS_PER_IMAGE = 48 * 48
CACHE_FORMAT = 2  # bump when the cached arrays change meaning
CHUNK_ROWS = 2048


@dataclass
class ParsedCsv:
    images: np.ndarray  # N x 48 x 48 uint8
    labels: np.ndarray  # N int64
    usage: np.ndarray  # N str
    version: str  # content hash (data version), stored in the cache so later loads skip hashing
    seconds: float
    from_cache: bool


def read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise DataError("file not found", path=str(path),
                        fix="check the path, or set FER_DATA / FER_DATA_DIR to your copy of FER2013")
    if path.is_dir():
        raise DataError("expected a CSV file but got a folder", path=str(path))
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read the file ({exc})", path=str(path),
                        fix="the file may be truncated or not really gzip; re-download it") from exc


def _split_header(data: bytes, path: Path) -> tuple[list[str], list[bytes]]:
    lines = data.split(b"\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataError("the file is empty", path=str(path), fix="expected a header 'emotion,pixels,Usage' and rows")
    header = lines[0].decode("utf-8", "replace").lstrip("\ufeff").strip()
    columns = [c.strip().strip('"').strip() for c in header.split(",")]
    return columns, lines[1:]


def _column_positions(columns: list[str], path: Path) -> tuple[int, int, int | None]:
    lower = [c.lower() for c in columns]
    if "emotion" not in lower or "pixels" not in lower:
        missing = [c for c in ("emotion", "pixels") if c not in lower]
        # the message names what is missing, never the line it read (it may not be a CSV at all)
        raise DataError(f"not a FER2013 CSV: its first line has no {' or '.join(repr(c) for c in missing)} column",
                        path=str(path), fix="a FER2013 CSV starts with the header 'emotion,pixels,Usage'")
    return lower.index("emotion"), lower.index("pixels"), (lower.index("usage") if "usage" in lower else None)


def _parse_pixel_chunk(fields: list[bytes], first_row: int, path: Path) -> np.ndarray:
    """Parse pixel strings ('0 12 255 ...') of consecutive rows into an n x 2304 uint8 array."""
    fast = _parse_well_formed(fields)
    if fast is not None:
        return fast
    return _parse_and_diagnose(fields, first_row, path)


def _parse_well_formed(fields: list[bytes]) -> np.ndarray | None:
    """Fast path for the usual case (single spaces, digits only, values <= 255); None if anything is unusual."""
    if any(f.count(b" ") != PIXELS_PER_IMAGE - 1 for f in fields):
        return None
    joined = b" ".join(fields)
    buf = np.frombuffer(joined, dtype=np.uint8)
    if not (((buf >= 48) & (buf <= 57)) | (buf == 32)).all():
        return None
    values = np.fromstring(joined, dtype=np.int32, sep=" ")
    if values.size != len(fields) * PIXELS_PER_IMAGE or values.max(initial=0) > 255:
        return None
    return values.astype(np.uint8).reshape(len(fields), PIXELS_PER_IMAGE)


def _parse_and_diagnose(fields: list[bytes], first_row: int, path: Path) -> np.ndarray:
    """Exact token-level parser that names the first bad row and value (any whitespace between values)."""
    joined = b"\n".join(fields) + b"\n"
    buf = np.frombuffer(joined, dtype=np.uint8)
    is_digit = (buf >= 48) & (buf <= 57)
    allowed = is_digit | (buf == 32) | (buf == 10) | (buf == 9) | (buf == 13)
    newlines = np.flatnonzero(buf == 10)
    if not allowed.all():
        pos = int(np.argmin(allowed))
        row = first_row + int(np.searchsorted(newlines, pos))
        char = chr(buf[pos])
        problem = ("a negative pixel value; values must be 0-255" if char == "-"
                   else f"a non-integer character {char!r} in the pixels field; values must be integers 0-255")
        raise DataError(problem, path=str(path), row=row, fix="fix or drop this row")
    # token boundaries: a digit whose left (right) neighbour is not a digit
    edge = np.diff(is_digit.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edge == 1)
    ends = np.flatnonzero(edge == -1)
    token_row = np.searchsorted(newlines, starts)
    counts = np.bincount(token_row, minlength=len(fields))
    bad = np.flatnonzero(counts != PIXELS_PER_IMAGE)
    if len(bad):
        r = int(bad[0])
        raise DataError(f"{counts[r]} pixel values, expected {PIXELS_PER_IMAGE} (48x48)", path=str(path),
                        row=first_row + r, fix="every pixels field must hold 2304 space-separated values")
    lengths = ends - starts
    # gather at most three digits per token (only the tokens, not the whole buffer, are widened)
    last = len(buf) - 1
    values = buf[starts].astype(np.int32) - 48
    for k in (1, 2):
        more = lengths > k
        values = np.where(more, values * 10 + (buf[np.minimum(starts + k, last)].astype(np.int32) - 48), values)
    too_big = (values > 255) | (lengths > 3)
    if too_big.any():
        t = int(np.argmax(too_big))
        raise DataError(f"pixel value {joined[starts[t]:ends[t]].decode()} is outside 0-255", path=str(path),
                        row=first_row + int(token_row[t]), fix="pixel values must be integers 0-255")
    return values.astype(np.uint8).reshape(len(fields), PIXELS_PER_IMAGE)


def parse_fer_csv_bytes(data: bytes, path: Path, n_classes: int, default_usage: str = "Training"):
    """Parse the whole CSV content. Returns images, labels, usage."""
    columns, lines = _split_header(data, path)
    i_emotion, i_pixels, i_usage = _column_positions(columns, path)
    n_cols = len(columns)
    if not lines:
        raise DataError("the file has a header but no rows", path=str(path))
    labels = np.empty(len(lines), dtype=np.int64)
    usage: list[str] = []
    pixel_fields: list[bytes] = []
    for row, line in enumerate(lines):
        parts = line.rstrip(b"\r").split(b",")
        if len(parts) != n_cols and b'"' in line:  # a quoted field with a comma inside: the slow, exact reader
            parts = [f.encode() for f in next(csv.reader([line.rstrip(b"\r").decode("utf-8", "replace")]))]
        if len(parts) != n_cols:
            raise DataError(f"{len(parts)} fields, expected {n_cols} ({','.join(columns)})", path=str(path),
                            row=row, fix="check for a missing or extra comma on that line")
        raw_label = parts[i_emotion].strip().strip(b'"')
        try:
            label = int(raw_label)
        except ValueError:
            raise DataError(f"emotion {raw_label.decode(errors='replace')!r} is not an integer", path=str(path),
                            row=row, fix=f"labels must be integers 0-{n_classes - 1}") from None
        if not 0 <= label < n_classes:
            raise DataError(f"emotion {label} is outside 0-{n_classes - 1}", path=str(path), row=row,
                            fix="use the label indices of the dataset's scheme")
        labels[row] = label
        pixel_fields.append(parts[i_pixels].strip().strip(b'"'))
        usage.append(parts[i_usage].strip().strip(b'"').decode() if i_usage is not None else default_usage)
    chunks = [
        _parse_pixel_chunk(pixel_fields[s:s + CHUNK_ROWS], s, path) for s in range(0, len(pixel_fields), CHUNK_ROWS)
    ]
    images = np.concatenate(chunks).reshape(-1, 48, 48)
    return images, labels, np.array(usage)


def _cache_file(path: Path, kind: str) -> Path:
    st = path.stat()
    key = f"{CACHE_FORMAT}|{kind}|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    return cache_dir() / f"{path.name}.{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz"


def load_fer_csv(path: str | os.PathLike, n_classes: int = 7, use_cache: bool = True) -> ParsedCsv:
    """Load a FER2013-layout CSV; the first load of a file writes a binary cache that later loads read."""
    path = Path(path)
    start = time.perf_counter()
    if not path.exists():
        read_bytes(path)  # raises the "file not found" DataError
    cache = _cache_file(path, f"fer-csv-{n_classes}") if use_cache else None
    if cache is not None and cache.exists():
        try:
            with np.load(cache, allow_pickle=False) as z:
                return ParsedCsv(z["images"], z["labels"], z["usage"], str(z["version"]),
                                 time.perf_counter() - start, True)
        except (OSError, ValueError, KeyError, zlib.error):
            cache.unlink(missing_ok=True)  # a damaged cache is rebuilt, never trusted
    images, labels, usage = parse_fer_csv_bytes(read_bytes(path), path, n_classes)
    version = content_hash(images, labels, usage)
    if cache is not None:
        try:
            with atomic_path(cache, suffix=".npz") as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(fh, images=images, labels=labels, usage=usage, version=np.str_(version))
        except OSError:
            pass  # no cache is slower, not wrong
    return ParsedCsv(images, labels, usage, version, time.perf_counter() - start, False)


HEADER = "emotion,pixels,Usage"


def fer_csv_text(images: np.ndarray, labels, usage, header: str = HEADER) -> str:
    """The FER2013 layout: one row per image, label index, space-separated pixels, split."""
    lines = [header] + [f"{int(lab)},{' '.join(map(str, img.ravel().tolist()))},{u}"
                        for img, lab, u in zip(images, labels, usage)]
    return "\n".join(lines) + "\n"


def write_fer_csv(path: str | Path, images: np.ndarray, labels, usage, *, gz: bool = False) -> Path:
    """Write images as a FER2013-layout CSV (gzip when asked), atomically: the reader's one counterpart."""
    path = Path(path)
    text = fer_csv_text(images, labels, usage)
    with atomic_path(path, suffix=path.suffix or ".csv") as tmp:
        if gz:
            with gzip.open(tmp, "wt") as fh:
                fh.write(text)
        else:
            Path(tmp).write_text(text)
    return path
