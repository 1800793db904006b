"""Relabelling store: one SQLite file per project (WAL mode), an append-only event log per annotator.

Every change is a new row; the current label of (image, annotator) is its newest event, and undo is a
new event that restores the label before the undone one. Each write is its own transaction committed
with synchronous=FULL before the call returns, so a label shown as saved survives a crash or kill -9.
Connections are short-lived (one per call), so any number of browser sessions or processes can write.
"""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from fer_core.errors import StoreError  # the label database cannot be used: the message says what to do

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    label INTEGER,              -- NULL: no label (e.g. an undo back to unlabelled)
    action TEXT NOT NULL,       -- 'label' | 'undo' | 'import'
    undoes INTEGER,             -- for 'undo': the event it reverts
    created REAL NOT NULL,
    session TEXT
);
CREATE INDEX IF NOT EXISTS events_image ON events(image_id, annotator, id);
CREATE INDEX IF NOT EXISTS events_annotator ON events(annotator, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


class LabelStore:
    def __init__(self, path: str | Path, timeout: float = 15.0):
        self.path = Path(path)
        self.timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA)

    @contextmanager
    def _connect(self):
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the label database {self.path}: {exc}") from exc
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            con.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            yield con
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(f"the label database {self.path} is locked by another program for more than "
                                 f"{self.timeout:.0f} s; close it (e.g. an open sqlite3 shell) and try again") from exc
            raise StoreError(f"label database error in {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"the label database {self.path} is damaged ({exc}). Your earlier labels may be "
                             "recoverable with `sqlite3 FILE .recover`; move the file aside to start a new one") from exc
        finally:
            con.close()

    # ---- writes (each one committed before returning) ----
    def set_label(self, image_id: str, annotator: str, label: int, session: str | None = None) -> int:
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            cur = con.execute("INSERT INTO events(image_id, annotator, label, action, created, session) "
                              "VALUES (?, ?, ?, 'label', ?, ?)", (str(image_id), annotator, int(label), time.time(), session))
            con.execute("COMMIT")
            return cur.lastrowid

    def undo(self, annotator: str, session: str | None = None) -> str | None:
        """Revert the annotator's latest not-yet-undone label, made in `session` when given (one browser tab
        never undoes another's work); returns that image id, or None if there is nothing to undo. A label that
        was changed since (in another session) is left alone: undoing it would overwrite the newer label."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            row = con.execute(
                "SELECT id, image_id FROM events WHERE annotator=? AND action IN ('label','import') "
                "AND (? IS NULL OR session=?) "
                "AND id NOT IN (SELECT undoes FROM events WHERE undoes IS NOT NULL) ORDER BY id DESC LIMIT 1",
                (annotator, session, session)).fetchone()
            newer = row and con.execute(  # a later label of this image that still stands
                "SELECT 1 FROM events WHERE image_id=? AND annotator=? AND id>? AND action IN ('label','import') "
                "AND id NOT IN (SELECT undoes FROM events WHERE undoes IS NOT NULL) LIMIT 1",
                (row[1], annotator, row[0])).fetchone()
            if row is None or newer:
                con.execute("ROLLBACK")
                return None
            event_id, image_id = row
            before = con.execute("SELECT label FROM events WHERE image_id=? AND annotator=? AND id<? "
                                 "ORDER BY id DESC LIMIT 1", (image_id, annotator, event_id)).fetchone()
            con.execute("INSERT INTO events(image_id, annotator, label, action, undoes, created, session) "
                        "VALUES (?, ?, ?, 'undo', ?, ?, ?)",
                        (image_id, annotator, before[0] if before else None, event_id, time.time(), session))
            con.execute("COMMIT")
            return image_id

    def import_labels(self, labels: dict, annotator: str) -> int:
        """Record `labels` as `annotator`'s; labels it already has are skipped (importing twice adds nothing).
        Returns how many were new or changed."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            have = {i: lab for (i, _), lab in _current(con, annotator).items()}  # inside this transaction
            now = time.time()
            rows = [(str(i), annotator, int(lab), now) for i, lab in labels.items() if have.get(str(i)) != int(lab)]
            con.executemany("INSERT INTO events(image_id, annotator, label, action, created) VALUES (?, ?, ?, 'import', ?)",
                            rows)
            con.execute("COMMIT")
            return len(rows)

    def set_meta(self, key: str, value: str) -> None:
        with self._connect() as con:
            con.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                        (key, value))

    # ---- reads ----
    def meta(self, key: str) -> str | None:
        with self._connect() as con:
            row = con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
            return row[0] if row else None

    def current(self, annotator: str | None = None) -> dict:
        """{(image_id, annotator): label} for every pair whose newest event has a label."""
        with self._connect() as con:
            return _current(con, annotator)

    def labels_of(self, annotator: str) -> dict:
        return {i: lab for (i, _), lab in self.current(annotator).items()}

    def history(self, image_id: str | None = None) -> list[dict]:
        sql = "SELECT id, image_id, annotator, label, action, undoes, created, session FROM events"
        args: tuple = ()
        if image_id is not None:
            sql += " WHERE image_id=?"
            args = (str(image_id),)
        with self._connect() as con:
            cols = ("id", "image_id", "annotator", "label", "action", "undoes", "created", "session")
            return [dict(zip(cols, r)) for r in con.execute(sql + " ORDER BY id", args)]

    def annotators(self) -> list[str]:
        with self._connect() as con:
            return [r[0] for r in con.execute("SELECT DISTINCT annotator FROM events ORDER BY annotator")]

    def label_times(self, annotator: str) -> list[float]:
        with self._connect() as con:
            return [r[0] for r in con.execute("SELECT created FROM events WHERE annotator=? AND action='label' "
                                              "ORDER BY id", (annotator,))]


def _current(con, annotator: str | None) -> dict:
    """{(image_id, annotator): label} for every pair whose newest event has a label, on an open connection."""
    sql = ("SELECT e.image_id, e.annotator, e.label FROM events e JOIN "
           "(SELECT image_id, annotator, MAX(id) AS mid FROM events GROUP BY image_id, annotator) m ON e.id = m.mid "
           "WHERE e.label IS NOT NULL")
    args: tuple = ()
    if annotator is not None:
        sql += " AND e.annotator = ?"
        args = (annotator,)
    return {(i, a): lab for i, a, lab in con.execute(sql, args)}
