"""Training progress: what the fit loop reports, to the terminal (CLI) or to a job file (background jobs)."""
from __future__ import annotations


class Progress:
    """Receives training progress; the job runner writes it to disk, the CLI prints it."""

    def start(self, epochs: int, steps: int) -> None: ...
    def batch(self, epoch: int, step: int) -> None: ...
    def epoch(self, epoch: int, logs: dict) -> None: ...
    def message(self, text: str) -> None: ...
    def cancelled(self) -> bool:
        return False

    def stopped_as(self) -> str:
        """The run's status when `cancelled()` stopped it: a sweep's pruner says "pruned"."""
        return "cancelled"


class PrintProgress(Progress):
    """Terminal progress; SIGTERM/SIGINT stop training after the current batch and the run is still saved."""

    def __init__(self):
        import signal
        self.stop = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                signal.signal(sig, lambda *_: setattr(self, "stop", True))
            except ValueError:  # not the main thread (e.g. called from a page): no signal handling there
                pass

    def cancelled(self):
        return self.stop

    def start(self, epochs, steps):
        print(f"training: {epochs} epochs x {steps} steps", flush=True)

    def epoch(self, epoch, logs):
        print(f"epoch {epoch + 1}: " + " ".join(f"{k}={v:.4f}" for k, v in logs.items()), flush=True)

    def message(self, text):
        print(text, flush=True)


class HistoryProgress(Progress):
    """Forwards to another Progress and keeps the run's history rows (epochs numbered across phases/resumes)."""

    def __init__(self, inner: Progress, history: list[dict]):
        self.inner, self.history = inner, history

    def start(self, epochs, steps):
        self.inner.start(epochs, steps)

    def batch(self, epoch, step):
        self.inner.batch(epoch, step)

    def message(self, text):
        self.inner.message(text)

    def cancelled(self):
        return self.inner.cancelled()

    def stopped_as(self):
        return self.inner.stopped_as()

    def epoch(self, epoch, logs):
        self.history.append({"epoch": len(self.history) + 1, **logs})
        self.inner.epoch(len(self.history) - 1, logs)
