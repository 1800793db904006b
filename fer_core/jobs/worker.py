"""The job process: `python -m fer_core train --config C --job-dir D` runs one job and records progress."""
from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from pathlib import Path

from fer_core.jobs.store import JobStore, _now
from fer_core.training.config import TrainConfig
from fer_core.training.progress import Progress

WRITE_EVERY_S = 1.0  # batch progress is written at most this often
EPOCH_LOG_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")
TRACEBACK = "traceback.txt"  # kept beside the job for whoever runs the server; never shown in the app


class JobProgress(Progress):
    def __init__(self, store: JobStore, job_id: str):
        self.store, self.job_id = store, job_id
        self.epochs = self.steps = 1
        self.history: list[dict] = []
        self.epoch_ends: list[float] = []
        self.last_write = 0.0
        self.started = time.time()
        self.stop = False

    def _cancel_file(self) -> Path:
        return self.store.job_dir(self.job_id) / "cancel"

    def start(self, epochs, steps):
        self.epochs, self.steps = epochs, max(steps, 1)
        self.started = time.time()
        print(f"training: {epochs} epochs x {self.steps} steps", flush=True)
        self.store.update(self.job_id, status="running", epochs=epochs, steps=self.steps, started_at=time.time(),
                          started=_now(), pid=os.getpid())

    def batch(self, epoch, step):
        now = time.time()
        if now - self.last_write >= WRITE_EVERY_S:
            self.last_write = now
            self.store.update(self.job_id, epoch=epoch + 1, step=step,
                              progress=(epoch + step / self.steps) / self.epochs)

    def epoch(self, epoch, logs):
        self.history.append({"epoch": epoch + 1, **logs})
        self.epoch_ends.append(time.time())
        took = self.epoch_ends[-1] - (self.epoch_ends[-2] if len(self.epoch_ends) > 1 else self.started)
        shown = " · ".join(f"{k} {logs[k]:.4g}" if k == "learning_rate" else f"{k} {logs[k]:.4f}"
                           for k in EPOCH_LOG_KEYS if logs.get(k) is not None)
        print(f"epoch {epoch + 1}/{self.epochs}: {shown} · {took:.1f} s", flush=True)  # the log's one line per epoch
        self.store.update(self.job_id, epoch=epoch + 1, step=self.steps, progress=(epoch + 1) / self.epochs,
                          history=self.history, epoch_ends=self.epoch_ends)

    def message(self, text):
        print(text, flush=True)

    def cancelled(self):
        return self.stop or self._cancel_file().exists()


def _run_sweep(config_path: str, store: JobStore, job_id: str, progress: JobProgress) -> None:
    """All of a sweep's trials in this process; the job's progress counts finished trials."""
    from fer_core.sweeps import study as sweeps
    from fer_core.sweeps.spec import SweepSpec
    spec = SweepSpec.load(config_path)
    study = sweeps.create(spec, sweeps.default_storage(spec.study, store.models_root))
    store.update(job_id, status="running", epochs=spec.trials, started_at=time.time())

    def on_trial(_study, trial):
        done = len(_study.get_trials(deepcopy=False)) - sum(t.state.name == "RUNNING"
                                                            for t in _study.get_trials(deepcopy=False))
        progress.history.append({"epoch": trial.number + 1, "val_accuracy": trial.value})
        store.update(job_id, epoch=done, progress=min(done / spec.trials, 1.0), history=progress.history)

    sweeps.work(study, spec, out_root=store.models_root, cancel_file=progress._cancel_file(), on_trial=on_trial)
    store.update(job_id, status="cancelled" if progress.cancelled() else "completed", finished=_now(),
                 sweep=sweeps.summary(study)["counts"])


def failure_text(exc: BaseException) -> str:
    """One line a user can act on: FER Studio's own errors carry what is wrong and how to fix it."""
    from fer_core.errors import FerStudioError
    if isinstance(exc, FerStudioError):
        return exc.message
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500] + f" (details: {TRACEBACK} in the job folder)"


def run_job(config_path: str, job_dir: str, out: str | None, oof_folds: int | None = None,
            resume: str | None = None, sweep: bool = False) -> int:
    job_dir = Path(job_dir)
    store = JobStore(root=job_dir.parent, models_root=Path(out) if out else None)
    job_id = job_dir.name
    # this process owns its own log (also after exec from a previous job)
    log = os.open(job_dir / "log.txt", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)
    progress = JobProgress(store, job_id)
    signal.signal(signal.SIGTERM, lambda *_: setattr(progress, "stop", True))
    store.update(job_id, status="running", pid=os.getpid(), started=_now(), started_at=time.time())
    from fer_core.training.lifecycle import resume as resume_run
    from fer_core.training.lifecycle import train
    try:
        if sweep:
            _run_sweep(config_path, store, job_id, progress)
        elif oof_folds:
            from fer_core.relabel.oof import out_of_fold
            result = out_of_fold(TrainConfig.load(config_path), oof_folds, progress=progress, out_root=store.models_root)
            store.update(job_id, status="completed", finished=_now(), oof_file=str(result))
        else:
            run_dir = (resume_run(resume, progress=progress) if resume else
                       train(TrainConfig.load(config_path), progress=progress, out_root=store.models_root))
            status = "cancelled" if progress.cancelled() else "completed"
            from fer_core.training.recipes import then_adjust  # a recipe's adjustment: the adjusted run is the result
            run_dir = then_adjust(run_dir, (store.read(job_id) or {}).get("adjust"), progress)
            store.update(job_id, status=status, finished=_now(), run_dir=str(run_dir), run_id=run_dir.name)
        code = 0
    except BaseException as exc:  # noqa: BLE001 - any failure must reach the job record
        # the log (shown on the Train page) gets one line; the traceback stays on the server for debugging
        (job_dir / TRACEBACK).write_text(traceback.format_exc())
        error = failure_text(exc)
        status = "cancelled" if progress.cancelled() else "failed"
        print(f"{status}: {error}", flush=True)
        store.update(job_id, status=status, finished=_now(), error=error, log_tail=store.log_tail(job_id))
        code = 1
    next_job = store.claim_next_for_exec()
    if next_job:
        cmd = store.worker_command(next_job)
        os.execv(cmd[0], cmd)
    return code
