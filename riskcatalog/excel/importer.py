"""`build.py import WORKBOOK.xlsx --out FOLDER`: a unit's register workbook into a register folder.

Two kinds of workbook are read. A workbook this project exported carries every field in its
field sheets (layout.FIELD_SHEETS), and comes back whole. Any other is read the way units lay
their registers out: the heading row under one or more title rows (possibly two rows deep),
columns known by their usual names, merged cells carried down to every row they cover, numbered
lists inside a cell split into items, one measure text shared by several risks made one measure.
Ids follow the areas and the row order, so the same workbook always gives the same files.

Every problem is reported at once as `WORKBOOK.xlsx!Sheet!F12: what is wrong — what to do`; the
register is checked by the real validator before anything is written, and on any problem
nothing is. A file that is no workbook gets one line saying what it is.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import yaml
from openpyxl.utils import column_index_from_string

from ..catalog import load_register
from ..errors import CatalogError, CatalogInvalid
from ..fmt import format_text
from . import fields, published
from .reading import Imported, ImportRefused, Problem, open_workbook


def read(path: Path, unit_id: str | None, unit_name: str | None = None, reviewed: str | None = None,
         skip: frozenset[str] = frozenset(), default_unit_id: str | None = None) -> Imported:
    """The register in the workbook at path; ImportRefused with every problem found.

    unit_id: the register's unit id; without it, an exported workbook keeps its own and any other
    takes default_unit_id (the folder's name).
    """
    book = path.name
    workbook = open_workbook(path, book)
    problems: list[Problem] = []
    if fields.is_exported(workbook):
        imported = fields.from_fields(workbook, book, problems)
        if imported is not None and unit_id:
            imported.register["unit"]["id"] = unit_id
    elif (unit_id := unit_id or default_unit_id) is None:
        problems.append(Problem(book, "no unit id — give --unit ID (lower-case letters, digits and hyphens, "
                                      "e.g. gutian), or name the --out folder so"))
        imported = None
    else:
        imported = published.from_first_register_sheet(workbook, book, unit_id, unit_name, reviewed, skip,
                                                        problems)
    if problems or imported is None:
        raise ImportRefused(sorted(set(problems), key=_cell_order))
    return imported


def _cell_order(problem: Problem) -> tuple:
    """Problems sheet by sheet, row by row, column by column."""
    parts = problem.where.split("!")
    cell = re.fullmatch(r"([A-Z]+)(\d+)", parts[2]) if len(parts) > 2 else None
    if cell is None:
        return (parts[1] if len(parts) > 1 else "", 0, 0, problem.message)
    return (parts[1], int(cell.group(2)), column_index_from_string(cell.group(1)), problem.message)


def unit_id_ok(unit_id: str) -> bool:
    """Whether text can be a unit id (schema.json's slug)."""
    return re.fullmatch(r"[a-z][a-z0-9-]*", unit_id or "") is not None


def yaml_text(data: dict, file: str) -> str:
    """A file's data as YAML in fmt's canonical form."""
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1_000_000)
    return format_text(text, file)


def write(imported: Imported, out: Path, force: bool = False) -> str:
    """Check the register and write it into out, atomically; its summary. ImportRefused on any problem."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise ImportRefused([Problem(str(out), "the folder exists and is not empty — choose a new folder, "
                                               "or add --force to replace it")])
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.importing-"))
    try:
        for name, data in imported.files().items():
            (staging / name).write_text(yaml_text(data, name), encoding="utf-8")
        try:
            register = load_register(staging)
        except CatalogInvalid as exc:
            raise ImportRefused([_located(error, imported) for error in exc.errors]) from None
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return register.summary()


def _replace(staging: Path, out: Path) -> None:
    """Move the new folder in; an old one goes only once the new one is in place."""
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        os.replace(out, old / out.name)
        os.replace(staging, out)
        shutil.rmtree(old)
    else:
        os.replace(staging, out)


_ENTRY = re.compile(r"^(risks|measures|sources|powers|posts)\[(\d+)\](?:\.(\w+))?(?:\[(\d+)\])?(?:\.(\w+))?")


def _located(error: CatalogError, imported: Imported) -> Problem:
    """A validator's error in the written YAML, at the workbook cell it came from where that is known,
    else at the file it would have been written to."""
    file = Path(error.file).name
    match = _ENTRY.match(error.path)
    if not match or (file, match.group(1), int(match.group(2))) not in imported.rows:
        return Problem(f"{file}:{error.line}:{error.column}", f"{error.path}: {error.message}" if error.path
                       else error.message)
    grid, row = imported.rows[(file, match.group(1), int(match.group(2)))]
    missing = re.search(r"field '(\w+)'", error.message)  # "missing field 'title_en'" is about that column
    name = match.group(3) or (missing.group(1) if missing else None)
    if name == "manifestations" and match.group(5):
        name = f"manifestations_{match.group(5)}"
    return Problem(grid.where(row, _column(imported, grid.sheet, name)), error.message)


def _column(imported: Imported, sheet: str, name: str | None) -> int | None:
    """The column a field came from (a layout's columns are named without _zh)."""
    if name is None:
        return None
    for candidate in (name, name.removesuffix("_zh"), name.removesuffix("_en")):
        if (sheet, candidate) in imported.columns:
            return imported.columns[(sheet, candidate)]
    return None
