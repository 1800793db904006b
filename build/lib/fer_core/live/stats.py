"""Moving medians of the Live stage timings and of the processed frame rate (a single frame's value jumps)."""
from __future__ import annotations

import time
from collections import deque

import numpy as np

STAGES = ("detect", "classify", "overlay", "draw")


class MovingStats:
    """The last `window` frames: median per-stage milliseconds and frames per second over their timestamps."""

    def __init__(self, window: int = 30):
        self.stages = {k: deque(maxlen=window) for k in STAGES}
        self.stamps = deque(maxlen=window)
        self.received = deque(maxlen=window)  # (time, frames received since the previous processed frame)

    def add(self, timings_ms: dict, received: int = 1, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        for k in STAGES:
            self.stages[k].append(timings_ms.get(k, 0.0))
        self.stamps.append(now)
        self.received.append(received)

    def fps(self) -> float:
        """Processed frames per second: the median gap between consecutive processed frames, inverted."""
        if len(self.stamps) < 2:
            return 0.0
        gap = float(np.median(np.diff(np.asarray(self.stamps))))
        return 1.0 / gap if gap > 0 else 0.0

    def received_fps(self) -> float:
        """Frames arriving from the browser per second over the same window."""
        if len(self.stamps) < 2:
            return 0.0
        span = self.stamps[-1] - self.stamps[0]
        return sum(list(self.received)[1:]) / span if span > 0 else 0.0

    def medians(self) -> dict:
        return {k: float(np.median(v)) if v else 0.0 for k, v in self.stages.items()}

    def clear(self) -> None:
        for v in (*self.stages.values(), self.stamps, self.received):
            v.clear()
