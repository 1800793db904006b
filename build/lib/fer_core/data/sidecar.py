"""Sidecar metadata next to an exported CSV (<file>.meta.json): its label scheme, class names and row ids."""
from __future__ import annotations

import json
from pathlib import Path

from fer_core.errors import DataError

SIDECAR_SUFFIX = ".meta.json"


def sidecar_path(csv_path: Path) -> Path:
    return Path(str(csv_path) + SIDECAR_SUFFIX)


def read_sidecar(csv_path: Path) -> dict | None:
    side = sidecar_path(csv_path)
    if not side.exists():
        return None
    try:
        return json.loads(side.read_text())
    except ValueError as exc:
        raise DataError(f"unreadable sidecar ({exc})", path=str(side), fix="restore or delete the .meta.json file") from exc
