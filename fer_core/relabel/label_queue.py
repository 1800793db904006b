"""The Relabel page's session state for one browser tab: the queue of rows and the position in it, what the last
action said, and the label, skip, undo and grid-accept steps that move it. The page keeps one LabelQueue in its
session and wires buttons to these methods; all of it works without Streamlit."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fer_core.errors import FerStudioError, StoreError


@dataclass
class LabelQueue:
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    pos: int = 0
    signature: tuple | None = None  # what the rows were built for (filters, order, suggestions, grid version)
    grid_version: int = 0           # bumped when a grid page is accepted or undone: the queue is built again
    last_saved: str | None = None   # "Saved #id as class", shown beside the image it describes
    message: str | None = None      # the last grid or undo step, shown once
    error: FerStudioError | None = None  # a label that could not be saved, shown once

    def follow(self, signature: tuple, build) -> None:
        """Build the rows again (from the start) when what they were built for changed."""
        if signature != self.signature:
            self.rows, self.signature, self.pos = np.asarray(build(), dtype=int), signature, 0

    def current(self) -> int | None:
        return int(self.rows[self.pos]) if len(self.rows) else None

    def go(self, delta: int) -> None:
        self.pos = int(np.clip(self.pos + delta, 0, max(len(self.rows) - 1, 0)))

    def navigate(self, delta: int) -> None:
        self.last_saved = None  # "Saved #n" described the image left behind
        self.go(delta)

    def skip(self, review) -> None:
        try:
            review.skip(self.current())  # settled as skipped: the smart order puts it last next time
        except StoreError as exc:
            self.error = exc
        self.navigate(1)

    def assign(self, project, annotator: str, label: int, session_id: str) -> None:
        row = self.current()
        try:
            project.label(row, annotator, label, session_id)  # committed before we say "saved"
        except StoreError as exc:
            self.last_saved, self.error = None, exc
            return
        self.last_saved = f"Saved #{project.ds.ids[row]} as **{project.target.classes[label]}**"
        if self.pos >= len(self.rows) - 1:
            self.signature = None  # the end of the queue: look again (labelled images leave an unlabelled queue)
        self.go(1)

    def undo(self, review, ids) -> None:
        try:
            rows = review.undo()
        except StoreError as exc:
            self.error = exc
            return
        if not rows:
            self.last_saved = self.message = ("Nothing to undo in this browser tab (labels from other tabs, or "
                                              "changed since, stay).")
            return
        if len(rows) > 1:  # a grid page: its images are open again, on the grid
            self.grid_version += 1
            self.last_saved = self.message = f"Undid a grid page: {len(rows)} labels removed."
            return
        hits = np.flatnonzero(self.rows == rows[0])
        if len(hits):
            self.pos = int(hits[0])
        self.last_saved = self.message = f"Undid the last label of #{ids[rows[0]]}"

    def accept_grid(self, review, page, value: dict, classes) -> None:
        """Accept a grid page as the browser sent it (`value`: its token and exceptions); a page that changed since
        it was shown saves nothing."""
        if page is None or value.get("token") != page.token:
            self.message = "That page had changed (another tab or an undo); nothing was saved. Look again and accept."
            return
        try:
            done = review.accept(page, value.get("exceptions") or [])
        except FerStudioError as exc:
            self.error = exc
            return
        self.grid_version += 1
        self.message = (f"Saved {done.written} labels as **{classes[page.label]}**"
                        + (f"; {done.kept} you had labelled before were left as they were" if done.kept else "")
                        + (f"; {done.exceptions} exceptions wait in the Label view" if done.exceptions else "")
                        + ". U undoes this page.")
