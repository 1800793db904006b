"""Saved runs: every folder under models/ with a model file and its record."""
from __future__ import annotations

import json
import os
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


CHECKPOINT_DIR = "checkpoints"
CHECKPOINT = "last.keras"  # model + optimizer state, written every `checkpoint_every` epochs
STATE = "state.json"  # epochs done and history, written after the checkpoint it belongs to


def checkpoint_state(run_dir: Path) -> dict:
    """The state of a .partial run's last checkpoint ({} when it has none): epochs_done, history, fit_seconds."""
    run_dir = Path(run_dir)
    if not (run_dir / CHECKPOINT_DIR / CHECKPOINT).exists():
        return {}
    return _read_json(run_dir / CHECKPOINT_DIR / STATE)


def cut_off_runs(root: Path | None = None) -> list[dict]:
    """Runs that stopped before finishing (killed, crashed, machine restarted) and can be resumed from a checkpoint."""
    root = Path(root) if root else models_dir()
    out = []
    for d in sorted(root.glob("*.partial")) if root.is_dir() else []:
        if _still_training(d):
            continue
        state, config = checkpoint_state(d), _read_json(d / "config.json")
        if state.get("epochs_done") and config.get("train_config"):
            tc = config["train_config"]
            out.append({"id": d.name, "path": str(d), "architecture": tc.get("architecture"),
                        "epochs_done": state["epochs_done"], "epochs": tc.get("epochs") + (tc.get("head_epochs") or 0)})
    return out


OWNER_FILE = "owner.pid"  # the process training a .partial run writes its pid here


def _still_training(run_dir: Path) -> bool:
    try:
        pid = int((run_dir / OWNER_FILE).read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True
