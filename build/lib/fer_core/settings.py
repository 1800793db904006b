"""Where things live: data sources, caches, models. Overridable by environment variables."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """Binary caches of parsed datasets (FER_CACHE_DIR, default ~/.cache/fer_studio)."""
    path = Path(os.environ.get("FER_CACHE_DIR", Path.home() / ".cache" / "fer_studio"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    return Path(os.environ.get("FER_MODELS_DIR", REPO_ROOT / "models"))


def data_dir() -> Path | None:
    """Folder holding fer2013.csv(.gz), fer2013new.csv and ckplus/ (FER_DATA_DIR), if configured and present."""
    value = os.environ.get("FER_DATA_DIR")
    if value and Path(value).is_dir():
        return Path(value)
    return None


def configured_data_path() -> str | None:
    """The dataset the app opens by default: FER_DATA (a CSV, .csv.gz or image folder), else FER_DATA_DIR's FER2013."""
    value = os.environ.get("FER_DATA")
    if value:
        return value
    folder = data_dir()
    if folder:
        for name in ("fer2013.csv", "fer2013.csv.gz"):
            if (folder / name).exists():
                return str(folder / name)
    return None
