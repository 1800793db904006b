"""Team mode's login file: users with bcrypt-hashed passwords and roles (the pages' login is `app.auth`).

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
ROLES = ("annotator", "reviewer", "admin")  # each can do what the one before can, and more (`relabel.roles`)


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
