"""Who may do what in team mode: annotator < reviewer < admin, checked here for every guarded action (the pages
only hide what a role cannot use).

Roles come from the login file (`roles: [reviewer]` under a user; no roles = annotator). Outside team mode the
local user is the admin of their own projects; the CLI acts as the operator (an admin: it runs with direct
access to the files or the database anyway).
"""
from __future__ import annotations

from dataclasses import dataclass

from fer_core.errors import PermissionDenied
from fer_core.logins import ROLES

# the least role each action needs
NEEDS = {"label": "annotator", "review": "reviewer", "export": "admin", "import": "admin", "delete": "admin",
         "settings": "admin"}
ACTIONS = {"label": "label images", "review": "review disagreements and decide labels", "export": "export labels",
           "import": "import labels", "delete": "delete a project", "settings": "change the project's team settings"}


@dataclass(frozen=True)
class Actor:
    name: str
    role: str = "annotator"

    def can(self, action: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(NEEDS[action])

    @classmethod
    def operator(cls, name: str = "operator") -> Actor:
        """The local user outside team mode, or the CLI."""
        return cls(name, "admin")


def require(actor: Actor | None, action: str) -> Actor:
    """The actor, when their role allows `action`; else PermissionDenied naming the role needed."""
    if actor is None:
        from fer_core.logins import auth_file
        if auth_file() is not None:
            raise PermissionDenied(f"sign in to {ACTIONS[action]}")
        return Actor.operator()
    if not actor.can(action):
        raise PermissionDenied(f"{actor.name} is {_a(actor.role)} and cannot {ACTIONS[action]}",
                               fix=f"ask an admin; this needs the {NEEDS[action]} role or higher")
    return actor


def _a(role: str) -> str:
    return ("an " if role[0] in "aeiou" else "a ") + role


def role_of(user: dict) -> str:
    """The highest known role in a login-file user entry (`roles: [..]` or `role: ..`); annotator by default."""
    given = user.get("roles") or user.get("role") or []
    given = [given] if isinstance(given, str) else list(given)
    known = [r for r in given if r in ROLES]
    return max(known, key=ROLES.index) if known else "annotator"


def actor_for(username: str) -> Actor:
    """The signed-in user as an Actor, their role read from the login file."""
    from fer_core.logins import auth_file, load_auth
    path = auth_file()
    if path is None:
        return Actor.operator(username)
    users = load_auth(path)["credentials"]["usernames"]
    return Actor(username, role_of(users.get(username) or {}))
