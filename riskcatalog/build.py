"""The build: register folders in, one SQLite database out, or only the verdict (--check).

compile (in worker processes for many registers) validates each folder and turns it into
rows; db writes them. The database is written to a new file beside the target and moved into
place only when everything succeeded, so a failed build leaves the previous one byte-identical.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

from . import db
from .compile import compile_all
from .errors import CatalogInvalid


def build(folders: Iterable[Path], output: Path, commit: str | None = None, history: bool = True) -> list[str]:
    """Validate and compile the register folders, with their history from git, into output, atomically;
    their summaries."""
    output = Path(output)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    os.close(fd)
    try:
        # The database being replaced holds the history of the commits it saw: only newer ones are read.
        summaries = _build_into(Path(tmp), [Path(f) for f in folders], commit, history,
                                output if output.is_file() else None)
        os.replace(tmp, output)
    except BaseException:
        os.unlink(tmp)
        raise
    return summaries


def check(folders: Iterable[Path]) -> list[str]:
    """Validate the register folders without building: their summaries, or CatalogInvalid with every error."""
    errors: list = []
    summaries = [compiled.summary for compiled in compile_all([Path(f) for f in folders], errors, with_rows=False)]
    if errors:
        raise CatalogInvalid(errors)
    return summaries


def _build_into(path: Path, folders: list[Path], commit: str | None, history: bool,
                previous: Path | None) -> list[str]:
    database = db.open_private(path)
    db.create_schema(database)
    # Summaries only: a city's registers must not all stay in memory.
    summaries, errors = [], []
    for compiled in compile_all(folders, errors, with_history=history, previous=previous):
        if not errors:  # once the build is doomed, keep validating but stop writing
            db.insert_rows(database, compiled.rows)
            if compiled.history_rows:  # written while another process read the history
                db.insert_rows(database, compiled.history_rows())
        summaries.append(compiled.summary)
    if errors:
        raise CatalogInvalid(errors)
    db.finish(database, commit, folders)
    database.close()
    return summaries
