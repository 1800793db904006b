"""Background training jobs: one process per job, state persisted on disk, a simple FIFO queue.

Layout: <models>/.jobs/<job-id>/ holds config.json, job.json (state, written by whoever owns the job at
that moment), log.txt, and a `cancel` marker. Only one job runs at a time; when it ends, the worker
claims the next queued job and exec()s into it (same PID, so the app's reaper thread still waits on it
and no zombie is left). A job whose process is gone while marked running is reported as failed, and the
next queued job starts on the next look at the queue (the Train page polls it; so does `jobs`).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from fer_core.atomic import write_text
from fer_core.errors import StoreError
from fer_core.settings import REPO_ROOT, models_dir
from fer_core.training.config import TrainConfig

ACTIVE = ("starting", "running")
FINAL = ("completed", "failed", "cancelled")
LOG_TAIL_LINES = 30
JOB_ID = re.compile(r"job-\d{8}-\d{6}-[0-9a-f]{6}")


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def _pid_alive(pid: int | None, job_id: str) -> bool:
    """True when `pid` is a live (non-zombie) process that is running this job."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X") and job_id in cmdline


def _unwritable(what: str, path: Path, exc: OSError) -> StoreError:
    return StoreError(f"cannot write {what} ({exc.strerror or type(exc).__name__})", path=str(path),
                      fix="check that the models folder (FER_MODELS_DIR) is writable and its disk is not full")


