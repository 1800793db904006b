"""One error hierarchy for everything a user can get wrong, caught once in the CLI and once in the UI.

Every kind says which file, where, what is wrong and how to fix it, so pages and the CLI show one clear
line instead of a traceback. Catch `FerStudioError` for all of them.
"""
from __future__ import annotations


class FerStudioError(Exception):
    """Base of the hierarchy: a problem, where it is (path, data row) and how to fix it."""

    kind = "error"

    def __init__(self, problem: str, *, path: str | None = None, row: int | None = None, fix: str | None = None):
        self.problem = problem
        self.path = path
        self.row = row
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}"
            if self.row is not None:
                where += f", data row {self.row}"
            where += ": "
        text = where + self.problem
        if self.fix:
            text += f" — {self.fix}"
        return text


class DataError(FerStudioError):
    """Bad or unusable input data: a dataset file, an image, a label scheme."""

    kind = "data"


class ConfigError(FerStudioError):
    """A training or sweep configuration with an unknown key, a wrong type or a value out of range."""

    kind = "config"


class RunError(FerStudioError):
    """A run folder under models/ that is missing, incomplete or corrupt."""

    kind = "run"


class StoreError(FerStudioError):
    """Jobs, labels or transfer bundles on disk that cannot be read or written."""

    kind = "store"


class Cancelled(FerStudioError):
    """The user stopped the work."""

    kind = "cancelled"


class PermissionDenied(FerStudioError):
    """A signed-in user's role does not allow the action (team mode)."""

    kind = "permission"
