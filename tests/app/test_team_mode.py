"""Team mode: with FER_AUTH_FILE every page is behind a login, and the login is the Relabel annotator."""
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO

pytestmark = pytest.mark.app  # layer (the folder says the subject)

HOME = str(REPO / "Home.py")


def make_users(tmp_path):
    path = tmp_path / "auth.yaml"
    for user in ("alice", "bob"):
        out = subprocess.run([sys.executable, "-m", "fer_core", "auth", "add-user", "--file", str(path), "--user",
                              user, "--password-stdin"], input=f"{user}-secret-pw\n", text=True,
                             capture_output=True, cwd=REPO)
        assert out.returncode == 0, out.stderr
    return path


def test_every_page_needs_a_login_and_the_login_names_the_annotator(tmp_path, monkeypatch):
    path = make_users(tmp_path)
    assert "alice-secret-pw" not in path.read_text() and "$2b$" in path.read_text()  # hashed, never plain
    monkeypatch.setenv("FER_AUTH_FILE", str(path))
    at = AppTest.from_file(HOME, default_timeout=120)
    at.run()
    assert not at.exception
    assert not at.title or all(t.value != "FER Studio" for t in at.title)  # nothing of the app before login
    user, password = at.text_input[0], at.text_input[1]
    user.input("alice")
    password.input("wrong-password")
    at.button[0].click().run()
    assert any("Wrong username or password" in e.value for e in at.error)
    at.text_input[0].input("alice")
    at.text_input[1].input("alice-secret-pw")
    at.button[0].click().run()
    assert not at.exception and at.session_state["authentication_status"] is True
    assert at.session_state["username"] == "alice"


def test_a_login_file_with_a_plain_password_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "auth.yaml"
    path.write_text("credentials:\n  usernames:\n    eve: {name: Eve, password: letmein}\n"
                    "cookie: {name: c, key: 0123456789abcdef0123, expiry_days: 1}\n")
    monkeypatch.setenv("FER_AUTH_FILE", str(path))
    at = AppTest.from_file(HOME, default_timeout=120)
    at.run()
    assert not at.exception
    assert any("no hashed password" in e.value for e in at.error) and not at.text_input


def test_relabel_takes_the_annotator_from_the_login(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_AUTH_FILE", str(make_users(tmp_path)))
    monkeypatch.setenv("FER_RELABEL_DIR", str(tmp_path / "relabel"))
    at = AppTest.from_file(str(REPO / "app_pages" / "2_Relabel.py"), default_timeout=120)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "bob"
    at.run()
    assert not at.exception
    assert any("Annotator: **bob**" in c.value for c in at.sidebar.caption)
    assert not any(t.label == "Your name (annotator)" for t in at.sidebar.text_input)
