"""The old name of fer_core.training.time_boxed, kept only for fer_core/cli.py's `train-batch` import: once that
imports fer_core.training.time_boxed, delete this file."""
from fer_core.training.time_boxed import run_batch  # noqa: F401
