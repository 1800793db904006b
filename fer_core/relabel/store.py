"""Relabelling store: an append-only event log per annotator, in one SQLite file per project (WAL mode) or
in a PostgreSQL schema per project (`relabel.database`); the same SQL and the same guarantees on both.

Every change is a new row; the current label of (image, annotator) is its newest event, and undo is a
new event that restores the label before the undone one. Each write is its own transaction, durable before
the call returns, so a label shown as saved survives a crash or kill -9. Any number of browser sessions,
processes or app servers can write at once.

Grid review writes a page of labels as one transaction: each label is an ordinary event carrying its
`source` ('grid') and the page's `batch` id, so undo reverts the page as one step. Skips live in their own
table: a skip is not a label and must not hide one.
"""
from __future__ import annotations

import time
import uuid

from fer_core.errors import StoreError  # the label database cannot be used: the message says what to do
from fer_core.relabel.database import SqliteDatabase
from fer_core.relabel.schema import TABLES, dump_tables, migrate

CLAIM_LEASE_S = 900.0  # an image handed to an annotator stays theirs 15 minutes after their last label
STANDING = "id NOT IN (SELECT undoes FROM events WHERE undoes IS NOT NULL)"  # a label or import not undone
IMPORTED = "substr(annotator, 1, 7) = 'import:'"  # labels loaded from an export: not a team member's


