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
    assert s.undo("ann") == "1"  # reverts the latest change: image 1 back to 3
    assert s.labels_of("ann") == {"1": 3, "2": 4}
    assert s.undo("ann") == "2"
    assert s.labels_of("ann") == {"1": 3}
    assert [e["action"] for e in s.history("1")] == ["label", "label", "undo"]
    assert s.undo("nobody") is None


def _writer(path, annotator, n):
    s = LabelStore(path)
    for i in range(n):
        s.set_label(str(i), annotator, i % 10)


def test_two_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "c.sqlite"
    LabelStore(path)
    procs = [mp.get_context("spawn").Process(target=_writer, args=(path, a, 300)) for a in ("alice", "bob")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    s = LabelStore(path)
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


def test_kill_9_loses_no_saved_label(tmp_path):
    path = tmp_path / "k.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    saved = []
    deadline = time.time() + 60
    while len(saved) < 200 and time.time() < deadline:
        saved.append(int(proc.stdout.readline()))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
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
    assert s.undo("ann", session="tab-a") == "1"  # tab A undoes its own label, not tab B's newer one
    assert s.labels_of("ann") == {"2": 4}
    assert s.undo("ann", session="tab-a") is None  # nothing more of tab A's
    s.set_label("5", "ann", 1, session="tab-a")
    s.set_label("5", "ann", 2, session="tab-b")  # tab B relabels the same image afterwards
    assert s.undo("ann", session="tab-a") is None  # undoing A's label would wipe B's: left alone
    assert s.labels_of("ann") == {"2": 4, "5": 2}
    assert s.undo("ann", session="tab-b") == "5" and s.labels_of("ann") == {"2": 4, "5": 1}
