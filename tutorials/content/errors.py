"""How a problem in a content file is reported: one line, ``file:line: message``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContentError:
    """One problem in one file, worded for the author who has to fix it."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class FileProblem(Exception):
    """Raised while reading one file; becomes a ``ContentError`` with that file's path."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def at(self, path: str) -> ContentError:
        return ContentError(path, self.message, self.line)
