"""One error type for bad input, so pages and the CLI can show a clear message instead of a traceback."""
from __future__ import annotations


class DataError(Exception):
    """Bad or unusable input: says which file, where, what is wrong and how to fix it."""

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
