"""One Markdown results-table row per evaluation, with what a reader needs to trust and redo it: the number
and its 95% CI, how it was scored, the training command(s), the training time and the device."""
from __future__ import annotations

import shlex
from pathlib import Path

from fer_core.runs.layout import RECORD
from fer_core.runs.run import read_json

HEADER = ("| model | scored on | n | accuracy (95% CI) | macro-F1 | params | size MB | trained on | train time | reproduce |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")


def _record(run_dir: str) -> dict:
    return read_json(Path(run_dir) / RECORD)


def evaluate_command(ev, run_dirs, data: str | None) -> str:
    parts = ["python -m fer_core evaluate", *map(shlex.quote, map(str, run_dirs))]
    if data:
        parts += ["--data", shlex.quote(str(data))]
    parts += ["--split", ev.split]
    if ev.tta != "none":
        parts += ["--tta", ev.tta]
    if ev.ground_truth != "labels":
        parts += ["--ground-truth", ev.ground_truth]
    if ev.exclude_leaks:
        parts.append("--exclude-leaks")
    return " ".join(parts)


def markdown_row(ev, run_dirs, data: str | None = None) -> str:
    records = [_record(r) for r in run_dirs]
    devices = sorted({f"{r.get('environment', {}).get('device', '?')} ({r.get('environment', {}).get('backend', '?')})"
                      for r in records})
    minutes = sum(r.get("timings_s", {}).get("total", 0) for r in records) / 60
    lo, hi = ev.ci["accuracy_ci"]
    scored = f"{ev.dataset} {ev.split}" + (f", TTA {ev.tta}" if ev.tta != "none" else "") \
        + (f", {ev.ground_truth} labels" if ev.ground_truth != "labels" else "") \
        + (f", {ev.excluded_leaks} leaked images left out" if ev.exclude_leaks else "")
    train_cmds = "; ".join(f"`{r.get('command', '?')}`" for r in records)
    return (f"| {ev.name} | {scored} | {ev.metrics['n']:,} | {ev.metrics['accuracy']:.2%} ({lo:.2%}–{hi:.2%}) | "
            f"{ev.metrics['macro_f1']:.3f} | {ev.parameters:,} | {ev.file_size_mb:.1f} | {', '.join(devices)} | "
            f"{minutes:.1f} min | train: {train_cmds}; score: `{evaluate_command(ev, run_dirs, data)}` |")
