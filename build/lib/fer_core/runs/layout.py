"""The run folder layout, named once: every module that reads or writes a run uses these names.

models/<run-id>/            a finished (or cancelled) run
models/<run-id>.partial/    a run being trained, or one cut off before it finished
"""
from __future__ import annotations

import datetime as dt
import uuid

MODEL = "model.keras"  # weights + architecture, no optimizer; loads with safe_mode=True
CONFIG = "config.json"  # {"train_config": TrainConfig, "architecture", "class_names", "data_version"}
HISTORY = "history.csv"  # one row per epoch
METRICS = "metrics.json"  # validation and test metrics
RECORD = "run.json"  # status, data version, reproduce command, timings, environment, notes
CARD = "card.json"  # optional: the model card's measured figures (bench/model_card.py writes it)
PARTIAL = ".partial"  # suffix of a run folder while it trains
OWNER = "owner.pid"  # the process training a .partial run writes its pid here
CHECKPOINT_DIR = "checkpoints"
CHECKPOINT = "last.keras"  # model + optimizer state, written every `checkpoint_every` epochs
STATE = "state.json"  # epochs done and history, written after the checkpoint it belongs to
DEFAULT_POINTER = "default_run.txt"  # models/default_run.txt names the shipped default run

RUN_STAMP = "%Y%m%d-%H%M%S"  # run ids: <stamp>-<run name>-<4 hex>


def new_run_id(run_name: str) -> str:
    stamp = dt.datetime.now().strftime(RUN_STAMP)
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in run_name)[:40]
    return f"{stamp}-{safe}-{uuid.uuid4().hex[:4]}"


def run_name_of(run_id: str) -> str:
    """The run name inside a run id (the reverse of new_run_id), with or without the .partial suffix."""
    return run_id.removesuffix(PARTIAL)[len("YYYYmmdd-HHMMSS-"):-5]
