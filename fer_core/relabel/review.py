"""One annotator's review of a project in one browser tab: grid pages of suggestions confirmed in bulk, the
exceptions sent on to the one-at-a-time view, the smart queue, and progress by route.

The page holds one ReviewSession per tab and draws what it returns; the Python API and the throughput bench
drive the same object.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from fer_core.errors import ConfigError
from fer_core.relabel.project import RelabelProject
from fer_core.relabel.suggest import NONE, Suggestions, Thresholds

PAGE_SIZES = (24, 32, 48, 64)


@dataclass(frozen=True)
class GridPage:
    rows: np.ndarray   # dataset rows, most confident first
    label: int         # the suggested class they share
    token: str         # identifies the page: an accept names the page it saw

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class Accepted:
    written: int       # labels written as this page's batch
    kept: int          # images this annotator had labelled already: left as they were
    exceptions: int    # sent to the one-at-a-time view


@dataclass
class ReviewSession:
    project: RelabelProject
    annotator: str
    session_id: str
    suggestions: Suggestions
    thresholds: Thresholds = field(default_factory=Thresholds)
    scope: np.ndarray | None = None  # rows the sidebar's filters allow (None: all)
    exceptions: list[int] = field(default_factory=list)  # marked on grid pages, reviewed one at a time

    # ---- what is still open ----
    def _open(self) -> np.ndarray:
        """Mask of rows in scope that this annotator has neither labelled nor set aside (exceptions waiting for the
        one-at-a-time view are set aside; those labelled or skipped since leave the list)."""
        ds = self.project.ds
        mask = np.ones(len(ds), bool) if self.scope is None else self.scope.copy()
        done = set(self.project.store.labels_of(self.annotator)) | self.project.store.skipped(self.annotator)
        mask &= ~self.project.mask_of(done)
        self.exceptions = [r for r in self.exceptions if str(ds.ids[r]) not in done]
        mask[self.exceptions] = False
        return mask

    def eligible(self) -> np.ndarray:
        """Mask of open rows whose suggestion a grid page may offer (the page passes it to both calls below, so
        one script run reads the store once)."""
        return self._open() & self.suggestions.bulk_ok(self.thresholds) & (self.suggestions.label != NONE)

    def grid_counts(self, eligible: np.ndarray | None = None) -> dict[int, int]:
        """Suggested class -> images that can still be confirmed on a grid page, largest first."""
        eligible = self.eligible() if eligible is None else eligible
        return dict(Counter(self.suggestions.label[eligible].tolist()).most_common())

    def grid_page(self, label: int, size: int = 48, eligible: np.ndarray | None = None) -> GridPage:
        """The next `size` open images suggested as `label`, most confident first."""
        eligible = self.eligible() if eligible is None else eligible
        rows = np.flatnonzero(eligible & (self.suggestions.label == label))
        rows = rows[np.argsort(-self.suggestions.strength[rows], kind="stable")][:size]
        token = hashlib.sha1(f"{label}:{rows.tobytes().hex()}".encode()).hexdigest()[:12]
        return GridPage(rows, int(label), token)

    def accept(self, page: GridPage, exception_rows=()) -> Accepted:
        """Confirm the page's suggestion for every image but the exceptions, as one batch (one undo step)."""
        settings = self.project.team.settings
        if settings.k > 1 or settings.blind:  # suggestions are hidden, or the page would label past k
            raise ConfigError("grid review is off in this team project (blind labelling, or several labels per "
                              "image)", fix="label in the Label view, which hands out the images that need one")
        marked = {int(r) for r in exception_rows} & {int(r) for r in page.rows}
        ids = self.project.ds.ids
        labels = {str(ids[r]): page.label for r in page.rows.tolist() if r not in marked}
        _, written = self.project.store.set_labels(labels, self.annotator, self.session_id, source="grid")
        self.exceptions.extend(r for r in page.rows.tolist() if r in marked and r not in self.exceptions)
        return Accepted(len(written), len(labels) - len(written), len(marked))

    def undo(self) -> list[int]:
        """Undo this tab's latest step (a label, or a whole grid page); returns the rows it reverted."""
        return self.project.undo(self.annotator, self.session_id)

    def skip(self, row: int) -> None:
        self.project.store.skip(self.project.ds.ids[row], self.annotator, self.session_id)
        if row in self.exceptions:
            self.exceptions.remove(row)

    # ---- the one-at-a-time view ----
    def smart_order(self) -> np.ndarray:
        """Every row, in the order worth a human's look: this tab's grid exceptions, then rows where the sources
        disagree, then the least certain first; images a grid page can settle come last, skipped ones after them."""
        s = self.suggestions
        is_skipped = self.project.mask_of(self.project.store.skipped(self.annotator))
        rest = np.lexsort((s.priority(), s.bulk_ok(self.thresholds), is_skipped))
        first = np.asarray(self.exceptions, dtype=int)
        return np.concatenate([first, rest[~np.isin(rest, first)]])

    # ---- progress ----
    def routes(self) -> dict:
        """How the rows in scope were settled by this annotator (grid, one by one, imported, skipped) and what is
        left per suggested class (and how much of it a grid page can take)."""
        ds, store = self.project.ds, self.project.store
        scope = np.ones(len(ds), bool) if self.scope is None else self.scope
        in_scope = set(ds.ids[scope].tolist())
        sources = Counter(src for i, src in store.sources_of(self.annotator).items() if i in in_scope)
        skipped = len(store.skipped(self.annotator) & in_scope)
        open_ = self._open()
        open_[self.exceptions] = True
        classes = self.project.target.classes
        eligible = self.suggestions.bulk_ok(self.thresholds)
        left = {}
        for k in np.unique(self.suggestions.label[open_]).tolist():
            rows = open_ & (self.suggestions.label == k)
            left["(no suggestion)" if k == NONE else classes[k]] = {"open": int(rows.sum()),
                                                                  "grid": int((rows & eligible).sum())}
        return {"grid": sources.get("grid", 0), "single": sources.get("single", 0), "import": sources.get("import", 0),
                "skipped": skipped, "exceptions_waiting": len(self.exceptions), "in_scope": int(scope.sum()),
                "open": int(open_.sum()), "left_by_suggestion": left}
