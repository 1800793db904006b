"""Video jobs of the REST server: uploaded to a temporary file, analysed one at a time in a background thread,
kept in memory for GET (bounded: at most `video_jobs` waiting or running, `jobs_kept` finished)."""
from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from fer_core.errors import FerStudioError


class VideoJobs:
    def __init__(self, fer, limits):
        self.fer, self.limits = fer, limits
        self.jobs: OrderedDict[str, dict] = OrderedDict()
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fer-video")
        self.dir = tempfile.mkdtemp(prefix="fer-videos-")

    def active(self) -> int:
        with self.lock:
            return sum(j["status"] in ("queued", "running") for j in self.jobs.values())

    def submit(self, path: str, name: str, every_nth: int) -> dict:
        job = {"id": uuid.uuid4().hex, "name": name, "status": "queued", "progress": 0.0, "every_nth": every_nth,
               "created": time.time(), "error": None}
        with self.lock:
            self.jobs[job["id"]] = job
            finished = [k for k, j in self.jobs.items() if j["status"] in ("done", "failed")]
            for k in finished[:max(0, len(finished) - self.limits.jobs_kept)]:
                del self.jobs[k]
        self.pool.submit(self._run, job, path)
        return self.public(job)

    def _run(self, job: dict, path: str) -> None:
        from fer_core.inference.video import analyze_video
        job["status"] = "running"
        try:
            result = analyze_video(self.fer, path, every_nth=job["every_nth"], max_seconds=self.limits.video_seconds,
                                   progress=lambda f: job.__setitem__("progress", round(f, 3)), name=job["name"])
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
            try:
                os.unlink(path)
            except OSError:
                pass

    def get(self, job_id: str) -> dict | None:
        with self.lock:
            job = self.jobs.get(job_id)
        return self.public(job, rows=True) if job else None

    @staticmethod
    def public(job: dict, rows: bool = False) -> dict:
        keys = ("id", "name", "status", "progress", "error", "seconds_analysed", "seconds_total", "cut", "ended_early",
                "frames")
        out = {k: job.get(k) for k in keys if k in job}
        if rows and job["status"] == "done":
            out["rows"] = job["rows"]
        return out

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)
