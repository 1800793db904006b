"""A real PostgreSQL server for the store tests: FER_TEST_DATABASE_URL when set, else Debian's local cluster,
started here (as `.ci/run` does) with a test role and database. Under CI=true a missing server fails the
tests that need it; elsewhere they skip with the reason."""
from __future__ import annotations

import os
import shutil
import subprocess
import time

LOCAL_URL = "postgresql://fer_test:fer_test@127.0.0.1:5432/fer_test"


def _reachable(url: str) -> str | None:
    import psycopg
    try:
        psycopg.connect(url, connect_timeout=3).close()
        return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _psql(sql: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, capture_output=True, timeout=60)


def start_local() -> str | None:
    """Start the local Debian cluster and create the test role and database; None, or why it could not."""
    if not shutil.which("pg_lsclusters") or os.geteuid() != 0:
        return "no local PostgreSQL cluster to start (pg_lsclusters missing, or not root)"
    clusters = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout.split()
    if len(clusters) < 2:
        return "no PostgreSQL cluster is configured (pg_createcluster)"
    version, name = clusters[0], clusters[1]
    subprocess.run(["pg_ctlcluster", version, name, "start"], capture_output=True, timeout=120)
    for _ in range(30):
        if subprocess.run(["runuser", "-u", "postgres", "--", "pg_isready", "-q"]).returncode == 0:
            break
        time.sleep(1)
    try:
        _psql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='fer_test') THEN "
              "CREATE ROLE fer_test LOGIN PASSWORD 'fer_test'; END IF; END $$;")
        exists = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-tAc",
                                 "SELECT 1 FROM pg_database WHERE datname='fer_test'"],
                                capture_output=True, text=True).stdout.strip()
        if not exists:
            _psql("CREATE DATABASE fer_test OWNER fer_test")
    except subprocess.CalledProcessError as exc:
        return f"could not create the test database: {exc.stderr.decode(errors='replace').strip()}"
    return None


def server_url() -> tuple[str | None, str]:
    """(URL, '') of a reachable test server, or (None, why not)."""
    url = os.environ.get("FER_TEST_DATABASE_URL", "").strip() or LOCAL_URL
    why = _reachable(url)
    if why and url == LOCAL_URL:
        problem = start_local()
        why = problem or _reachable(url)
    return (None, f"PostgreSQL at {url.split('@')[-1]} is not available: {why}") if why else (url, "")
