"""The datasets the app can offer without the user typing a path."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fer_core.data.loading import DEMO
from fer_core.settings import configured_data_path, data_dir


@dataclass(frozen=True)
class Source:
    label: str
    path: str


def available_sources() -> list[Source]:
    """Configured FER2013 first (when set), CK+48 and any RAF-DB / AffectNet / JAFFE / ExpW folder found in
    FER_DATA_DIR, and the built-in demo always."""
    out = []
    configured = configured_data_path()
    if configured:
        out.append(Source(f"FER2013 — {configured}", configured))
    folder = data_dir()
    if folder and (folder / "ckplus" / "ckplus.csv.gz").exists():
        ck = str(folder / "ckplus" / "ckplus.csv.gz")
        out.append(Source(f"CK+48 — {ck}", ck))
    if folder:
        out += _distributed_layouts(folder)
    out.append(Source("Demo faces (synthetic, built in)", DEMO))
    return out


def _distributed_layouts(folder: Path) -> list[Source]:
    """Subfolders of the data folder holding a dataset as its authors distribute it (e.g. FER_DATA_DIR/rafdb/)."""
    from fer_core.data.layouts import READERS, find_layout
    found = []
    try:
        subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    for sub in subdirs:
        layout = find_layout(sub)
        if layout:
            found.append(Source(f"{READERS[layout].NAME} — {sub}", str(sub)))
    return found


def default_source() -> Source:
    return available_sources()[0]


def describe_missing_data() -> str | None:
    """A hint shown when only the demo is available."""
    if configured_data_path():
        return None
    return ("No FER2013 configured: showing the built-in synthetic demo. Set FER_DATA=/path/to/fer2013.csv.gz "
            "(or FER_DATA_DIR=folder with fer2013.csv.gz, fer2013new.csv, ckplus/, and RAF-DB, AffectNet, JAFFE or "
            "ExpW folders as distributed) and restart, "
            "or type a path in the sidebar.")


def exists(path: str) -> bool:
    return path == DEMO or Path(path).expanduser().exists()