class LabelStore:
    """The events of one project, in a SQLite file (give a path) or any database from `relabel.database`."""

    def __init__(self, where, timeout: float = 15.0):
        self.db = where if hasattr(where, "write") else SqliteDatabase(where, timeout)
        self.path = getattr(self.db, "path", None)
        self.migrated_from = migrate(self.db)

    # ---- writes (each one committed before returning) ----
    def set_label(self, image_id: str, annotator: str, label: int, session: str | None = None) -> int:
        # the annotator's lock: an undo in another tab must see this label or come after it (PostgreSQL)
        with self.db.write(f"annotator:{annotator}") as con:
            now = time.time()
            event = con.execute("INSERT INTO events(image_id, annotator, label, action, created, session, source) "
                                "VALUES (?, ?, ?, 'label', ?, ?, 'single') RETURNING id",
                                (str(image_id), annotator, int(label), now, session)).fetchone()[0]
            con.execute("DELETE FROM skips WHERE image_id=? AND annotator=?", (str(image_id), annotator))
            con.execute("DELETE FROM claims WHERE image_id=? AND annotator=?", (str(image_id), annotator))
            # someone labelling keeps the rest of their claimed images (a lease runs from the last label)
            con.execute("UPDATE claims SET expires=? WHERE annotator=? AND expires>?", (now + CLAIM_LEASE_S, annotator, now))
            return event

    def set_labels(self, labels: dict, annotator: str, session: str | None = None, source: str = "grid") -> tuple[str, list[str]]:
        """Write a page of labels as one transaction and one undo step; images this annotator has already
        labelled are left as they are (a bulk accept never overwrites a decision). Returns (batch id, the
        image ids written)."""
        batch = uuid.uuid4().hex[:12]
        with self.db.write(f"annotator:{annotator}") as con:
            have = {i for (i, _) in _current(con, annotator, ids=[str(i) for i in labels])}
            now = time.time()
            rows = [(str(i), annotator, int(lab), now, session, source, batch)
                    for i, lab in labels.items() if str(i) not in have]
            con.executemany("INSERT INTO events(image_id, annotator, label, action, created, session, source, batch) "
                            "VALUES (?, ?, ?, 'label', ?, ?, ?, ?)", rows)
            con.executemany("DELETE FROM skips WHERE image_id=? AND annotator=?", [(r[0], annotator) for r in rows])
            con.executemany("DELETE FROM claims WHERE image_id=? AND annotator=?", [(r[0], annotator) for r in rows])
        return batch, [r[0] for r in rows]

    def skip(self, image_id: str, annotator: str, session: str | None = None) -> None:
        """Remember that the annotator passed over the image (the smart queue moves on; a label clears it)."""
        with self.db.write(f"annotator:{annotator}") as con:
            con.execute("INSERT INTO skips(image_id, annotator, created, session) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(image_id, annotator) DO UPDATE SET created=excluded.created",
                        (str(image_id), annotator, time.time(), session))
            con.execute("DELETE FROM claims WHERE image_id=? AND annotator=?", (str(image_id), annotator))

    def undo(self, annotator: str, session: str | None = None) -> list[str]:
        """Revert the annotator's latest not-yet-undone step made in `session` when given (one browser tab
        never undoes another's work): one label, or a whole grid page. Returns the image ids reverted (empty:
        nothing to undo). A label that was changed since (in another session) is left alone: undoing it would
        overwrite the newer label."""
        in_session, args = ("AND session=? ", (annotator, session)) if session is not None else ("", (annotator,))
        with self.db.write(f"annotator:{annotator}") as con:
            last = con.execute(
                f"SELECT id, batch FROM events WHERE annotator=? AND action IN ('label','import') "
                f"{in_session}AND {STANDING} ORDER BY id DESC LIMIT 1", args).fetchone()
            if last is None:
                return []
            if last[1] is None:
                step = con.execute("SELECT id, image_id FROM events WHERE id=?", (last[0],)).fetchall()
            else:
                step = con.execute(f"SELECT id, image_id FROM events WHERE batch=? AND {STANDING} ORDER BY id",
                                   (last[1],)).fetchall()
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
            return undone

    def import_labels(self, labels: dict, annotator: str) -> int:
        """Record `labels` as `annotator`'s; labels it already has are skipped (importing twice adds nothing).
        Returns how many were new or changed."""
        with self.db.write(f"annotator:{annotator}") as con:
            have = {i: lab for (i, _), lab in _current(con, annotator).items()}  # inside this transaction
            now = time.time()
            rows = [(str(i), annotator, int(lab), now) for i, lab in labels.items() if have.get(str(i)) != int(lab)]
            con.executemany("INSERT INTO events(image_id, annotator, label, action, created, source) "
                            "VALUES (?, ?, ?, 'import', ?, 'import')", rows)
            return len(rows)

    def set_meta(self, key: str, value: str) -> None:
        with self.db.write() as con:
            con.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                        (key, value))

    # ---- team curation: reviewers' decisions and claimed images ----
    def decide(self, image_id: str, reviewer: str, label: int | None, note: str | None = None) -> int:
        """Record a reviewer's decision for an image (the newest one stands; None withdraws it)."""
        with self.db.write() as con:
            return con.execute("INSERT INTO decisions(image_id, reviewer, label, created, note) VALUES (?, ?, ?, ?, ?) "
                               "RETURNING id", (str(image_id), reviewer, None if label is None else int(label),
                                                time.time(), note)).fetchone()[0]

    def decisions(self) -> dict:
        """{image_id: {"label", "reviewer", "created", "note"}} for every image whose newest decision has a label."""
        with self.db.read() as con:
            rows = con.execute("SELECT d.image_id, d.label, d.reviewer, d.created, d.note FROM decisions d JOIN "
                               "(SELECT image_id, MAX(id) AS mid FROM decisions GROUP BY image_id) m ON d.id = m.mid "
                               "WHERE d.label IS NOT NULL").fetchall()
        return {i: {"label": lab, "reviewer": r, "created": c, "note": n} for i, lab, r, c, n in rows}

    def assign(self, annotator: str, image_ids: list[str], k: int, n: int, lease_s: float = CLAIM_LEASE_S) -> list[str]:
        """Claim up to `n` images for `annotator` among `image_ids` (the project's images in queue order) that
        still need labels: fewer than `k` team labels plus other annotators' live claims, none of them this
        annotator's, not skipped by them. Images closest to `k` come first, so started images are finished
        (their consensus exists) before new ones are opened. This annotator's own live claims come back first
        (a reload resumes the same images). One transaction: two annotators never claim the last slot of an
        image at once."""
        now = time.time()
        with self.db.write("assign") as con:
            con.execute("DELETE FROM claims WHERE expires < ?", (now,))
            # one statement, so one snapshot: under PostgreSQL's READ COMMITTED two queries could straddle a label
            # that replaces its claim, and miss both (the image would be handed out past k)
            rows = con.execute(
                "SELECT 'label', e.image_id, e.annotator FROM events e JOIN (SELECT image_id, annotator, MAX(id) AS mid "
                "FROM events GROUP BY image_id, annotator) m ON e.id = m.mid WHERE e.label IS NOT NULL AND NOT "
                f"{IMPORTED.replace('annotator', 'e.annotator')} "
                "UNION ALL SELECT 'claim', image_id, annotator FROM claims "
                "UNION ALL SELECT 'skip', image_id, annotator FROM skips WHERE annotator=?", (annotator,)).fetchall()
            counts: dict = {}
            others: dict = {}
            done, mine = set(), []
            for kind, image_id, who in rows:
                if kind == "label":
                    counts[image_id] = counts.get(image_id, 0) + 1
                    if who == annotator:
                        done.add(image_id)
                elif kind == "skip":
                    done.add(image_id)
                elif who == annotator:
                    mine.append(image_id)
                else:
                    others[image_id] = others.get(image_id, 0) + 1
            mine_set = set(mine)
            chosen = [i for i in image_ids if i in mine_set and i not in done][:n]
            if len(chosen) < n:
                taken = set(chosen)
                ranked = sorted((i for i in image_ids if i not in done and i not in taken
                                 and counts.get(i, 0) + others.get(i, 0) < k),
                                key=lambda i: -(counts.get(i, 0) + others.get(i, 0)))  # stable: queue order within a tier
                chosen += ranked[:n - len(chosen)]
            con.executemany("INSERT INTO claims(image_id, annotator, expires) VALUES (?, ?, ?) "
                            "ON CONFLICT(image_id, annotator) DO UPDATE SET expires=excluded.expires",
                            [(i, annotator, now + lease_s) for i in chosen])
        return chosen

    def release(self, annotator: str) -> None:
        """Give back the annotator's claims (they stop labelling; others may take the images)."""
        with self.db.write() as con:
            con.execute("DELETE FROM claims WHERE annotator=?", (annotator,))

    # ---- reads ----
    def meta(self, key: str) -> str | None:
        with self.db.read() as con:
            row = con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
            return row[0] if row else None

    def current(self, annotator: str | None = None) -> dict:
        """{(image_id, annotator): label} for every pair whose newest event has a label."""
        with self.db.read() as con:
            return _current(con, annotator)

    def labels_of(self, annotator: str) -> dict:
        return {i: lab for (i, _), lab in self.current(annotator).items()}

    def history(self, image_id: str | None = None) -> list[dict]:
        sql = "SELECT id, image_id, annotator, label, action, undoes, created, session, source, batch FROM events"
        args: tuple = ()
        if image_id is not None:
            sql += " WHERE image_id=?"
            args = (str(image_id),)
        with self.db.read() as con:
            cols = ("id", "image_id", "annotator", "label", "action", "undoes", "created", "session", "source", "batch")
            return [dict(zip(cols, r)) for r in con.execute(sql + " ORDER BY id", args).fetchall()]

    def annotators(self) -> list[str]:
        with self.db.read() as con:
            return [r[0] for r in con.execute("SELECT DISTINCT annotator FROM events ORDER BY annotator").fetchall()]

    def sources_of(self, annotator: str) -> dict:
        """{image_id: how its standing label was given}: 'single', 'grid' or 'import'."""
        with self.db.read() as con:
            return {i: src for i, _, _, src in _current_rows(con, annotator)}

    def skipped(self, annotator: str) -> set[str]:
        with self.db.read() as con:
            return {r[0] for r in con.execute("SELECT image_id FROM skips WHERE annotator=?", (annotator,)).fetchall()}

    def label_times(self, annotator: str) -> list[float]:
        with self.db.read() as con:
            return [r[0] for r in con.execute("SELECT created FROM events WHERE annotator=? AND action='label' "
                                              "ORDER BY id", (annotator,)).fetchall()]

    def counts(self) -> dict:
        """Rows per table, for copies and migrations to verify."""
        with self.db.read() as con:
            return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                    for t in ("events", "meta", "skips", "decisions", "claims")}

    def dump(self) -> dict:
        """Every row of every table, ordered: what a copy must reproduce exactly."""
        with self.db.write("schema") as con:
            return dump_tables(con)

    def copy_to(self, target: LabelStore) -> dict:
        """Copy every row of this project into `target` (an empty project, e.g. on PostgreSQL), keeping event
        ids (undo refers to them), in one transaction; then verify that both hold the same rows. Returns the
        row counts."""
        with self.db.write("schema") as con:  # one transaction: writers wait, every table from one moment
            rows = dump_tables(con)
        with target.db.write("schema") as con:
            have = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES if t != "meta"}
            if any(have.values()):
                held = ", ".join(f"{n} {t}" for t, n in have.items() if n)
                raise StoreError(f"the target {target.db.label} already holds {held}",
                                 fix="copy into a new project name, or delete that project first")
            con.execute("DELETE FROM meta")
            for table, cols in TABLES.items():
                con.executemany(f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                rows[table])
            if target.db.kind == "postgresql":  # the next event id continues after the copied ones
                for table in ("events", "decisions"):
                    con.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)")
        copied = target.dump()
        if copied != rows:
            differ = [t for t in TABLES if copied[t] != rows[t]]
            raise StoreError(f"the copy in {target.db.label} differs from the source in table(s) {', '.join(differ)}",
                             fix="delete the target project and copy again")
        return {t: len(r) for t, r in rows.items()}


def _current_rows(con, annotator: str | None, ids: list[str] | None = None):
    """(image_id, annotator, label, source) of every pair whose newest event has a label, on an open connection;
    only `ids` when given (a grid page asks about its 24-64 images, not the whole log)."""
    # labels from before sources were recorded, and undos back to an earlier label, count as given one by one
    sql = ("SELECT e.image_id, e.annotator, e.label, "
           "CASE WHEN e.action = 'import' THEN 'import' ELSE COALESCE(e.source, 'single') END FROM events e JOIN "
           "(SELECT image_id, annotator, MAX(id) AS mid FROM events GROUP BY image_id, annotator) m ON e.id = m.mid "
           "WHERE e.label IS NOT NULL")
    args: list = []
    if ids is not None and not ids:
        return []
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
