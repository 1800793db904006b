"""The relabel store never loses a label: undo history, concurrency, kill -9, damaged and locked files."""
import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import REPO
from fer_core.relabel.store import LabelStore, StoreError


def test_labels_history_and_undo(tmp_path):
    s = LabelStore(tmp_path / "p.sqlite")
    s.set_label("1", "ann", 3)
    s.set_label("2", "ann", 4)
    s.set_label("1", "ann", 5)  # relabel keeps history
    assert s.labels_of("ann") == {"1": 5, "2": 4}
    assert s.undo("ann") == ["1"]  # reverts the latest change: image 1 back to 3
    assert s.labels_of("ann") == {"1": 3, "2": 4}
    assert s.undo("ann") == ["2"]
    assert s.labels_of("ann") == {"1": 3}
    assert [e["action"] for e in s.history("1")] == ["label", "label", "undo"]
    assert s.undo("nobody") == []


def _writer(path, annotator, n):
    s = LabelStore(path)
    for i in range(n):
        s.set_label(str(i), annotator, i % 10)


def _alice_and_bob_at_once(path, writer, n) -> LabelStore:
    """Two processes write `path` at the same time as alice and bob; the store once both have finished."""
    LabelStore(path)
    procs = [mp.get_context("spawn").Process(target=writer, args=(path, a, n)) for a in ("alice", "bob")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    return LabelStore(path)


def test_two_concurrent_writers_lose_nothing(tmp_path):
    s = _alice_and_bob_at_once(tmp_path / "c.sqlite", _writer, 300)
    assert len(s.labels_of("alice")) == 300 and len(s.labels_of("bob")) == 300
    assert len(s.history()) == 600


def test_same_image_by_two_sessions_keeps_both_histories(tmp_path):
    a, b = LabelStore(tmp_path / "s.sqlite"), LabelStore(tmp_path / "s.sqlite")
    a.set_label("7", "alice", 1)
    b.set_label("7", "bob", 2)
    a.set_label("7", "alice", 3)
    assert {(e["annotator"], e["label"]) for e in a.history("7")} == {("alice", 1), ("bob", 2), ("alice", 3)}
    assert a.current() == {("7", "alice"): 3, ("7", "bob"): 2}


KILL_SCRIPT = """
import sys
from fer_core.relabel.store import LabelStore
s = LabelStore(sys.argv[1])
i = 0
while True:
    s.set_label(str(i), "k", i % 10)
    print(i, flush=True)  # printed only after the commit returned: the label is "shown as saved"
    i += 1
"""


def _kill_9_after(script: str, path, n: int) -> list[int]:
    """Run `script` on `path`, read the first `n` numbers it prints once a write returned, then kill -9 it."""
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    saved = []
    deadline = time.time() + 60
    while len(saved) < n and time.time() < deadline:
        saved.append(int(proc.stdout.readline()))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return saved


def test_kill_9_loses_no_saved_label(tmp_path):
    path = tmp_path / "k.sqlite"
    saved = _kill_9_after(KILL_SCRIPT, path, 200)
    labels = LabelStore(path).labels_of("k")
    assert all(str(i) in labels for i in saved), "a label reported as saved was lost"
    assert len(saved) >= 200


def test_damaged_and_locked_databases_give_clear_errors(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="damaged"):
        LabelStore(bad)
    path = tmp_path / "locked.sqlite"
    LabelStore(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            LabelStore(path, timeout=0.5).set_label("1", "a", 1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_undo_is_per_browser_session_and_never_overwrites_a_newer_label(tmp_path):
    s = LabelStore(tmp_path / "p.sqlite")
    s.set_label("1", "ann", 3, session="tab-a")
    s.set_label("2", "ann", 4, session="tab-b")  # the same annotator name in another browser tab
    assert s.undo("ann", session="tab-a") == ["1"]  # tab A undoes its own label, not tab B's newer one
    assert s.labels_of("ann") == {"2": 4}
    assert s.undo("ann", session="tab-a") == []  # nothing more of tab A's
    s.set_label("5", "ann", 1, session="tab-a")
    s.set_label("5", "ann", 2, session="tab-b")  # tab B relabels the same image afterwards
    assert s.undo("ann", session="tab-a") == []  # undoing A's label would wipe B's: left alone
    assert s.labels_of("ann") == {"2": 4, "5": 2}
    assert s.undo("ann", session="tab-b") == ["5"] and s.labels_of("ann") == {"2": 4, "5": 1}


# ---- grid pages: one batch, one undo step, the same guarantees ----

def test_a_grid_page_is_one_undo_step_and_never_overwrites_a_label(tmp_path):
    s = LabelStore(tmp_path / "g.sqlite")
    s.set_label("3", "ann", 7, session="tab")  # labelled one by one before the page
    batch, written = s.set_labels({str(i): 2 for i in range(1, 6)}, "ann", session="tab")
    assert written == ["1", "2", "4", "5"] and s.labels_of("ann")["3"] == 7
    assert s.sources_of("ann") == {"1": "grid", "2": "grid", "3": "single", "4": "grid", "5": "grid"}
    assert {e["batch"] for e in s.history() if e["source"] == "grid"} == {batch}
    assert sorted(s.undo("ann", session="tab")) == ["1", "2", "4", "5"]  # the whole page, in one step
    assert s.labels_of("ann") == {"3": 7}
    assert s.undo("ann", session="tab") == ["3"]


def test_undoing_a_grid_page_keeps_a_label_changed_since_in_another_tab(tmp_path):
    s = LabelStore(tmp_path / "g.sqlite")
    s.set_labels({"1": 2, "2": 2, "3": 2}, "ann", session="tab-a")
    s.set_label("2", "ann", 5, session="tab-b")  # tab B corrects one face of A's page
    assert sorted(s.undo("ann", session="tab-a")) == ["1", "3"]
    assert s.labels_of("ann") == {"2": 5}


def test_skips_are_not_labels_and_a_label_clears_them(tmp_path):
    s = LabelStore(tmp_path / "g.sqlite")
    s.set_label("1", "ann", 4)
    s.skip("1", "ann")
    s.skip("2", "ann")
    assert s.labels_of("ann") == {"1": 4} and s.skipped("ann") == {"1", "2"}
    s.set_labels({"2": 3}, "ann")
    assert s.skipped("ann") == {"1"}


def test_a_project_from_before_grid_review_opens_with_its_labels(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, image_id TEXT NOT NULL, "
                      "annotator TEXT NOT NULL, label INTEGER, action TEXT NOT NULL, undoes INTEGER, created REAL NOT NULL, "
                      "session TEXT); INSERT INTO events(image_id, annotator, label, action, created) "
                      "VALUES ('7', 'ann', 3, 'label', 0);")
    con.commit()
    con.close()
    s = LabelStore(path)
    assert s.labels_of("ann") == {"7": 3} and s.sources_of("ann") == {"7": "single"}
    s.set_labels({"8": 1}, "ann")
    assert s.labels_of("ann") == {"7": 3, "8": 1}


def _grid_writer(path, annotator, pages):
    s = LabelStore(path)
    for p in range(pages):  # overlapping pages: each image is offered on two pages
        s.set_labels({str(i): p % 10 for i in range(p * 24, p * 24 + 48)}, annotator, session=annotator)


def test_two_annotators_accepting_grid_pages_at_once_lose_and_overwrite_nothing(tmp_path):
    s = _alice_and_bob_at_once(tmp_path / "c.sqlite", _grid_writer, 30)
    for a in ("alice", "bob"):
        labels = s.labels_of(a)
        assert len(labels) == 30 * 24 + 24
        # the first page to offer an image gave its label; the later page left it alone
        assert all(labels[str(i)] == max(i // 24 - 1, 0) % 10 for i in range(len(labels)))


GRID_KILL_SCRIPT = """
import sys
from fer_core.relabel.store import LabelStore
s = LabelStore(sys.argv[1])
p = 0
while True:
    _, written = s.set_labels({str(p * 48 + i): p % 10 for i in range(48)}, "k")
    print(p, flush=True)  # printed only after the page's commit returned: "Saved 48 labels"
    p += 1
"""


def test_kill_9_loses_no_grid_page_shown_as_saved(tmp_path):
    path = tmp_path / "k.sqlite"
    saved = _kill_9_after(GRID_KILL_SCRIPT, path, 40)
    labels = LabelStore(path).labels_of("k")
    assert len(saved) >= 40
    assert all(labels.get(str(p * 48 + i)) == p % 10 for p in saved for i in range(48)), "a saved page was lost"
    assert len(labels) % 48 == 0, "a page was saved in part"
