"""Video jobs of the REST server. The upload is saved to a temporary file and analysed in a background thread of
the process that took it; the job's state is a JSON file in a folder all server processes share, so GET
/v1/videos/{id} answers from any of them. Bounded: at most `video_jobs` waiting or running, `jobs_kept` finished."""
from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fer_core.atomic import write_text
from fer_core.errors import FerStudioError

PUBLIC = ("id", "name", "status", "progress", "error", "seconds_analysed", "seconds_total", "cut", "ended_early", "frames")


class VideoJobs:
    def __init__(self, fer, limits, folder: str | None = None):
        self.fer, self.limits = fer, limits
        self.owned = folder is None  # a folder made here is removed at shutdown; a shared one is the parent's
        self.dir = Path(folder or tempfile.mkdtemp(prefix="fer-videos-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.uploads = self.dir / "uploads"
        self.uploads.mkdir(exist_ok=True)
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fer-video")
        self.lock = threading.Lock()

    def _file(self, job_id: str) -> Path:
        return self.dir / f"{job_id}.json"

    def _write(self, job: dict) -> None:
        write_text(self._file(job["id"]), json.dumps(job, default=float))

    def _all(self) -> list[dict]:
        jobs = []
        for p in self.dir.glob("*.json"):
            try:
                jobs.append(json.loads(p.read_text()))
            except (OSError, ValueError):
                continue  # being replaced right now
        return jobs

    def active(self) -> int:
        return sum(j.get("status") in ("queued", "running") for j in self._all())

    def submit(self, path: str, name: str, every_nth: int) -> dict:
        job = {"id": uuid.uuid4().hex, "name": name, "status": "queued", "progress": 0.0, "every_nth": every_nth,
               "created": time.time(), "error": None}
        self._write(job)
        finished = sorted((j for j in self._all() if j.get("status") in ("done", "failed")), key=lambda j: j["created"])
        for old in finished[:max(0, len(finished) - self.limits.jobs_kept)]:
            self._file(old["id"]).unlink(missing_ok=True)
        self.pool.submit(self._run, job, path)
        return self.public(job)

    def _run(self, job: dict, path: str) -> None:
        from fer_core.inference.video import analyze_video
        job["status"] = "running"
        self._write(job)
        last = [0.0]

        def progress(f):
            job["progress"] = round(f, 3)
            if time.monotonic() - last[0] > 0.5:  # the file is rewritten at most twice a second
                last[0] = time.monotonic()
                self._write(job)
        try:
            result = analyze_video(self.fer, path, every_nth=job["every_nth"], max_seconds=self.limits.video_seconds,
                                   progress=progress, name=job["name"])
            job.update(rows=result.table.to_dict("records"), seconds_analysed=round(result.seconds_analysed, 3),
                       seconds_total=result.seconds_total and round(result.seconds_total, 3), cut=result.cut,
                       ended_early=result.ended_early, frames=result.frames, progress=1.0, status="done")
        except FerStudioError as exc:
            job.update(status="failed", error={"kind": exc.kind, "message": exc.message})
        except Exception as exc:  # noqa: BLE001 - the job fails, the server lives; no traceback to the client
            import logging
            logging.getLogger("fer_core.server").exception("video job %s failed", job["id"])
            job.update(status="failed", error={"kind": "internal", "message": f"the video could not be analysed "
                                               f"({type(exc).__name__}); the server log has the details"})
        finally:
            job["finished"] = time.time()
            self._write(job)
            Path(path).unlink(missing_ok=True)

    def get(self, job_id: str) -> dict | None:
        if not job_id.isalnum() or len(job_id) != 32:  # ids are uuid4 hex: nothing else names a file here
            return None
        try:
            job = json.loads(self._file(job_id).read_text())
        except (OSError, ValueError):
            return None
        return self.public(job, rows=True)

    @staticmethod
    def public(job: dict, rows: bool = False) -> dict:
        out = {k: job.get(k) for k in PUBLIC if k in job}
        if rows and job["status"] == "done":
            out["rows"] = job["rows"]
        return out

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.owned:
            shutil.rmtree(self.dir, ignore_errors=True)
