"""Time-boxed training: a list of recipes (recipe files as in fer_core/recipes/, or bare TrainConfig JSON) trained inside a fixed time budget, resuming
cut-off runs (the CLI's `train-batch`; not to be confused with training/batches.py, the mini-batch sequence).

Made for GPU hosts that allow 10 minutes per command: each recipe runs in its own process, which is killed
at the deadline (its last checkpoint survives); calling the batch again resumes it, and recipes whose run
already finished are skipped. Runs are recognised by their run_name, so every recipe must have one.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from fer_core.errors import ConfigError
from fer_core.runs.layout import PARTIAL, run_name_of
from fer_core.runs.store import checkpoint_state, find_runs
from fer_core.settings import models_dir
from fer_core.training.config import TrainConfig
from fer_core.training.recipes import get_recipe, is_recipe_file


def run_batch(recipes: list[str], budget_s: float, out_root: Path | None = None) -> list[dict]:
    root = Path(out_root) if out_root else models_dir()
    root.mkdir(parents=True, exist_ok=True)
    deadline = time.time() + budget_s
    configs = []
    for recipe in recipes:
        cfg = get_recipe(recipe).train_config() if is_recipe_file(recipe) else TrainConfig.load(recipe)
        if not cfg.run_name:
            raise ConfigError("a batch recipe needs a run_name, so a later call can find and resume its run",
                              path=recipe, fix='add "run_name": "<a short name>" to the recipe')
        configs.append((recipe, cfg))
    report = []
    for recipe, cfg in configs:
        finished, partial = find_runs(root, cfg.run_name)
        entry = {"recipe": recipe, "run_name": cfg.run_name, "epochs": cfg.epochs}
        if finished:
            report.append({**entry, "status": "finished", "run": str(finished)})
            continue
        left = deadline - time.time()
        if left < 20:
            report.append({**entry, "status": "waiting (no time left)", "run": str(partial) if partial else None})
            continue
        if not partial:  # cut off before its first checkpoint: nothing to resume, start afresh
            for orphan in root.glob(f"*-{cfg.run_name}-????{PARTIAL}"):
                if run_name_of(orphan.name) == cfg.run_name:
                    shutil.rmtree(orphan, ignore_errors=True)
        kind = "--recipe" if is_recipe_file(recipe) else "--config"
        args = ["--resume", str(partial)] if partial else [kind, recipe, "--out", str(root)]
        started = time.time()
        proc = subprocess.Popen([sys.executable, "-m", "fer_core", "train", *args], start_new_session=True)
        try:
            code = proc.wait(timeout=left)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the last checkpoint is complete (written atomically)
            proc.wait()
            code = None
        finished, partial = find_runs(root, cfg.run_name)
        status = "finished" if finished else "cut off (resume with the same command)" if code is None else f"failed (exit {code})"
        report.append({**entry, "status": status, "seconds": round(time.time() - started, 1),
                       "run": str(finished or partial) if (finished or partial) else None,
                       **({"epochs_done": checkpoint_state(partial)["epochs_done"]} if partial and not finished else {})})
    return report
