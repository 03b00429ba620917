"""Errors in a catalogue, each pointing at a file, line and column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class CatalogError:
    """One problem in a catalogue file: where it is, the field path, and what to do."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def annotation(self) -> str:
        """The error as a GitHub Actions workflow command, so the pull request marks the line."""
        text = f"{self.path}: {self.message}" if self.path else self.message
        # Workflow commands end at a newline and treat % specially; escape as GitHub documents.
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::error file={self.file},line={self.line},col={self.column}::{text}"


class CatalogInvalid(Exception):
    """Raised when a catalogue has errors; carries all of them."""

    def __init__(self, errors: list[CatalogError]):
        self.errors = sorted(errors)
        super().__init__("\n".join(map(str, self.errors)))


def format_path(path: tuple) -> str:
    """('risks', 3, 'measures', 1) -> 'risks[3].measures[1]'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
