"""Where a relabelling project's events live: a SQLite file (the embedded default, nothing to configure) or,
with FER_DATABASE_URL=postgresql://..., one PostgreSQL schema per project on a shared server ("fer:<project>").

Both speak the same SQL (written with `?` placeholders) through a small cursor wrapper. A write is one
transaction: SQLite takes the whole file (BEGIN IMMEDIATE); PostgreSQL takes advisory locks only on the keys
the write names (e.g. one annotator), so twenty annotators do not queue behind each other. Commits are
durable before the call returns (SQLite synchronous=FULL; PostgreSQL's default synchronous_commit).
"""
from __future__ import annotations

import os
import re
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from fer_core.errors import StoreError

PG_SCHEMA_PREFIX = "fer"  # a project "fer2024" lives in the PostgreSQL schema "fer:fer2024"
SEPARATOR = ":"  # between prefix and project name: no project name holds it, so two prefixes never collide
PG_NAME_LIMIT = 63  # PostgreSQL truncates longer identifiers


def database_url() -> str | None:
    """FER_DATABASE_URL when it names a server (postgresql://...); None means SQLite files (the default)."""
    value = os.environ.get("FER_DATABASE_URL", "").strip()
    if not value:
        return None
    if not value.startswith(("postgresql://", "postgres://")):
        raise StoreError(f"FER_DATABASE_URL must start with postgresql:// (got '{_scheme(value)}://...')",
                         fix="unset it to keep labels in SQLite files, or give postgresql://user:password@host/db")
    return value


def redact(url: str) -> str:
    """The URL with its password replaced, for messages and logs: everything between the user name and the
    last '@' (a password may hold '/', '?' or '#' that a URL parser would take for the path)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "(not a URL)"
    userinfo, at, host = rest.rpartition("@")
    if not at:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in userinfo else f"{scheme}://{user}@{host}"


def _scheme(value: str) -> str:
    return value.split("://", 1)[0][:20] if "://" in value else "(no scheme)"


class Cursor:
    """The calls the store needs, on one connection inside one transaction (or autocommit for reads)."""

    def __init__(self, raw, placeholder: str):
        self._raw = raw
        self._pg = placeholder != "?"

    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s") if self._pg else sql

    def execute(self, sql: str, args=()):
        self._raw.execute(self._sql(sql), tuple(args))
        return self

    def executemany(self, sql: str, rows) -> None:
        rows = list(rows)
        if rows:
            self._raw.executemany(self._sql(sql), rows)

    def fetchone(self):
        return self._raw.fetchone()

    def fetchall(self):
        return self._raw.fetchall()

    def __iter__(self):
        return iter(self._raw.fetchall())


class SqliteDatabase:
    kind = "sqlite"
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def __init__(self, path: str | Path, timeout: float = 15.0):
        self.path = Path(path)
        self.timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @property
    def label(self) -> str:
        return str(self.path)

    @contextmanager
    def _connection(self):
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

    @contextmanager
    def read(self):
        with self._connection() as con:
            yield Cursor(con.cursor(), "?")

    @contextmanager
    def write(self, *locks: str):
        """One transaction holding the file's write lock (`locks` need nothing more here)."""
        with self._connection() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield Cursor(con.cursor(), "?")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def script(self, ddl: str) -> None:
        with self._connection() as con:
            con.executescript(ddl)

    def columns(self, cur: Cursor, table: str) -> set[str]:
        return {r[1] for r in cur.execute(f"PRAGMA table_info({table})").fetchall()}

    def exists(self) -> bool:
        return self.path.exists()

    def drop(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)


_POOLS: dict[str, object] = {}
_POOLS_LOCK = threading.Lock()


