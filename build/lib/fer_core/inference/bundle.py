"""Where the packaged default model lives, and the small files around exported models: the metadata .json beside
an export, and the sha256 that ties a shipped model.onnx to the model.keras it was made from."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fer_core.errors import RunError

BUNDLED = Path(__file__).resolve().parent.parent / "bundled" / "default"  # package data: the default run


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sidecar_path(path: str | Path) -> Path:
    return Path(str(path) + ".json")


def read_sidecar(path: str | Path, required: bool = True) -> dict:
    """The metadata written beside an exported file (class names, input, the run it came from)."""
    side = sidecar_path(path)
    try:
        meta = json.loads(side.read_text())
        if isinstance(meta, dict) and isinstance(meta.get("class_names"), list) and meta["class_names"]:
            return meta
    except (OSError, ValueError):
        pass
    if required:
        raise RunError(f"{side.name} (the class names) is missing or unreadable", path=str(path),
                       fix="keep the .json written by `python -m fer_core export` beside the model file")
    return {}
