"""The relabel store never loses a label: undo history, concurrency, kill -9, damaged and locked files.
Every test that takes `make_db` runs twice: on a SQLite file and on a real PostgreSQL server."""
import base64
import multiprocessing as mp
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import REPO
from fer_core.relabel.store import LabelStore, StoreError


def test_labels_history_and_undo(make_db):
    s = LabelStore(make_db())
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
    """Two processes write database `path` at the same time as alice and bob; the store once both have finished."""
    LabelStore(path)
    procs = [mp.get_context("spawn").Process(target=writer, args=(path, a, n)) for a in ("alice", "bob")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    return LabelStore(path)


def test_two_concurrent_writers_lose_nothing(make_db):
    s = _alice_and_bob_at_once(make_db("c"), _writer, 300)
    assert len(s.labels_of("alice")) == 300 and len(s.labels_of("bob")) == 300
    assert len(s.history()) == 600


def test_same_image_by_two_sessions_keeps_both_histories(make_db):
    db = make_db("s")
    a, b = LabelStore(db), LabelStore(db)
    a.set_label("7", "alice", 1)
    b.set_label("7", "bob", 2)
    a.set_label("7", "alice", 3)
    assert {(e["annotator"], e["label"]) for e in a.history("7")} == {("alice", 1), ("bob", 2), ("alice", 3)}
    assert a.current() == {("7", "alice"): 3, ("7", "bob"): 2}


KILL_SCRIPT = """
import base64, pickle, sys
from fer_core.relabel.store import LabelStore
s = LabelStore(pickle.loads(base64.b64decode(sys.argv[1])))
i = 0
while True:
    s.set_label(str(i), "k", i % 10)
    print(i, flush=True)  # printed only after the commit returned: the label is "shown as saved"
    i += 1
"""


def _kill_9_after(script: str, path, n: int) -> list[int]:
    """Run `script` on `path`, read the first `n` numbers it prints once a write returned, then kill -9 it."""
    spec = base64.b64encode(pickle.dumps(path)).decode()  # a database object: SQLite file or PostgreSQL schema
    proc = subprocess.Popen([sys.executable, "-c", script, spec], cwd=REPO, stdout=subprocess.PIPE, text=True)
    saved = []
    deadline = time.time() + 60
    while len(saved) < n and time.time() < deadline:
        saved.append(int(proc.stdout.readline()))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return saved


def test_kill_9_loses_no_saved_label(make_db):
    path = make_db("k")
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


def test_undo_is_per_browser_session_and_never_overwrites_a_newer_label(make_db):
    s = LabelStore(make_db())
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

def test_a_grid_page_is_one_undo_step_and_never_overwrites_a_label(make_db):
    s = LabelStore(make_db())
    s.set_label("3", "ann", 7, session="tab")  # labelled one by one before the page
    batch, written = s.set_labels({str(i): 2 for i in range(1, 6)}, "ann", session="tab")
    assert written == ["1", "2", "4", "5"] and s.labels_of("ann")["3"] == 7
    assert s.sources_of("ann") == {"1": "grid", "2": "grid", "3": "single", "4": "grid", "5": "grid"}
    assert {e["batch"] for e in s.history() if e["source"] == "grid"} == {batch}
    assert sorted(s.undo("ann", session="tab")) == ["1", "2", "4", "5"]  # the whole page, in one step
    assert s.labels_of("ann") == {"3": 7}
    assert s.undo("ann", session="tab") == ["3"]


def test_undoing_a_grid_page_keeps_a_label_changed_since_in_another_tab(make_db):
    s = LabelStore(make_db())
    s.set_labels({"1": 2, "2": 2, "3": 2}, "ann", session="tab-a")
    s.set_label("2", "ann", 5, session="tab-b")  # tab B corrects one face of A's page
    assert sorted(s.undo("ann", session="tab-a")) == ["1", "3"]
    assert s.labels_of("ann") == {"2": 5}


def test_skips_are_not_labels_and_a_label_clears_them(make_db):
    s = LabelStore(make_db())
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


def test_two_annotators_accepting_grid_pages_at_once_lose_and_overwrite_nothing(make_db):
    s = _alice_and_bob_at_once(make_db("c"), _grid_writer, 30)
    for a in ("alice", "bob"):
        labels = s.labels_of(a)
        assert len(labels) == 30 * 24 + 24
        # the first page to offer an image gave its label; the later page left it alone
        assert all(labels[str(i)] == max(i // 24 - 1, 0) % 10 for i in range(len(labels)))


GRID_KILL_SCRIPT = """
import base64, pickle, sys
from fer_core.relabel.store import LabelStore
s = LabelStore(pickle.loads(base64.b64decode(sys.argv[1])))
p = 0
while True:
    _, written = s.set_labels({str(p * 48 + i): p % 10 for i in range(48)}, "k")
    print(p, flush=True)  # printed only after the page's commit returned: "Saved 48 labels"
    p += 1
"""


def test_kill_9_loses_no_grid_page_shown_as_saved(make_db):
    path = make_db("k")
    saved = _kill_9_after(GRID_KILL_SCRIPT, path, 40)
    labels = LabelStore(path).labels_of("k")
    assert len(saved) >= 40
    assert all(labels.get(str(p * 48 + i)) == p % 10 for p in saved for i in range(48)), "a saved page was lost"
    assert len(labels) % 48 == 0, "a page was saved in part"


def test_an_unreachable_server_gives_a_clear_error_without_its_password():
    from fer_core.relabel.database import PostgresDatabase
    with pytest.raises(StoreError, match="cannot connect") as err:
        LabelStore(PostgresDatabase("postgresql://ann:s3cret@127.0.0.1:1/labels", "p", timeout=2))
    assert "s3cret" not in str(err.value) and "***" in str(err.value)


# ---- schema versions: an existing project upgrades in place without losing an event ----

V1_FIXTURE = REPO / "tests" / "fixtures" / "relabel-project-v1.sqlite"  # written by the store before schema 2


def test_a_project_from_the_previous_version_upgrades_without_losing_an_event(tmp_path):
    import shutil
    path = tmp_path / "v1.sqlite"
    shutil.copy(V1_FIXTURE, path)
    con = sqlite3.connect(path)
    before = con.execute("SELECT * FROM events ORDER BY id").fetchall()
    skips = con.execute("SELECT * FROM skips ORDER BY image_id").fetchall()
    con.close()
    assert len(before) == 52 and len(skips) == 2
    s = LabelStore(path)
    assert s.migrated_from == 1 and s.meta("schema_version") == "2"
    dump = s.dump()
    assert dump["events"] == before and dump["skips"] == skips
    assert s.meta("dataset_version") == "fixture-v1"
    assert len(s.current()) == 42 and s.labels_of("alice")["5"] == 5  # alice's undone relabel of 5 stays undone
    assert LabelStore(path).migrated_from is None  # upgraded once
    s.decide("3", "rev", 4)
    assert s.decisions()["3"]["label"] == 4


def test_a_database_from_a_newer_version_is_refused(make_db):
    db = make_db()
    LabelStore(db).set_meta("schema_version", "99")
    with pytest.raises(StoreError, match="newer FER Studio"):
        LabelStore(db)


# ---- team curation at the store level ----

def test_assignment_fills_images_to_k_and_never_over_claims(make_db):
    db = make_db()
    s = LabelStore(db)
    ids = [str(i) for i in range(10)]
    a = s.assign("alice", ids, k=2, n=3)
    assert a == ["0", "1", "2"]
    assert s.assign("alice", ids, k=2, n=3) == a  # a reload resumes the same images
    b = s.assign("bob", ids, k=2, n=3)
    assert b == ["0", "1", "2"]  # alice's claims leave one slot each: bob takes them, the images reach k soonest
    c = s.assign("carol", ids, k=2, n=3)
    assert not set(c) & {"0", "1", "2"}  # two claims on each: no third annotator
    s.set_label("0", "alice", 1)
    s.set_label("0", "bob", 1)
    s.set_label("3", "carol", 2)
    d = s.assign("dave", ids, k=2, n=2)
    assert "0" not in d and d[0] == "3"  # image 3 has one label and carol no longer claims it: it comes first
    assert s.assign("alice", ids, k=2, n=5)[:2] == ["1", "2"]  # alice's own claims still come first
    s.release("alice")
    assert "1" in s.assign("erin", ids, k=2, n=10)


def _claimer(db, annotator, out):
    s = LabelStore(db)
    out.put((annotator, s.assign(annotator, [str(i) for i in range(6)], k=2, n=6)))


def test_concurrent_annotators_never_claim_an_image_more_than_k_times(make_db):
    db = make_db()
    LabelStore(db)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claimer, args=(db, f"a{i}", out)) for i in range(5)]
    for p in procs:
        p.start()
    got = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(60)
    per_image = {}
    for _, images in got:
        for i in images:
            per_image[i] = per_image.get(i, 0) + 1
    assert per_image and max(per_image.values()) <= 2 and sum(per_image.values()) == 12


def test_decisions_newest_stands_and_can_be_withdrawn(make_db):
    s = LabelStore(make_db())
    s.decide("1", "rev", 3, note="looks angry")
    s.decide("1", "rev2", 5)
    s.decide("2", "rev", 1)
    s.decide("2", "rev", None)
    assert {i: d["label"] for i, d in s.decisions().items()} == {"1": 5}
    assert s.counts()["decisions"] == 4


def _labeller(db, annotator, rounds):
    s = LabelStore(db)
    for _ in range(rounds):
        for i in s.assign(annotator, [str(i) for i in range(60)], k=2, n=5):
            s.set_label(i, annotator, 1)


def test_labelling_while_others_claim_never_puts_an_image_past_k(make_db):
    """Labels replace claims while others assign: each assignment must see both in one snapshot (a PostgreSQL
    READ COMMITTED race once handed images out past k under load)."""
    db = make_db()
    LabelStore(db)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_labeller, args=(db, f"a{i}", 12)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    per_image = {}
    for (i, _a) in LabelStore(db).current():
        per_image[i] = per_image.get(i, 0) + 1
    assert per_image and max(per_image.values()) <= 2
