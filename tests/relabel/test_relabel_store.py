"""The relabel store in one process: undo history, sessions, damaged and locked files, upgrades, assignment and
decisions (several processes and kill -9: test_store_processes.py). Every test that takes `make_db` runs twice: on
a SQLite file and on a real PostgreSQL server."""
import sqlite3

import pytest

from conftest import REPO
from fer_core.relabel.store import LabelStore, StoreError

pytestmark = pytest.mark.unit  # layer (the folder says the subject)


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


def test_same_image_by_two_sessions_keeps_both_histories(make_db):
    db = make_db("s")
    a, b = LabelStore(db), LabelStore(db)
    a.set_label("7", "alice", 1)
    b.set_label("7", "bob", 2)
    a.set_label("7", "alice", 3)
    assert {(e["annotator"], e["label"]) for e in a.history("7")} == {("alice", 1), ("bob", 2), ("alice", 3)}
    assert a.current() == {("7", "alice"): 3, ("7", "bob"): 2}


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


def test_decisions_newest_stands_and_can_be_withdrawn(make_db):
    s = LabelStore(make_db())
    s.decide("1", "rev", 3, note="looks angry")
    s.decide("1", "rev2", 5)
    s.decide("2", "rev", 1)
    s.decide("2", "rev", None)
    assert {i: d["label"] for i, d in s.decisions().items()} == {"1": 5}
    assert s.counts()["decisions"] == 4


