"""The build: register folders in, one SQLite database out, or only the verdict (--check).

schedule runs each folder through the compile stage (validated rows) and the history stage
(revisions from git), in worker processes for many registers; db writes the rows. The database is written to a new file beside the target and moved into
place only when everything succeeded (riskcatalog.files), so a failed, interrupted or killed
build leaves the previous one byte-identical, with its permissions.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Iterable

import sqlite_utils

from . import db, files, schedule, thesaurus
from .catalog import REGISTER_FILE
from .errors import CatalogInvalid


class OutputRefused(Exception):
    """The -o path is not one a build may write; the message says why and what to give instead."""


def build(folders: Iterable[Path], output: Path, commit: str | None = None, history: bool = True) -> list[str]:
    """Validate and compile the register folders, with their history from git, into output, atomically;
    their summaries.

    Raises CatalogInvalid (the catalogue), OutputRefused (the -o path), files.WriteFailed (the disk)
    or files.Interrupted / KeyboardInterrupt; output is then as it was.
    """
    output, folders = Path(output), [Path(f) for f in folders]
    refused = refuse_output(output, folders)
    if refused:
        raise OutputRefused(refused)
    bad_thesaurus = thesaurus.problems()  # the site searches with it: a bad one fails here, at its line
    if bad_thesaurus:
        raise CatalogInvalid(bad_thesaurus)
    try:
        with files.replacing(output) as temporary:
            # The database being replaced holds the history of the commits it saw: only newer ones are read.
            return _build_into(temporary, folders, commit, history, output if _is_sqlite(output) else None)
    except (OSError, sqlite3.Error) as exc:  # a full disk, a file size limit, a read-only folder
        raise files.failed_write(output, exc) from None


def refuse_output(output: Path, folders: list[Path]) -> str | None:
    """Why output may not be written by a build of folders, or None: what is there must be a regular
    file holding an SQLite database (or nothing), outside every register folder."""
    parent = output.parent
    if not parent.is_dir():
        return f"folder {parent} does not exist — create it, or give -o a path in a folder that exists"
    try:
        info = os.lstat(output)
    except FileNotFoundError:
        info = None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            return f"{output} is a symbolic link — give -o the path of the file itself"
        if stat.S_ISDIR(info.st_mode):
            return f"{output} is a folder — give -o a file name, e.g. {output / 'catalog.db'}"
        if not stat.S_ISREG(info.st_mode):
            return f"{output} is {files.kind(info.st_mode)}, not a regular file — give -o the path of a database file"
    if (parent / REGISTER_FILE).exists() or any(f.is_dir() and os.path.samefile(f, parent) for f in folders):
        return f"{output} is inside the register folder {parent} — write the database outside it"
    if info is not None and info.st_size and not _is_sqlite(output):
        return f"{output} is not an SQLite database — give -o a new file or an earlier catalog.db"
    return None


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as stream:
            return stream.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def check(folders: Iterable[Path]) -> list[str]:
    """Validate the register folders (and the shipped thesaurus, which the site searches with) without
    building: their summaries, or CatalogInvalid with every error."""
    errors: list = thesaurus.problems()
    summaries = [scheduled.compiled.summary
                 for scheduled in schedule.registers([Path(f) for f in folders], errors, with_rows=False)]
    if errors:
        raise CatalogInvalid(errors)
    return summaries


def in_memory(folders: Iterable[Path]) -> sqlite_utils.Database:
    """The registers' tables and the 登记表 view in a database in memory, without summaries (for exports and
    the Word documents)."""
    database = sqlite_utils.Database(memory=True)
    db.create_schema(database)
    _insert_registers(database, [Path(f) for f in folders], history=False, previous=None)
    database.create_view("register", db.register_view())
    database.conn.commit()
    return database


def _build_into(path: Path, folders: list[Path], commit: str | None, history: bool,
                previous: Path | None) -> list[str]:
    database = db.open_private(path)
    try:
        db.create_schema(database)
        summaries = _insert_registers(database, folders, history, previous)
        db.finish(database, commit, folders)
    finally:
        database.close()
    return summaries


def _insert_registers(database: sqlite_utils.Database, folders: list[Path], history: bool,
                      previous: Path | None) -> list[str]:
    """Validate and write every register (with its history, if asked; previous is the database the
    build replaces, whose history is reused); their summaries, or CatalogInvalid with every error."""
    # Summaries only: a city's registers must not all stay in memory.
    summaries, errors = [], []
    for scheduled in schedule.registers(folders, errors, with_history=history, previous=previous):
        if not errors:  # once the build is doomed, keep validating but stop writing
            db.insert_rows(database, scheduled.compiled.rows)
            if scheduled.history_rows:  # written while another thread read the history
                db.insert_rows(database, scheduled.history_rows())
        summaries.append(scheduled.compiled.summary)
    if errors:
        raise CatalogInvalid(errors)
    return summaries
