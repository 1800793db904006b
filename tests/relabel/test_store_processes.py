"""The relabel store under several processes at once and under kill -9: nothing shown as saved is lost, no image
is claimed or labelled past k. Every test runs twice: on a SQLite file and on a real PostgreSQL server."""
import base64
import multiprocessing as mp
import os
import pickle
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO
from fer_core.relabel.store import LabelStore

pytestmark = pytest.mark.processes  # layer: these start writer processes (the folder says the subject)


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
