"""Paths typed in the UI: only inside the configured roots, only regular files or folders, only up to a size cap.

The roots are FER_DATA_ROOTS (folders separated by os.pathsep) when set; otherwise the data folder
(FER_DATA_DIR, and FER_DATA's folder), the models folder and the Relabel projects folder (exports included).
Roots are checked before anything else, so a refused path never reveals whether it exists, and no message
ever quotes a file's contents. `regular_path` is the same file check without roots, for the CLI and load_dataset.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from fer_core.errors import DataError

# FER2013 is 0.3 GB uncompressed, ten times FER2013 2.8 GB. The CSV reader streams (its memory follows the pixels,
# not the file), so the cap bounds how long one read may take: far beyond it is a mistake or an attack.
DEFAULT_READ_CAP = 8 * 1024**3


def user_roots() -> list[Path]:
    from fer_core.relabel.project import projects_dir
    from fer_core.settings import data_dir, models_dir
    value = os.environ.get("FER_DATA_ROOTS")
    if value:
        roots = [Path(p) for p in value.split(os.pathsep) if p.strip()]
    else:
        roots = [d for d in (data_dir(), models_dir(), projects_dir()) if d is not None]
        if os.environ.get("FER_DATA"):
            roots.append(Path(os.environ["FER_DATA"]).expanduser().parent)
    return [r.expanduser().resolve() for r in roots]


def read_cap() -> int:
    try:
        return int(os.environ.get("FER_MAX_READ_BYTES", DEFAULT_READ_CAP))
    except ValueError:
        return DEFAULT_READ_CAP


def _inside_roots(text: str) -> Path:
    text = (text or "").strip()
    if not text:
        raise DataError("no path given", fix="type the path of a file or folder")
    if "\x00" in text:
        raise DataError("the path contains a NUL character", path=repr(text))
    roots = user_roots()
    candidate = Path(text).expanduser()
    if not candidate.is_absolute():
        candidate = (roots[0] if roots else Path.cwd()) / candidate
    resolved = candidate.resolve()  # follows symlinks and '..', so neither can lead outside
    if not any(resolved == r or resolved.is_relative_to(r) for r in roots):
        listed = ", ".join(str(r) for r in roots) or "(none configured)"
        raise DataError("this path is outside the folders the app may use", path=text,
                        fix=f"put the data under one of: {listed}; or set FER_DATA_ROOTS when starting the app")
    return resolved


def _size(n: float) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


def regular_path(path: str | os.PathLike, name: str | None = None, missing_ok: bool = False) -> Path:
    """`path` if it is a folder or a regular file up to read_cap(); no roots (the CLI's operator may read anywhere).

    Judged from os.stat alone: opening a FIFO blocks and /dev/zero never ends. A missing path raises
    FileNotFoundError so each caller keeps its own message (or, with `missing_ok`, comes back as it is for the
    reader to report); `name` is what messages call the path.
    """
    path = Path(path)
    name = name or str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if missing_ok:
            return path
        raise
    except OSError as exc:
        raise DataError(f"cannot open ({exc.strerror})", path=name) from None
    except ValueError:  # an embedded NUL
        raise DataError("the path contains a NUL character", path=repr(name)) from None
    if stat.S_ISDIR(st.st_mode):
        return path
    if not stat.S_ISREG(st.st_mode):
        raise DataError("not a regular file or folder", path=name,
                        fix="name a file or folder; pipes, devices and sockets are never read")
    if st.st_size > read_cap():
        raise DataError(f"the file is {_size(st.st_size)}; the limit is {_size(read_cap())}", path=name,
                        fix="use a smaller file, or raise FER_MAX_READ_BYTES where the app or command starts")
    return path


def readable_path(text: str) -> Path:
    """An existing regular file (up to the size cap) or folder inside the roots."""
    path = _inside_roots(text)
    try:
        return regular_path(path, name=text)
    except FileNotFoundError:
        raise DataError("file not found", path=text, fix="check the spelling; paths are on the server") from None


def writable_folder(text: str) -> Path:
    """A folder inside the roots to write into (it may not exist yet; it must not be a file)."""
    path = _inside_roots(text)
    if path.exists() and not path.is_dir():
        raise DataError("this is a file, not a folder", path=text, fix="choose a folder to export into")
    return path
