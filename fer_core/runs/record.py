"""A run's record (run.json) as a type, and the one way a run folder is finished.

Training, resumed training, logit adjustment, sweeps (trial annotations and pruning), distillation and the GPU
batches all finish a run through `finalize_run`: every file is written inside `<run-id>.partial`, then one rename
makes the run appear whole. Readers get the same type from `Run.record`.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from fer_core.atomic import write_text
from fer_core.errors import RunError
from fer_core.runs import layout

STATUSES = ("completed", "cancelled", "pruned")


@dataclass
class RunRecord:
    """What run.json holds. Keys this version does not know (written by a newer one) survive in `extra`."""
    run_id: str
    status: str | None = None            # completed | cancelled (stopped by the user) | pruned (by a sweep)
    command: str = ""                    # the command that reproduces the run
    data_version: str | None = None
    dataset: str | None = None
    train_images: int | None = None
    pretrained: bool | None = None
    parameters: int | None = None
    epochs_run: int | None = None
    epochs_planned: int | None = None
    timings_s: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    argv: list = field(default_factory=list)
    finished: str | None = None          # ISO time the run folder got its final name
    label: str | None = None             # a display name the user gave
    adjusted_from: str | None = None     # logit adjustment: the run it was made from
    logit_adjustment: dict | None = None
    sweep: dict | None = None            # {"study", "trial", "values"} for a sweep's trial
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> "RunRecord":
        known = {f.name for f in fields(cls)} - {"extra"}
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("run_id", "")
        return cls(**values, extra={k: v for k, v in data.items() if k not in known})

    def to_dict(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k != "extra" and v is not None}
        return {**out, **self.extra}


def write_history(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        if rows:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def finalize_run(partial: Path, record: RunRecord, *, metrics: dict, model=None, history: list[dict] | None = None,
                 config: dict | None = None, copy_from: Path | None = None) -> Path:
    """Write a run's files into `partial` (`<run-id>.partial`) and rename it to `<run-id>`; returns the final
    folder. `model` (a Keras model) is saved for inference; `config` and `history` are written when given, else
    copied from `copy_from` (a run this one derives from) when it has them. Checkpoints and the owner file go;
    nothing is visible under the final name before everything is written."""
    partial = Path(partial)
    if partial.suffix != layout.PARTIAL or not partial.is_dir():
        raise RunError("a run is finished from its .partial folder", path=str(partial))
    if record.status not in STATUSES:
        raise RunError(f"unknown run status {record.status!r}", path=str(partial), fix=f"use one of {STATUSES}")
    final = partial.with_name(partial.name.removesuffix(layout.PARTIAL))
    if final.exists():
        raise RunError("a run of this name exists already", path=str(final), fix="delete it first, or rename one")
    record.run_id = final.name
    record.finished = dt.datetime.now().isoformat(timespec="seconds")
    record.argv = list(sys.argv)
    if model is not None:
        from fer_core.training.environment import save_inference_model
        save_inference_model(model, partial / layout.MODEL)
    write_text(partial / layout.METRICS, json.dumps(metrics, indent=2))
    if config is not None:
        write_text(partial / layout.CONFIG, json.dumps(config, indent=2))
    elif copy_from is not None and (copy_from / layout.CONFIG).exists():
        shutil.copy2(copy_from / layout.CONFIG, partial / layout.CONFIG)
    if history is not None:
        write_history(partial / layout.HISTORY, history)
    elif copy_from is not None and (copy_from / layout.HISTORY).exists():
        shutil.copy2(copy_from / layout.HISTORY, partial / layout.HISTORY)
    write_text(partial / layout.RECORD, json.dumps(record.to_dict(), indent=2))
    shutil.rmtree(partial / layout.CHECKPOINT_DIR, ignore_errors=True)
    (partial / layout.OWNER).unlink(missing_ok=True)
    os.replace(partial, final)
    return final
