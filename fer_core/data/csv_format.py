"""Reader for the FER2013 CSV layout (`emotion,pixels,Usage`, plain or gzip), with a binary cache.

The file is streamed in chunks of rows: each chunk's pixels are parsed with vectorised NumPy over the raw bytes
(no per-value Python work), hashed and written straight into the cache's images file (or one in-memory buffer),
so memory grows with the pixels, never with the text. Every problem is reported with the file, the data row and
the fix.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import os
import time
import zlib
from contextlib import closing
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

import numpy as np

from fer_core.atomic import atomic_path
from fer_core.data.csv_cache import MemorySink, cache_paths, read_cache, write_cache
from fer_core.data.dataset import finish_content_hash
from fer_core.data.load_progress import report
from fer_core.errors import DataError

PIXELS_PER_IMAGE = 48 * 48
CHUNK_ROWS = 2048  # rows read, parsed and written at a time


@dataclass
class ParsedCsv:
    images: np.ndarray  # N x 48 x 48 uint8 (a read-only np.memmap of the cache when there is one)
    labels: np.ndarray  # N int64
    usage: np.ndarray  # N str
    version: str  # content hash (data version), stored in the cache so later loads skip hashing
    seconds: float
    from_cache: bool


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataError("file not found", path=str(path),
                        fix="check the path, or set FER_DATA / FER_DATA_DIR to your copy of FER2013")
    if path.is_dir():
        raise DataError("expected a CSV file but got a folder", path=str(path))


def _unreadable(path: Path, exc: Exception) -> DataError:
    return DataError(f"cannot read the file ({exc})", path=str(path),
                     fix="the file may be truncated or not really gzip; re-download it")


def _line_chunks(path: Path):
    """Lists of up to CHUNK_ROWS raw lines (newline kept), read through a buffered (or gzip) stream; the share of
    the file's bytes read so far goes to `load_progress.report`."""
    try:
        raw = open(path, "rb", buffering=1 << 20)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    size = os.fstat(raw.fileno()).st_size
    fh = gzip.GzipFile(fileobj=raw, mode="rb") if path.suffix == ".gz" else raw
    with raw, fh:
        while True:
            try:
                lines = list(islice(fh, CHUNK_ROWS))
            except (OSError, EOFError, zlib.error) as exc:
                raise _unreadable(path, exc) from exc
            if not lines:
                return
            report(raw.tell(), size, f"Reading {path.name}")
            yield lines


def _header(chunks, path: Path) -> tuple[list[str], list[bytes]]:
    """The header's columns and the data lines already read after it."""
    lines: list[bytes] = []
    for chunk in chunks:
        lines += chunk
        if any(line.strip() for line in lines):
            break
    if not any(line.strip() for line in lines):
        raise DataError("the file is empty", path=str(path), fix="expected a header 'emotion,pixels,Usage' and rows")
    header = lines[0].decode("utf-8", "replace").lstrip("\ufeff").strip()
    return [c.strip().strip('"').strip() for c in header.split(",")], lines[1:]


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


def _data_blocks(lines: list[bytes], chunks):
    """The data lines in blocks, without the file's trailing blank lines (a blank line followed by more rows is
    kept: it is reported as a bad row)."""
    blank: list[bytes] = []
    for chunk in chain([lines], chunks):
        end = len(chunk)
        while end and not chunk[end - 1].strip():
            end -= 1
        if end:
            yield blank + chunk[:end]
            blank = chunk[end:]
        else:
            blank += chunk


def _parse_rows(lines: list[bytes], first_row: int, columns: list[str], positions: tuple[int, int, int | None],
                path: Path, n_classes: int, usage_names: dict[bytes, str],
                default_usage: str) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Labels, usage and n x 2304 pixels of consecutive data lines (first_row = the first one's data row)."""
    i_emotion, i_pixels, i_usage = positions
    n_cols = len(columns)
    labels = np.empty(len(lines), dtype=np.int64)
    usage: list[str] = []
    pixel_fields: list[bytes] = []
    for i, line in enumerate(lines):
        row = first_row + i
        line = line.rstrip(b"\r\n")
        parts = line.split(b",")
        if len(parts) != n_cols and b'"' in line:  # a quoted field with a comma inside: the slow, exact reader
            parts = [f.encode() for f in next(csv.reader([line.decode("utf-8", "replace")]))]
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
        labels[i] = label
        pixel_fields.append(parts[i_pixels].strip().strip(b'"'))
        if i_usage is None:
            usage.append(default_usage)
        else:
            raw = parts[i_usage].strip().strip(b'"')
            usage.append(usage_names.get(raw) or usage_names.setdefault(raw, raw.decode()))
    return labels, usage, _parse_pixel_chunk(pixel_fields, first_row, path)


def read_fer_csv(path: Path, n_classes: int, sink, default_usage: str = "Training") -> tuple[np.ndarray, np.ndarray, str]:
    """Stream the CSV: every chunk of rows is parsed, hashed and handed to `sink.write`. Returns labels, usage and
    the data version (the same `content_hash` as over the whole arrays)."""
    h = hashlib.sha256()
    labels: list[np.ndarray] = []
    usage: list[str] = []
    usage_names: dict[bytes, str] = {}
    row = 0
    with closing(_line_chunks(path)) as chunks:
        columns, lines = _header(chunks, path)
        positions = _column_positions(columns, path)
        for block in _data_blocks(lines, chunks):
            lab, use, pixels = _parse_rows(block, row, columns, positions, path, n_classes, usage_names,
                                           default_usage)
            h.update(memoryview(pixels))  # C-contiguous uint8: the same bytes as the images, in row order
            sink.write(pixels)
            labels.append(lab)
            usage += use
            row += len(block)
    if not row:
        raise DataError("the file has a header but no rows", path=str(path))
    labels_arr, usage_arr = np.concatenate(labels), np.array(usage)
    return labels_arr, usage_arr, finish_content_hash(h, labels_arr, usage_arr)


def load_fer_csv(path: str | os.PathLike, n_classes: int = 7, use_cache: bool = True) -> ParsedCsv:
    """Load a FER2013-layout CSV; the first load of a file writes a binary cache that later loads memory-map."""
    path = Path(path)
    start = time.perf_counter()
    _check_file(path)
    paths = cache_paths(path, f"fer-csv-{n_classes}") if use_cache else None
    if paths is not None:
        cached = read_cache(*paths)
        if cached is not None:
            return ParsedCsv(*cached, time.perf_counter() - start, True)
        try:
            images, labels, usage, version = write_cache(*paths, lambda sink: read_fer_csv(path, n_classes, sink))
            return ParsedCsv(images, labels, usage, version, time.perf_counter() - start, False)
        except OSError:
            pass  # no cache is slower, not wrong: parse into memory
    sink = MemorySink()
    labels, usage, version = read_fer_csv(path, n_classes, sink)
    return ParsedCsv(sink.images(), labels, usage, version, time.perf_counter() - start, False)


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
