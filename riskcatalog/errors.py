"""Errors in a catalogue, each pointing at a file, line and column."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Characters no catalogue text may hold, however written: C0 and C1 controls but tab and line
#: feed (a terminal obeys them), the line and paragraph separators (raw, YAML reads them as line
#: breaks), U+FFFE and U+FFFF (YAML refuses them raw) and the bidirectional embeddings, overrides
#: and isolates (they make text display in another order than it reads).
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
#: What printable() escapes: the unsafe characters, and tab and line breaks, so one error is one line.
_NOT_ONE_LINE = re.compile(f"[\t\n{UNSAFE.pattern[1:-1]}]")


def printable(text: str) -> str:
    """text with every control, separator and bidi character written as an escape: safe on one line."""
    return _NOT_ONE_LINE.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)


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
        # A file name or key may hold a line break or an escape sequence: shown escaped, it can
        # neither forge a line (or a workflow command) nor drive the terminal.
        return printable(f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}")

    def annotation(self) -> str:
        """The error as a GitHub Actions workflow command, so the pull request marks the line."""
        text = f"{self.path}: {self.message}" if self.path else self.message
        return (f"::error file={_escape_property(self.file)},line={self.line},col={self.column}"
                f"::{_escape_data(printable(text))}")


def _escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's toolkit does (escapeData)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """A workflow command's property (file=…), escaped as GitHub's toolkit does (escapeProperty):
    a comma or colon would otherwise start another property or the message."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


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
