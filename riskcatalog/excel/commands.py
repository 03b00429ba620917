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
import yaml

from . import export, importer
from .headings import field_named, field_names, plain
from .levels import level_named
from .published import Options, date_of
from .reading import ImportRefused, Problem
from .report import NOTE_FILE, Report


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


def run_import(source: Path, out: Path, unit: str | None, unit_name: str | None, reviewed: str | None,
               sheet: str | None, columns: tuple[str, ...], columns_file: Path | None, levels_told: tuple[str, ...],
               skip: tuple[str, ...], force: bool) -> int:
    """Turn a unit's register file into a register folder, saying every reading made; the exit code."""
    if unit is not None and not importer.unit_id_ok(unit):
        return _failed(f"--unit {unit!r} is not a unit id — use lower-case letters, digits and hyphens (e.g. gutian)")
    if reviewed is not None and date_of(reviewed) != reviewed:
        return _failed(f"--reviewed {reviewed!r} is not a date — write it like 2019-01-15")
    options = Options(unit_id=unit, unit_name=unit_name, reviewed=reviewed, sheet=sheet, folder=out.name)
    problems = told_columns(options, columns, columns_file, skip) + told_levels(options, levels_told)
    if problems:
        return _refused(problems)
    report = Report(source.name)
    try:
        imported = importer.read(source, options, report)
        summary = importer.write(imported, out, force, report.text())
    except ImportRefused as exc:
        if report.said("heading"):  # how the file was read helps to mend it
            print(report.text(refused=True))
        return _refused(exc.problems)
    except OSError as exc:
        return _failed(f"error: {exc}; nothing written")
    print(report.text())
    print(f"{display_name(out, '')}: {summary}: imported from {source.name}; the readings above are in "
          f"{display_name(out, NOTE_FILE)}")
    return 0


def told_columns(options: Options, columns: tuple[str, ...], columns_file: Path | None,
                 skip: tuple[str, ...]) -> list[Problem]:
    """--column 'HEADING=FIELD', a mapping file's lines and --skip-column into options.columns."""
    said: list[tuple[str, str, str]] = []  # (heading, field name, where it was said)
    problems: list[Problem] = []
    if columns_file is not None:
        said += _mapping_file(columns_file, problems)
    for text in columns:
        heading, equals, name = text.rpartition("=")
        if not equals or not heading.strip():
            problems.append(Problem(f"--column {text!r}", "write it as --column 'HEADING=FIELD', e.g. "
                                                          "--column '风险点描述=风险点'"))
            continue
        said.append((heading.strip(), name.strip(), f"--column '{text}'"))
    said += [(heading, "不导入", f"--skip-column {heading}") for heading in skip]
    for heading, name, where in said:
        field_name = field_named(name)
        if field_name is None:
            problems.append(Problem(where, f"{name!r} is not a field — name one of {field_names()}, or 不导入 to leave "
                                           "the column out"))
            continue
        # A column's letter (A, AB) names a column with no heading; anything else is heading text.
        key = heading if re.fullmatch(r"[A-Z]{1,3}", heading) else plain(heading)
        options.columns[key] = field_name
        options.columns[heading] = field_name
        options.columns_from[key] = where.split(" ", 1)[0] if where.startswith("--") else where
    return problems


def _mapping_file(path: Path, problems: list[Problem]) -> list[tuple[str, str, str]]:
    """A mapping file's headings: YAML, `heading: field` a line (列名对照.yml)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(Problem(str(path), f"the mapping file cannot be read ({exc}) — write it in UTF-8 as YAML, "
                                           "one `heading: field` a line"))
        return []
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        problems.append(Problem(str(path), "the mapping file is not a list of `heading: field` lines — write one "
                                           "a line, e.g. `风险点描述: 风险点`"))
        return []
    return [(heading, name, f"{path.name}") for heading, name in data.items()]


def told_levels(options: Options, said: tuple[str, ...]) -> list[Problem]:
    """--level 'WORD=LEVEL' into options.levels."""
    problems = []
    for text in said:
        word, equals, name = text.rpartition("=")
        level = level_named(name) if equals and word.strip() else None
        if level is None:
            problems.append(Problem(f"--level {text!r}", "write it as --level 'WORD=LEVEL' with LEVEL one of 一级, "
                                                         "二级, 三级 (or 高, 中, 低), e.g. --level '一般=二级'"))
            continue
        options.levels[word.strip()] = level
    return problems


def _refused(problems: list[Problem]) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    return _failed(f"{len(problems)} problem(s); nothing written")


def _failed(message: str) -> int:
    print(message, file=sys.stderr)
    return 1
