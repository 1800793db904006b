"""Relabelling store: one SQLite file per project (WAL mode), an append-only event log per annotator.

Every change is a new row; the current label of (image, annotator) is its newest event, and undo is a
new event that restores the label before the undone one. Each write is its own transaction committed
with synchronous=FULL before the call returns, so a label shown as saved survives a crash or kill -9.
Connections are short-lived (one per call), so any number of browser sessions or processes can write.

Grid review writes a page of labels as one transaction: each label is an ordinary event carrying its
`source` ('grid') and the page's `batch` id, so undo reverts the page as one step. Skips live in their own
table: a skip is not a label and must not hide one.
"""
from __future__ import annotations

import sqlite3
import time
import uuid
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
    session TEXT,
    source TEXT,                -- how the label was given: 'single' | 'grid' | 'import' (NULL: before sources)
    batch TEXT                  -- grid page id: the events undone together
);
CREATE INDEX IF NOT EXISTS events_image ON events(image_id, annotator, id);
CREATE INDEX IF NOT EXISTS events_annotator ON events(annotator, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS skips (image_id TEXT NOT NULL, annotator TEXT NOT NULL, created REAL NOT NULL,
                                  session TEXT, PRIMARY KEY (image_id, annotator));
"""
COLUMNS_ADDED = {"source": "TEXT", "batch": "TEXT"}  # projects created before grid review get them on open
STANDING = "id NOT IN (SELECT undoes FROM events WHERE undoes IS NOT NULL)"  # a label or import not undone


class LabelStore:
    def __init__(self, path: str | Path, timeout: float = 15.0):
        self.path = Path(path)
        self.timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA)
            have = {r[1] for r in con.execute("PRAGMA table_info(events)")}
            for column, kind in COLUMNS_ADDED.items():
                if column not in have:
                    con.execute(f"ALTER TABLE events ADD COLUMN {column} {kind}")
            con.execute("CREATE INDEX IF NOT EXISTS events_batch ON events(batch)")

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
            cur = con.execute("INSERT INTO events(image_id, annotator, label, action, created, session, source) "
                              "VALUES (?, ?, ?, 'label', ?, ?, 'single')",
                              (str(image_id), annotator, int(label), time.time(), session))
            con.execute("DELETE FROM skips WHERE image_id=? AND annotator=?", (str(image_id), annotator))
            con.execute("COMMIT")
            return cur.lastrowid

    def set_labels(self, labels: dict, annotator: str, session: str | None = None, source: str = "grid") -> tuple[str, list[str]]:
        """Write a page of labels as one transaction and one undo step; images this annotator has already
        labelled are left as they are (a bulk accept never overwrites a decision). Returns (batch id, the
        image ids written)."""
        batch = uuid.uuid4().hex[:12]
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            have = {i for (i, _) in _current(con, annotator, ids=[str(i) for i in labels])}
            now = time.time()
            rows = [(str(i), annotator, int(lab), now, session, source, batch)
                    for i, lab in labels.items() if str(i) not in have]
            con.executemany("INSERT INTO events(image_id, annotator, label, action, created, session, source, batch) "
                            "VALUES (?, ?, ?, 'label', ?, ?, ?, ?)", rows)
            con.executemany("DELETE FROM skips WHERE image_id=? AND annotator=?", [(r[0], annotator) for r in rows])
            con.execute("COMMIT")
        return batch, [r[0] for r in rows]

    def skip(self, image_id: str, annotator: str, session: str | None = None) -> None:
        """Remember that the annotator passed over the image (the smart queue moves on; a label clears it)."""
        with self._connect() as con:
            con.execute("INSERT INTO skips(image_id, annotator, created, session) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(image_id, annotator) DO UPDATE SET created=excluded.created",
                        (str(image_id), annotator, time.time(), session))

    def undo(self, annotator: str, session: str | None = None) -> list[str]:
        """Revert the annotator's latest not-yet-undone step made in `session` when given (one browser tab
        never undoes another's work): one label, or a whole grid page. Returns the image ids reverted (empty:
        nothing to undo). A label that was changed since (in another session) is left alone: undoing it would
        overwrite the newer label."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            last = con.execute(
                f"SELECT id, batch FROM events WHERE annotator=? AND action IN ('label','import') "
                f"AND (? IS NULL OR session=?) AND {STANDING} ORDER BY id DESC LIMIT 1",
                (annotator, session, session)).fetchone()
            if last is None:
                con.execute("ROLLBACK")
                return []
            step = con.execute(f"SELECT id, image_id FROM events WHERE (batch IS NULL AND id=?) OR (batch=? AND {STANDING}) "
                               "ORDER BY id", (last[0], last[1])).fetchall()
            undone = []
            for event_id, image_id in step:
                newer = con.execute(  # a later label of this image that still stands
                    f"SELECT 1 FROM events WHERE image_id=? AND annotator=? AND id>? AND action IN ('label','import') "
                    f"AND {STANDING} LIMIT 1", (image_id, annotator, event_id)).fetchone()
                if newer:
                    continue
                before = con.execute("SELECT label FROM events WHERE image_id=? AND annotator=? AND id<? "
                                     "ORDER BY id DESC LIMIT 1", (image_id, annotator, event_id)).fetchone()
                con.execute("INSERT INTO events(image_id, annotator, label, action, undoes, created, session) "
                            "VALUES (?, ?, ?, 'undo', ?, ?, ?)",
                            (image_id, annotator, before[0] if before else None, event_id, time.time(), session))
                undone.append(image_id)
            con.execute("COMMIT" if undone else "ROLLBACK")
            return undone

    def import_labels(self, labels: dict, annotator: str) -> int:
        """Record `labels` as `annotator`'s; labels it already has are skipped (importing twice adds nothing).
        Returns how many were new or changed."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            have = {i: lab for (i, _), lab in _current(con, annotator).items()}  # inside this transaction
            now = time.time()
            rows = [(str(i), annotator, int(lab), now) for i, lab in labels.items() if have.get(str(i)) != int(lab)]
            con.executemany("INSERT INTO events(image_id, annotator, label, action, created, source) "
                            "VALUES (?, ?, ?, 'import', ?, 'import')", rows)
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
        sql = "SELECT id, image_id, annotator, label, action, undoes, created, session, source, batch FROM events"
        args: tuple = ()
        if image_id is not None:
            sql += " WHERE image_id=?"
            args = (str(image_id),)
        with self._connect() as con:
            cols = ("id", "image_id", "annotator", "label", "action", "undoes", "created", "session", "source", "batch")
            return [dict(zip(cols, r)) for r in con.execute(sql + " ORDER BY id", args)]

    def annotators(self) -> list[str]:
        with self._connect() as con:
            return [r[0] for r in con.execute("SELECT DISTINCT annotator FROM events ORDER BY annotator")]

    def sources_of(self, annotator: str) -> dict:
        """{image_id: how its standing label was given}: 'single', 'grid' or 'import'."""
        with self._connect() as con:
            return {i: src for i, _, _, src in _current_rows(con, annotator)}

    def skipped(self, annotator: str) -> set[str]:
        with self._connect() as con:
            return {r[0] for r in con.execute("SELECT image_id FROM skips WHERE annotator=?", (annotator,))}

    def label_times(self, annotator: str) -> list[float]:
        with self._connect() as con:
            return [r[0] for r in con.execute("SELECT created FROM events WHERE annotator=? AND action='label' "
                                              "ORDER BY id", (annotator,))]


def _current_rows(con, annotator: str | None, ids: list[str] | None = None):
    """(image_id, annotator, label, source) of every pair whose newest event has a label, on an open connection;
    only `ids` when given (a grid page asks about its 24-64 images, not the whole log)."""
    # labels from before sources were recorded, and undos back to an earlier label, count as given one by one
    sql = ("SELECT e.image_id, e.annotator, e.label, "
           "CASE WHEN e.action = 'import' THEN 'import' ELSE COALESCE(e.source, 'single') END FROM events e JOIN "
           "(SELECT image_id, annotator, MAX(id) AS mid FROM events GROUP BY image_id, annotator) m ON e.id = m.mid "
           "WHERE e.label IS NOT NULL")
    args: list = []
    if annotator is not None:
        sql += " AND e.annotator = ?"
        args.append(annotator)
    if ids is not None:
        sql += f" AND e.image_id IN ({','.join('?' * len(ids))})"
        args.extend(ids)
    return con.execute(sql, args).fetchall()


def _current(con, annotator: str | None, ids: list[str] | None = None) -> dict:
    """{(image_id, annotator): label} for every pair whose newest event has a label, on an open connection."""
    return {(i, a): lab for i, a, lab, _ in _current_rows(con, annotator, ids)}
