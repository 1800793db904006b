"""`python -m fer_core relabel migrate|team|review|consensus|export`: a SQLite project from the previous version
copied onto PostgreSQL and verified, then run as a team project from the terminal on the server."""
import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from conftest import REPO
from fer_core.relabel.database import PostgresDatabase

pytestmark = pytest.mark.processes  # layer (the folder says the subject)

V1_FIXTURE = REPO / "tests" / "fixtures" / "relabel-project-v1.sqlite"


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "fer_core", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


def test_migrate_a_sqlite_project_to_postgresql_then_work_on_the_server(tmp_path, pg_url):
    name = f"mig-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "relabel"
    folder.mkdir()
    shutil.copy(V1_FIXTURE, folder / f"{name}.sqlite")
    local = {"FER_RELABEL_DIR": str(folder)}
    try:
        out = run_cli("relabel", "migrate", "--project", name, "--to", pg_url, "--json", env=local)
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        assert report["verified"] and report["rows"]["events"] == 52 and report["rows"]["skips"] == 2
        assert "fer_test:***@" in report["to"] and ":fer_test@" not in out.stdout  # no password in the output
        again = run_cli("relabel", "migrate", "--project", name, "--to", pg_url, env=local)
        assert again.returncode == 2 and "already holds 52 events" in again.stderr and "Traceback" not in again.stderr

        server = {**local, "FER_DATABASE_URL": pg_url}
        team = run_cli("relabel", "team", "demo", "--project", name, "--k", "2", "--method", "majority",
                       "--json", env=server)
        assert team.returncode == 0, team.stderr
        assert json.loads(team.stdout)["settings"]["k"] == 2
        # the fixture's images 6-11 carry labels of alice and bob; they disagree where i % 3 == 0 (6 and 9)
        review = json.loads(run_cli("relabel", "review", "demo", "--project", name, "--json", env=server).stdout)
        assert {i["id"] for i in review["images"]} == {"6", "9"}
        decided = run_cli("relabel", "review", "demo", "--project", name, "--decide", "6=happy", "--json", env=server)
        assert json.loads(decided.stdout)["due"] == 1
        bad = run_cli("relabel", "review", "demo", "--project", name, "--decide", "6=joyful", env=server)
        assert bad.returncode == 2 and "unknown class 'joyful'" in bad.stderr
        export = run_cli("relabel", "export", "demo", "--project", name, "--out", str(tmp_path / "out"), "--json",
                         env=server)
        assert export.returncode == 0, export.stderr
        assert json.loads(export.stdout)["sources"]["reviewer"] == 1
    finally:
        PostgresDatabase(pg_url, name).drop()
