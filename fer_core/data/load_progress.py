"""Progress of a long first load (a 10x FER2013 CSV, AffectNet's 450,000 photos), for whoever is waiting on it.

The readers call `report(done, total, what)` as they go; a caller that can show progress wraps the load in
`reporting(callback)`. A context variable rather than a parameter threaded through every loader: only the page
and the CLI listen, and a load that nobody watches pays one lookup per chunk.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

Callback = Callable[[float, str], None]  # (fraction done in [0, 1], what is being read)

_listener: ContextVar[tuple[Callback, float, list[float]] | None] = ContextVar("fer_load_progress", default=None)


@contextmanager
def reporting(callback: Callback, every_s: float = 0.25):
    """Send the loads inside the block's progress to `callback`, at most once per `every_s` seconds (and at the end
    of each reader's work)."""
    token = _listener.set((callback, every_s, [float("-inf")]))
    try:
        yield
    finally:
        _listener.reset(token)


def report(done: int, total: int, what: str) -> None:
    listener = _listener.get()
    if listener is None or total <= 0:
        return
    callback, every_s, last = listener
    now = time.monotonic()
    if done < total and now - last[0] < every_s:
        return
    last[0] = now
    callback(min(done / total, 1.0), what)
