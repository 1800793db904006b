"""Team mode: every page behind a login (streamlit-authenticator; bcrypt-hashed passwords in a YAML file).

Off unless FER_AUTH_FILE names the file, so a local single user never meets a login. In team mode the
annotator name on the Relabel page is the signed-in user. TLS comes from a reverse proxy (README "Security").
File format (write users with `python -m fer_core auth add-user`; plain-text passwords are refused):

    credentials:
      usernames:
        alice: {name: Alice Example, password: $2b$12$..., roles: [reviewer]}
    cookie: {name: fer_studio_auth, key: <random secret>, expiry_days: 1}
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from fer_core.errors import ConfigError

BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


def auth_file() -> Path | None:
    value = os.environ.get("FER_AUTH_FILE", "").strip()
    return Path(value) if value else None


def load_auth(path: Path) -> dict:
    import yaml
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError("the login file does not exist", path=str(path),
                          fix="create it with `python -m fer_core auth add-user`, or unset FER_AUTH_FILE") from None
    except yaml.YAMLError:
        raise ConfigError("the login file is not valid YAML", path=str(path)) from None
    users = (config.get("credentials") or {}).get("usernames") or {}
    if not users:
        raise ConfigError("the login file has no users", path=str(path), fix="add one with `python -m fer_core auth add-user`")
    plain = [u for u, v in users.items() if not str((v or {}).get("password", "")).startswith(BCRYPT_PREFIXES)]
    if plain:
        raise ConfigError(f"user(s) {', '.join(plain)} have no hashed password", path=str(path),
                          fix="set passwords with `python -m fer_core auth add-user` (bcrypt hashes only)")
    cookie = config.get("cookie") or {}
    if len(str(cookie.get("key", ""))) < 16:
        raise ConfigError("the login file needs a cookie key of 16+ random characters", path=str(path),
                          fix="`python -m fer_core auth add-user` writes one")
    return config


def add_user(path: Path, username: str, name: str, password: str, role: str = "annotator") -> None:
    """Add or replace a user with a bcrypt-hashed password and a role (annotator, reviewer or admin); creates
    the file (with a random cookie key)."""
    import yaml
    from streamlit_authenticator import Hasher

    from fer_core.atomic import write_text
    from fer_core.relabel.roles import ROLES
    if len(password) < 8:
        raise ConfigError("passwords need at least 8 characters")
    if role not in ROLES:
        raise ConfigError(f"unknown role '{role}'", fix=f"use one of {', '.join(ROLES)}")
    config = yaml.safe_load(path.read_text()) if path.exists() else {}
    config = config or {}
    config.setdefault("credentials", {}).setdefault("usernames", {})[username] = {
        "name": name, "password": Hasher.hash(password), "roles": [role]}
    config.setdefault("cookie", {"name": "fer_studio_auth", "key": secrets.token_urlsafe(32), "expiry_days": 1})
    write_text(path, yaml.safe_dump(config, sort_keys=False))
    os.chmod(path, 0o600)


def require_login() -> str | None:
    """In team mode: show the login form and stop the page until a user is signed in; returns the username.
    Outside team mode: None, and nothing is shown."""
    path = auth_file()
    if path is None:
        return None
    import streamlit as st
    import streamlit_authenticator as stauth

    from fer_core.app.ui import show_error
    try:
        config = load_auth(path)
    except ConfigError as exc:
        show_error(exc, "Team mode is misconfigured.")
        st.stop()
    authenticator = stauth.Authenticate(config["credentials"], config["cookie"]["name"], config["cookie"]["key"],
                                        float(config["cookie"].get("expiry_days", 1)), auto_hash=False)
    try:
        authenticator.login(location="main", max_login_attempts=10)
    except stauth.LoginError as exc:
        st.error(str(exc))
    status = st.session_state.get("authentication_status")
    if status is False:
        st.error("Wrong username or password.")
    if status is not True:
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as **{st.session_state.get('name')}**")
        authenticator.logout("Sign out", location="sidebar")
    return st.session_state.get("username")


def signed_in_user() -> str | None:
    """The signed-in username in team mode (the Relabel annotator), else None."""
    if auth_file() is None:
        return None
    import streamlit as st
    return st.session_state.get("username") if st.session_state.get("authentication_status") else None