class JobStore:
    def __init__(self, root: Path | None = None, models_root: Path | None = None):
        self.models_root = Path(models_root) if models_root else models_dir()
        self.root = Path(root) if root else self.models_root / ".jobs"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _unwritable("the jobs folder", self.root, exc) from exc

    # ---- state files ----
    def job_dir(self, job_id: str) -> Path:
        if not JOB_ID.fullmatch(str(job_id)):  # ids are ours; never a path (no '..', no '/')
            raise StoreError(f"'{job_id}' is not a job id", fix="job ids look like job-YYYYmmdd-HHMMSS-xxxxxx")
        return self.root / job_id

    def existing_job_dir(self, job_id: str) -> Path:
        d = self.job_dir(job_id)
        if not (d / "job.json").exists():
            raise StoreError(f"no job '{job_id}'", fix="list the jobs with `python -m fer_core jobs`")
        return d

    def read(self, job_id: str) -> dict:
        try:
            job = json.loads((self.job_dir(job_id) / "job.json").read_text())
        except (OSError, ValueError):
            job = None
        if not isinstance(job, dict):
            return {"id": job_id, "status": "failed", "error": "job state unreadable"}
        return job

    def write(self, job: dict) -> None:
        path = self.job_dir(job.get("id", "")) / "job.json"
        try:
            write_text(path, json.dumps(job, indent=2))
        except OSError as exc:
            raise _unwritable("the job's state", path, exc) from exc

    def _new_job(self, config_text: str) -> str:
        """A fresh job id with its folder and config.json."""
        job_id = f"job-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        d = self.job_dir(job_id)
        try:
            d.mkdir(parents=True)
            write_text(d / "config.json", config_text)
        except OSError as exc:
            raise _unwritable("a new job", d, exc) from exc
        return job_id

    def update(self, job_id: str, **changes) -> dict:
        job = {**self.read(job_id), **changes, "id": job_id}
        self.write(job)
        return job

    def log_tail(self, job_id: str, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = (self.job_dir(job_id) / "log.txt").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    @contextmanager
    def _lock(self):
        with open(self.root / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # ---- public API ----
    def list(self) -> list[dict]:
        """All jobs, newest first. Also the queue's heartbeat: a job whose process died is marked failed and the
        next queued one starts, so nothing stays queued after a kill -9 or an app restart."""
        self.dispatch()
        jobs = [self.read(p.name) for p in self.root.iterdir() if p.is_dir() and JOB_ID.fullmatch(p.name)]
        return sorted(jobs, key=lambda j: j.get("created", ""), reverse=True)

    def submit(self, cfg: TrainConfig, start: bool = True, oof_folds: int | None = None,
               resume: str | None = None, adjust: dict | None = None) -> str:
        """Queue a training job (or, with oof_folds, an out-of-fold probability job for the Relabel ranking;
        with resume, continue the cut-off run in that .partial folder). `adjust` ({"criterion", "min_recall"}, a
        recipe's) runs logit adjustment on the finished run, in the same job."""
        cfg = cfg.resolved()
        job_id = self._new_job(cfg.to_json())
        self.write({"id": job_id, "status": "queued", "created": _now(), "architecture": cfg.architecture,
                    "data": cfg.data, "epochs": cfg.epochs, "progress": 0.0, "history": [],
                    "kind": "oof" if oof_folds else "resume" if resume else "train", "folds": oof_folds,
                    "resume": str(resume) if resume else None, "adjust": adjust})
        if start:
            self.dispatch()
        return job_id

    def submit_sweep(self, spec, start: bool = True) -> str:
        """Queue a sweep (fer_core.sweeps.spec.SweepSpec): its trials run one after another in the job's process."""
        job_id = self._new_job(json.dumps(spec.to_dict(), indent=2))
        arch = spec.base.get("architecture", "sweep")
        self.write({"id": job_id, "status": "queued", "created": _now(), "architecture": f"{arch} (sweep)",
                    "data": spec.base.get("data", "demo"), "epochs": spec.trials, "progress": 0.0, "history": [],
                    "kind": "sweep", "study": spec.study})
        if start:
            self.dispatch()
        return job_id

    def cancel(self, job_id: str) -> dict:
        with self._lock():
            marker = self.existing_job_dir(job_id) / "cancel"
            try:
                marker.touch()
            except OSError as exc:
                raise _unwritable("the job's cancel marker", marker, exc) from exc
            job = self.read(job_id)
            if job.get("status") == "queued":
                return self.update(job_id, status="cancelled", finished=_now())
            if job.get("status") in ACTIVE and _pid_alive(job.get("pid"), job_id):
                try:
                    os.kill(job["pid"], signal.SIGTERM)  # the worker stops after the current batch and saves
                except ProcessLookupError:  # it ended in between: the next look at the queue records how
                    return self.read(job_id)
                except PermissionError as exc:
                    raise StoreError(f"job {job_id}'s process {job['pid']} may not be stopped by this user",
                                     fix="cancel it as the user that started the app or the CLI") from exc
                return self.update(job_id, cancel_requested=_now())
            return job

    def reconcile(self) -> None:
        """Mark jobs whose process died as failed (with the log tail)."""
        with self._lock():
            for p in self.root.iterdir():
                if not p.is_dir() or not JOB_ID.fullmatch(p.name):
                    continue
                job = self.read(p.name)
                if job.get("status") in ACTIVE and not _pid_alive(job.get("pid"), p.name):
                    # give a just-spawned process a moment to record its pid
                    if job.get("status") == "starting" and time.time() - job.get("spawned_at", 0) < 30:
                        continue
                    self.update(p.name, status="failed", finished=_now(),
                                error="the training process ended unexpectedly", log_tail=self.log_tail(p.name))

    def dispatch(self) -> str | None:
        """Start the oldest queued job if none is running. Returns its id."""
        self.reconcile()
        with self._lock():
            job_id = self._claim_next()
            if job_id is None:
                return None
            try:
                proc = subprocess.Popen(self.worker_command(job_id), cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            except OSError as exc:
                why = f"the training process could not start ({exc.strerror or type(exc).__name__})"
                self.update(job_id, status="failed", finished=_now(), error=why)
                raise StoreError(f"job {job_id}: {why}", fix=f"check that {sys.executable} runs") from exc
            self.update(job_id, pid=proc.pid)
        threading.Thread(target=proc.wait, daemon=True).start()  # reap it when it ends: no zombies
        return job_id

    def _claim_next(self) -> str | None:
        jobs = [self.read(p.name) for p in self.root.iterdir() if p.is_dir() and JOB_ID.fullmatch(p.name)]
        if any(j.get("status") in ACTIVE for j in jobs):
            return None
        queued = sorted((j for j in jobs if j.get("status") == "queued" and j.get("id")), key=lambda j: j.get("created", ""))
        if not queued:
            return None
        job_id = queued[0]["id"]
        self.update(job_id, status="starting", spawned_at=time.time())
        return job_id

    def claim_next_for_exec(self) -> str | None:
        """Called by a finishing worker: claim the next queued job to exec into."""
        with self._lock():
            return self._claim_next()

    def worker_command(self, job_id: str) -> list[str]:
        d = self.job_dir(job_id)
        cmd = [sys.executable, "-m", "fer_core", "train", "--config", str(d / "config.json"), "--job-dir", str(d),
               "--out", str(self.models_root)]
        job = self.read(job_id)
        if job.get("resume"):
            cmd += ["--resume", job["resume"]]
        if job.get("kind") == "sweep":
            cmd += ["--sweep"]
        return cmd + (["--oof-folds", str(job["folds"])] if job.get("folds") else [])

    def wait(self, job_id: str, timeout: float = 600, poll: float = 0.5) -> dict:
        """The job's state once it has ended; StoreError when it is still queued or running after `timeout` s."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.reconcile()
            job = self.read(job_id)
            if job.get("status") in FINAL:
                return job
            time.sleep(poll)
        raise StoreError(f"job {job_id} still {self.read(job_id).get('status')} after {timeout} s",
                         fix="wait longer, or follow it with `python -m fer_core jobs` (its log is in its job folder)")


def eta_seconds(job: dict, now: float | None = None) -> float | None:
    """Seconds left. From two finished epochs on, the median epoch time after the first (which carries the
    compile and warm-up, and made the first ETA several times too long); before that, elapsed / progress."""
    now = time.time() if now is None else now
    ends, epochs = job.get("epoch_ends") or [], job.get("epochs") or 0
    if len(ends) >= 2 and epochs:
        per_epoch = float(sorted(b - a for a, b in zip(ends, ends[1:]))[(len(ends) - 2) // 2])
        return max((epochs - len(ends)) * per_epoch - (now - ends[-1]), 0.0)
    started, progress = job.get("started_at"), job.get("progress", 0.0)
    if not started or not progress or progress <= 0:
        return None
    elapsed = now - started
    return max(elapsed / progress - elapsed, 0.0)


def job_rows(jobs: list[dict]) -> list[dict]:
    """Table rows for the jobs list (page and CLI)."""
    return [{"job": j.get("id"), "status": j.get("status"), "architecture": j.get("architecture"),
             "epoch": f"{j.get('epoch', 0)}/{j.get('epochs', '?')}", "progress": round(100 * j.get("progress", 0.0)),
             "val acc": (j.get("history") or [{}])[-1].get("val_accuracy"), "created": j.get("created"),
             "run": j.get("run_id", "") or j.get("oof_file", ""), "kind": j.get("kind", "train")} for j in jobs]
