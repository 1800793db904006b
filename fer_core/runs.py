"""Saved runs: every folder under models/ with a model file and its record."""
from __future__ import annotations

import json
from pathlib import Path

from .settings import models_dir


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def list_runs(root: Path | None = None) -> list[dict]:
    """One dict per run folder: id, path, model present, config and metrics (empty when missing or unreadable)."""
    root = Path(root) if root else models_dir()
    if not root.is_dir():
        return []
    runs = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        model = d / "model.keras"
        if not model.exists():
            continue
        runs.append({"id": d.name, "path": str(d), "model": str(model), "config": _read_json(d / "config.json"),
                     "metrics": _read_json(d / "metrics.json"), "record": _read_json(d / "run.json")})
    return runs


DEFAULT_POINTER = "default_run.txt"  # models/default_run.txt names the shipped default run


def default_run(root: Path | None = None) -> dict | None:
    """The run named in models/default_run.txt, else the newest run, else None."""
    root = Path(root) if root else models_dir()
    runs = list_runs(root)
    pointer = root / DEFAULT_POINTER
    if pointer.exists():
        wanted = pointer.read_text().strip()
        for r in runs:
            if r["id"] == wanted:
                return r
    return runs[-1] if runs else None
