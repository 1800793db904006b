"""How many Live streams this server is processing, and a cap on them (FER_LIVE_MAX_STREAMS, default 3).

A stream counts as active while it had a frame in the last `WINDOW` seconds, so a tab that closed without saying
so stops counting by itself. A stream already running keeps its place; a new one over the cap gets its frames
back with a notice instead of being processed, and the page says why.
"""
from __future__ import annotations

import os
import threading
import time

WINDOW = 2.0  # seconds without a frame after which a stream no longer counts
DEFAULT_MAX_STREAMS = 3  # 2 cores: three 30 fps streams already share them (bench/results/live_browser*.json)


def max_streams() -> int:
    try:
        return max(1, int(os.environ.get("FER_LIVE_MAX_STREAMS", DEFAULT_MAX_STREAMS)))
    except ValueError:
        return DEFAULT_MAX_STREAMS


class Streams:
    def __init__(self):
        self.lock = threading.Lock()
        self.last_frame: dict[int, float] = {}

    def _prune(self, now: float) -> None:
        for key in [k for k, t in self.last_frame.items() if now - t > WINDOW]:
            del self.last_frame[key]

    def admit(self, key: int, now: float | None = None) -> bool:
        """Record a frame of stream `key`; False when it is a new stream and the cap is reached."""
        now = time.monotonic() if now is None else now
        with self.lock:
            self._prune(now)
            if key not in self.last_frame and len(self.last_frame) >= max_streams():
                return False
            self.last_frame[key] = now
            return True

    def active(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self.lock:
            self._prune(now)
            return len(self.last_frame)

    def leave(self, key: int) -> None:
        with self.lock:
            self.last_frame.pop(key, None)


STREAMS = Streams()  # one per server process: every tab's LiveSession reports here