def _pool(url: str, timeout: float):
    """One connection pool per server per process (a Streamlit server's sessions share it)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(url)
        if pool is None or pool.closed:
            import psycopg
            from psycopg_pool import ConnectionPool
            try:  # fail fast with a clear message instead of the pool's retry loop
                psycopg.connect(url, connect_timeout=max(1, int(timeout))).close()
            except psycopg.Error as exc:
                raise StoreError(f"cannot connect to the label database at {redact(url)}: "
                                 f"{_first_line(exc)}", fix="start PostgreSQL or correct FER_DATABASE_URL") from None
            pool = ConnectionPool(url, min_size=1, max_size=8, timeout=timeout, open=True,
                                  kwargs={"connect_timeout": max(1, int(timeout))})
            _POOLS[url] = pool
        return pool


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def schema_prefix() -> str:
    """Prefix of the projects' schemas: FER_DATABASE_PREFIX (several installations sharing one database keep
    apart by it; each test uses its own), else 'fer'; the separator follows it."""
    prefix = os.environ.get("FER_DATABASE_PREFIX", "").strip() or PG_SCHEMA_PREFIX
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,19}", prefix):
        raise StoreError(f"FER_DATABASE_PREFIX '{prefix[:30]}' is not a plain schema prefix",
                         fix="use up to 20 lower-case letters, digits or '_', starting with a letter")
    return prefix


class PostgresDatabase:
    kind = "postgresql"
    serial = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"

    def __init__(self, url: str, project: str, timeout: float = 15.0):
        self.url = url
        self.timeout = timeout
        prefix = schema_prefix() + SEPARATOR
        self.schema = prefix + project
        if len(self.schema.encode()) > PG_NAME_LIMIT:
            raise StoreError(f"project name '{project}' is too long for PostgreSQL",
                             fix=f"use at most {PG_NAME_LIMIT - len(prefix)} characters")
        self._ident = '"' + self.schema.replace('"', '""') + '"'

    @property
    def label(self) -> str:
        return f"{redact(self.url)} (schema {self.schema})"

    @contextmanager
    def _transaction(self, locks=()):
        import psycopg
        pool = _pool(self.url, self.timeout)
        try:
            with pool.connection() as con:
                with con.transaction():
                    raw = con.cursor()
                    raw.execute(f"SET LOCAL search_path TO {self._ident}")
                    raw.execute(f"SET LOCAL lock_timeout = {int(self.timeout * 1000)}")
                    for key in sorted(set(locks)):  # one order everywhere: no deadlock between two writers
                        raw.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{self.schema}:{key}",))
                    yield Cursor(raw, "%s")
        except StoreError:
            raise
        except psycopg.errors.LockNotAvailable as exc:
            raise StoreError(f"the label database {self.label} is locked for more than {self.timeout:.0f} s",
                             fix="try again; if it persists, look for a long transaction on the server") from exc
        except psycopg.OperationalError as exc:
            raise StoreError(f"the label database {self.label} cannot be reached: {_first_line(exc)}",
                             fix="check that PostgreSQL is running; the label was not saved") from exc
        except psycopg.Error as exc:
            raise StoreError(f"label database error in {self.label}: {_first_line(exc)}") from exc
        except Exception as exc:  # the pool's own timeout when every connection is busy or the server is gone
            if type(exc).__module__.startswith("psycopg_pool"):
                raise StoreError(f"no connection to the label database {self.label} within {self.timeout:.0f} s",
                                 fix="check that PostgreSQL is running and accepts connections") from exc
            raise

    @contextmanager
    def read(self):
        with self._transaction() as cur:
            yield cur

    @contextmanager
    def write(self, *locks: str):
        with self._transaction(locks) as cur:
            yield cur

    def script(self, ddl: str) -> None:
        with self._transaction(("schema",)) as cur:
            cur._raw.execute(f"CREATE SCHEMA IF NOT EXISTS {self._ident}")
            for statement in _statements(ddl):
                cur._raw.execute(statement)

    def columns(self, cur: Cursor, table: str) -> set[str]:
        return {r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns "
                                          "WHERE table_schema=? AND table_name=?", (self.schema, table)).fetchall()}

    def exists(self) -> bool:
        with self._transaction() as cur:
            return cur.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name=?",
                               (self.schema,)).fetchone() is not None

    def drop(self) -> None:
        with self._transaction(("schema",)) as cur:
            cur._raw.execute(f"DROP SCHEMA IF EXISTS {self._ident} CASCADE")


def _statements(ddl: str) -> list[str]:
    """Split DDL on semicolons that end a line (the schema has no semicolons inside statements)."""
    body = re.sub(r"--[^\n]*", "", ddl)
    return [s.strip() for s in body.split(";") if s.strip()]


def postgres_projects(url: str) -> list[str]:
    """Names of the projects stored on a server (the schemas with this installation's prefix)."""
    prefix = schema_prefix() + SEPARATOR
    db = PostgresDatabase(url, "x")
    with db._transaction() as cur:
        rows = cur.execute("SELECT schema_name FROM information_schema.schemata ORDER BY schema_name").fetchall()
    return [r[0][len(prefix):] for r in rows if r[0].startswith(prefix)]


def database_for(project: str, folder: Path, url: str | None = None):
    """The database of project `project`: its PostgreSQL schema when a server is configured, else
    <folder>/<project>.sqlite."""
    url = url if url is not None else database_url()
    if url:
        return PostgresDatabase(url, project)
    return SqliteDatabase(Path(folder) / f"{project}.sqlite")
