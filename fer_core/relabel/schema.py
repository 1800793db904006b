"""The label store's tables, their schema version and the in-place upgrade of an older project (adding only)."""
from __future__ import annotations

from fer_core.errors import StoreError

SCHEMA_VERSION = 2  # 1: events (+ source, batch), meta, skips. 2: decisions and claims (team curation)
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id {serial},
    image_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    label INTEGER,              -- NULL: no label (e.g. an undo back to unlabelled)
    action TEXT NOT NULL,       -- 'label' | 'undo' | 'import'
    undoes BIGINT,              -- for 'undo': the event it reverts
    created DOUBLE PRECISION NOT NULL,
    session TEXT,
    source TEXT,                -- how the label was given: 'single' | 'grid' | 'import' (NULL: before sources)
    batch TEXT                  -- grid page id: the events undone together
);
CREATE INDEX IF NOT EXISTS events_image ON events(image_id, annotator, id);
CREATE INDEX IF NOT EXISTS events_annotator ON events(annotator, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS skips (image_id TEXT NOT NULL, annotator TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
                                  session TEXT, PRIMARY KEY (image_id, annotator));
CREATE TABLE IF NOT EXISTS decisions (
    id {serial},
    image_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    label INTEGER,              -- NULL: the decision is withdrawn
    created DOUBLE PRECISION NOT NULL,
    note TEXT
);
CREATE INDEX IF NOT EXISTS decisions_image ON decisions(image_id, id);
CREATE TABLE IF NOT EXISTS claims (image_id TEXT NOT NULL, annotator TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL,
                                   PRIMARY KEY (image_id, annotator));
"""
TABLES = {  # every table and its columns, in the order copies and dumps use
    "events": ("id", "image_id", "annotator", "label", "action", "undoes", "created", "session", "source", "batch"),
    "meta": ("key", "value"),
    "skips": ("image_id", "annotator", "created", "session"),
    "decisions": ("id", "image_id", "reviewer", "label", "created", "note"),
    "claims": ("image_id", "annotator", "expires"),
}
KEY_COLUMNS = {"events": 1, "meta": 1, "skips": 2, "decisions": 1, "claims": 2}  # sorted in Python: collations differ
COLUMNS_ADDED = {"source": "TEXT", "batch": "TEXT"}  # projects created before grid review get them on open

def dump_tables(con) -> dict:
    return {t: sorted((tuple(r) for r in con.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall()),
                      key=lambda r, n=KEY_COLUMNS[t]: r[:n])
            for t, cols in TABLES.items()}


def migrate(db) -> int | None:
    """Create or upgrade the schema to SCHEMA_VERSION in place; returns the version it started from when it
    upgraded (None when nothing was to do). Only adds tables, columns and indexes: no event is rewritten."""
    db.script(SCHEMA.format(serial=db.serial))
    with db.write("schema") as con:
        row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = int(row[0]) if row else 1
        if version > SCHEMA_VERSION:
            raise StoreError(f"the label database {db.label} was written by a newer FER Studio (schema {version}, "
                             f"this one knows {SCHEMA_VERSION})", fix="upgrade FER Studio to open it")
        have = db.columns(con, "events")
        for column, kind in COLUMNS_ADDED.items():
            if column not in have:
                con.execute(f"ALTER TABLE events ADD COLUMN {column} {kind}")
        con.execute("CREATE INDEX IF NOT EXISTS events_batch ON events(batch)")
        if row is not None and version == SCHEMA_VERSION:
            return None
        con.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (str(SCHEMA_VERSION),))
        fresh = con.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0 and row is None
        return None if fresh else version
