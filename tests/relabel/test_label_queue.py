"""The Relabel tab's queue state without Streamlit: build, label to the end, skip, undo, a grid page that changed."""
from types import SimpleNamespace

import numpy as np
import pytest

from fer_core.errors import StoreError
from fer_core.relabel.label_queue import LabelQueue

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


class Project:
    def __init__(self, fail=False):
        self.ds = SimpleNamespace(ids=np.array(["a", "b", "c"]))
        self.target = SimpleNamespace(classes=["angry", "happy"])
        self.saved, self.fail = [], fail

    def label(self, row, annotator, label, session_id):
        if self.fail:
            raise StoreError("database is locked")
        self.saved.append((row, annotator, label, session_id))


def test_labels_move_forward_and_the_end_of_the_queue_looks_again():
    q, project = LabelQueue(), Project()
    q.follow(("filters", 1), lambda: [2, 0, 1])
    assert q.current() == 2
    q.follow(("filters", 1), lambda: [9])  # same signature: kept, position too
    q.assign(project, "ann", 1, "tab")
    assert project.saved == [(2, "ann", 1, "tab")] and q.current() == 0 and q.last_saved == "Saved #c as **happy**"
    q.navigate(1)
    assert q.last_saved is None and q.current() == 1
    q.assign(project, "ann", 0, "tab")  # the last row: the queue is built again on the next run
    assert q.signature is None and q.pos == 2
    q.follow(("filters", 1), lambda: [1])
    assert q.pos == 0 and q.rows.tolist() == [1]


def test_a_failed_save_says_so_and_stays():
    q = LabelQueue()
    q.follow(("x",), lambda: [0, 1])
    q.assign(Project(fail=True), "ann", 0, "tab")
    assert isinstance(q.error, StoreError) and q.pos == 0 and q.last_saved is None


def test_skip_undo_and_a_stale_grid_page():
    q = LabelQueue()
    q.follow(("x",), lambda: [0, 1, 2])
    skipped = []
    q.skip(SimpleNamespace(skip=skipped.append))
    assert skipped == [0] and q.current() == 1
    q.undo(SimpleNamespace(undo=lambda: [0]), ["a", "b", "c"])
    assert q.current() == 0 and q.message == "Undid the last label of #a"
    q.undo(SimpleNamespace(undo=lambda: [0, 1]), ["a", "b", "c"])
    assert q.grid_version == 1 and "grid page: 2 labels" in q.message
    q.undo(SimpleNamespace(undo=lambda: []), ["a", "b", "c"])
    assert q.message.startswith("Nothing to undo")
    q.accept_grid(SimpleNamespace(), SimpleNamespace(token="t2", label=1), {"token": "t1"}, ["angry", "happy"])
    assert q.message.startswith("That page had changed") and q.grid_version == 1
    done = SimpleNamespace(written=3, kept=1, exceptions=0)
    q.accept_grid(SimpleNamespace(accept=lambda page, exc: done), SimpleNamespace(token="t1", label=1),
                  {"token": "t1", "exceptions": []}, ["angry", "happy"])
    assert q.grid_version == 2 and q.message.startswith("Saved 3 labels as **happy**; 1 you had labelled before")
