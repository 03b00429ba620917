"""`build.py export` and `build.py import`: the workbook commands, each a line per problem and exit 1."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

from .. import build as builder
from ..catalog import display_name
from ..errors import CatalogInvalid
from . import export, importer
from .published import date_of
from .reading import ImportRefused


def run_export(folders: list[Path], output: Path | None, units: list[str], area: str | None, paper: str,
               each: Path | None) -> int:
    """Write the 登记表 workbook of the registers (one per unit with each); the exit code."""
    try:
        database = builder.in_memory(folders)
    except CatalogInvalid as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return _failed(f"{len(exc.errors)} error(s); nothing written")
    conn = database.conn
    known = export.unit_ids(conn)
    unknown = [unit for unit in units if unit not in known]
    if unknown:
        return _failed(f"unknown unit {', '.join(map(repr, unknown))} — the registers are: {', '.join(known[:20])}")
    registers = export.read(conn, units or None, area)
    if area is not None and not registers:
        areas = sorted({row[0] for row in conn.execute("select id from areas")})
        return _failed(f"no area {area!r} in these registers — their areas are: {', '.join(areas)}")
    workbooks = ([(each / _file_name(export.title([r]), r.unit["id"]), [r]) for r in registers] if each
                 else [(output or Path(export.title(registers) + ".xlsx"), registers)])
    try:
        for path, chosen in workbooks:
            _save(chosen, path, paper)
    except OSError as exc:
        return _failed(f"error: {exc}")
    for path, chosen in workbooks[:10]:
        print(f"{path}: {sum(len(r.active_risks()) for r in chosen)} risks")
    if len(workbooks) > 10:
        print(f"… and {len(workbooks) - 10:,} more workbooks in {each}")
    return 0


def _file_name(title: str, unit: str) -> str:
    """A workbook's file name: its title and unit id, without characters file systems refuse."""
    return re.sub(r'[\\/:*?"<>|]', "_", f"{title}（{unit}）.xlsx")


def _save(registers: list[export.Register], path: Path, paper: str) -> None:
    """Write the workbook beside path and move it into place: a failure leaves no half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        export.write(registers, tmp, paper)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def run_import(workbook: Path, out: Path, unit: str | None, unit_name: str | None, reviewed: str | None,
               skip: tuple[str, ...], force: bool) -> int:
    """Turn a unit's register workbook into a register folder; the exit code."""
    if unit is not None and not importer.unit_id_ok(unit):
        return _failed(f"--unit {unit!r} is not a unit id — use lower-case letters, digits and hyphens (e.g. gutian)")
    if reviewed is not None and date_of(reviewed) != reviewed:
        return _failed(f"--reviewed {reviewed!r} is not a date — write it like 2019-01-15")
    folder_id = out.name.lower()
    try:
        imported = importer.read(workbook, unit, unit_name, reviewed, frozenset(skip),
                                 folder_id if importer.unit_id_ok(folder_id) else None)
        summary = importer.write(imported, out, force)
    except ImportRefused as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return _failed(f"{len(exc.problems)} problem(s); nothing written")
    except OSError as exc:
        return _failed(f"error: {exc}; nothing written")
    print(f"{display_name(out, '')}: {summary}: imported from {workbook.name}")
    for note in imported.notes:
        print(f"  {note}")
    return 0


def _failed(message: str) -> int:
    print(message, file=sys.stderr)
    return 1
