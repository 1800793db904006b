"""Work a page starts and must not wait for (a model's pass over a dataset, a learning round): one worker thread,
one Future per key however often a rerun asks, a failed one retried on the next ask."""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fer-background")
_jobs: dict[str, Future] = {}
_lock = threading.Lock()


def submit(key: str, fn, *args, **kwargs) -> Future:
    """The Future of `fn(*args)` under `key`: started now unless one is queued, running or done without error."""
    with _lock:
        job = _jobs.get(key)
        if job is None or (job.done() and job.exception() is not None):
            job = _jobs[key] = _pool.submit(fn, *args, **kwargs)
        return job


def get(key: str) -> Future | None:
    with _lock:
        return _jobs.get(key)


def forget(key: str) -> None:
    """Let the next submit under `key` start anew (a learning round is asked for again and again)."""
    with _lock:
        _jobs.pop(key, None)
