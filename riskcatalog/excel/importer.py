"""`build.py import FILE --out FOLDER`: a unit's register (.xlsx, .xls, .docx or CSV) into a register folder.

Two kinds of file are read. A workbook this project exported carries every field in its field
sheets (layout.FIELD_SHEETS), and comes back whole. Any other is read the way units lay their
registers out (published): the register's sheet or table, its heading read by meaning, merged
cells, numbered lists inside a cell, level words read as a scale, the unit and date from the
title. Ids follow the areas and the row order, so the same file always gives the same files.

Every reading is said in a Report, printed and written into the folder as 导入说明.md. Every
problem is reported at once as `FILE!Sheet!F12: what is wrong — what to do`; the register is
checked by the real validator before anything is written, and on any problem nothing is.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path

import yaml

from ..catalog import REGISTER_FILE, load_register
from ..errors import CatalogError, CatalogInvalid
from ..fields import UNIT
from ..fmt import format_text
from . import fields, naming, published
from .opening import open_book
from .published import Options
from .reading import Book, Imported, ImportRefused, Problem
from .report import NOTE_FILE, Report


def read(path: Path, options: Options, report: Report) -> Imported:
    """The register in the file at path; ImportRefused with every problem found."""
    book = open_book(path, path.name)
    try:
        return _read(book, options, report)
    finally:
        book.close()


def _read(book: Book, options: Options, report: Report) -> Imported:
    problems: list[Problem] = []
    report.say("file", book.kind)
    for _, note in book.notes:
        report.say("file", note)
    if fields.is_exported(book):
        imported = fields.from_fields(book, problems)
        report.say("sheet", "本项目导出的工作簿：按字段工作表原样读取，登记表工作表不读 · a workbook this project "
                            "exported: read exactly from its field sheets, the 登记表 sheet left aside")
        if imported is not None:
            if options.unit_id:
                imported.register["unit"]["id"] = options.unit_id
            unit = imported.register["unit"]
            report.say("unit", f"单位「{unit.get('name_zh')}」，标识 {unit.get('id')}"
                               f"{'（由 --unit 指定 · given by --unit）' if options.unit_id else ''} · "
                               f"unit {unit.get('id')}")
    else:
        imported = _read_published(book, options, report, problems)
    if problems or imported is None:
        raise ImportRefused(sorted(set(problems), key=Problem.key))
    _say_result(imported, report)
    return imported


def _read_published(book: Book, options: Options, report: Report, problems: list[Problem]) -> Imported | None:
    found = published.choose_sheet(book, options, report, problems)
    if found is None:
        return None
    rows = published.read_rows(found, report, problems)
    _say_heading(found, rows, report)
    texts = published.title_texts(found.grid, found.first)
    name = _unit_name(texts, options, report, found, problems)
    unit_id = _unit_id(options, name, report, book, problems)
    date = published.register_date(texts, found, options, report, problems)
    if not rows and not problems:
        problems.append(found.grid.problem(found.last + 1, 1, "no risks below the heading — fill in the register"))
    return published.from_layout(found, rows, unit_id or "", name or "", date, options, report, problems)


def _say_heading(found: published.Layout, rows: list[published.Row], report: Report) -> None:
    grid = found.grid
    where = (f"第 {grid.local_row(found.first)} 行" if found.first == found.last else
            f"第 {grid.local_row(found.first)}–{grid.local_row(found.last)} 行（两行表头，上行为分组 · a heading of two "
            "rows, the upper one grouping）")
    report.say("heading", f"表头在{where} · the heading's row(s) in {grid.sheet}")
    for column, text, reading in found.readings:
        where = grid.where(found.last, column).rsplit("!", 1)[-1]
        read_as = ("不导入 · left out" if reading.field == "skip" else
                   f"{reading.zh} `{reading.field}`" if reading.field else "？未识别 · not understood")
        report.say("heading", f"| {where} | {text.replace(chr(10), ' ')} | {read_as} | {reading.why} |")
    for name, more in found.joined.items():
        shown = "、".join(grid.where(found.last, c).rsplit("!", 1)[-1] for c in [found.columns[name], *more])
        report.say("heading", f"{shown} 都读作{published.HEADINGS[name].zh}，各行的文字合在一起 · all read as {name}: "
                              "each row's texts are joined")
    numbered = [risk for risk in rows if published.numbered_title(risk.values.get("title_zh", ""))]
    if numbered:
        report.say("rows", f"{len(numbered)} 个风险点的文字以编号开头（如「{numbered[0].values['title_zh'][:12]}…」），"
                           "编号不计入风险点 · risks numbered in their own cell: the numbers are left out of the titles")


def _unit_name(texts: list[tuple[str, str]], options: Options, report: Report, found, problems) -> str | None:
    if options.unit_name:
        report.say("unit", f"{UNIT['name'].zh}「{options.unit_name}」：由 --unit-name 指定 · given by --unit-name")
        return options.unit_name
    name = published.unit_name_of(texts, report)
    if name is None and re.search(r"[\u3400-\u9fff]", options.folder):
        name = options.folder
        report.say("unit", f"{UNIT['name'].zh}「{name}」：标题中没有，取自文件夹名 · the title names no unit: from the folder's "
                           "name")
    if name is None:
        problems.append(Problem(found.grid.title_where(), "no unit name in the title rows — write it there "
                                                          "(e.g. 易家街道廉政风险点登记表) or give --unit-name NAME"))
    return name


def _unit_id(options: Options, name: str | None, report: Report, book: Book, problems: list[Problem]) -> str | None:
    if options.unit_id:
        report.say("unit", f"{UNIT['id'].zh} {options.unit_id}：由 --unit 指定 · unit id given by --unit")
        return options.unit_id
    for zh, en, text in (("文件夹名", "folder's name", options.folder), (UNIT["name"].zh, "unit's name", name or "")):
        found = naming.unit_id(text) if text else ""
        if found:
            chinese = re.search(r"[\u3400-\u9fff]", text) is not None
            report.say("unit", f"{UNIT['id'].zh} {found}：取自{zh}「{text}」{'的拼音' if chinese else ''}（另定请用 --unit ID） · "
                               f"unit id {found}, from the {en}{' in pinyin' if chinese else ''} (--unit ID gives "
                               "another)")
            return found
    problems.append(Problem(book.shown, "no unit id — give --unit ID (lower-case letters, digits and hyphens, "
                                        "e.g. gutian), or name the --out folder after the unit"))
    return None


def _say_result(imported: Imported, report: Report) -> None:
    risks = sum(len(a["risks"]) for a in imported.areas)
    measures = sum(len(a["measures"]) for a in imported.areas)
    report.say("result", f"{len(imported.areas)} 个领域、{risks} 个风险点、{measures} 条防控措施"
                         f"{'、' + str(len(imported.sources)) + ' 条依据' if imported.sources else ''} · "
                         f"{len(imported.areas)} areas, {risks} risks, {measures} measures")


def unit_id_ok(unit_id: str) -> bool:
    """Whether text can be a unit id (schema.json's slug)."""
    return re.fullmatch(r"[a-z][a-z0-9-]*", unit_id or "") is not None


def yaml_text(data: dict, file: str) -> str:
    """A file's data as YAML in fmt's canonical form."""
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1_000_000)
    return format_text(text, file)


def write(imported: Imported, out: Path, force: bool = False, note: str | None = None) -> str:
    """Check the register and write it (and the import report) into out, atomically; its summary.

    ImportRefused on any problem, or where out is something --force must not replace.
    """
    _check_out(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)  # mode 0777 less the umask, as any folder the user makes
    staging = _new_folder(out)
    try:
        for name, data in imported.files().items():
            (staging / name).write_text(yaml_text(data, name), encoding="utf-8")
        if note is not None:
            (staging / NOTE_FILE).write_text(note, encoding="utf-8")
        try:
            register = load_register(staging)
        except CatalogInvalid as exc:
            raise ImportRefused([_located(error, imported) for error in exc.errors]) from None
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return register.summary()


def _check_out(out: Path, force: bool) -> None:
    """Refuse an --out that exists, unless --force and it is a register folder (or an empty one)."""
    if not os.path.lexists(out):
        return
    if out.is_symlink() or not out.is_dir():
        kind = "a link" if out.is_symlink() else "a file"
        raise ImportRefused([Problem(str(out), f"is {kind}, not a register folder — --force replaces only a register "
                                               "folder; choose another --out")])
    entries = list(out.iterdir())
    if not entries:
        return
    if not force:
        raise ImportRefused([Problem(str(out), "the folder exists and is not empty — choose a new folder, or add "
                                               "--force to replace it")])
    if not (out / REGISTER_FILE).is_file():
        raise ImportRefused([Problem(str(out), f"the folder holds no {REGISTER_FILE}: it is not a register folder, "
                                               "and --force replaces only one — choose another --out")])


def _new_folder(out: Path) -> Path:
    """A new folder beside out, made as the user's other folders are (mode 0777 less the umask)."""
    while True:
        staging = out.parent / f".{out.name}.importing-{secrets.token_hex(4)}"
        try:
            staging.mkdir()
            return staging
        except FileExistsError:
            continue


def _replace(staging: Path, out: Path) -> None:
    """Move the new folder in; an old one goes only once the new one is in place."""
    if out.exists():
        old = _new_folder(out)
        os.replace(out, old / out.name)
        os.replace(staging, out)
        shutil.rmtree(old)
    else:
        os.replace(staging, out)


_ENTRY = re.compile(r"^(risks|measures|sources|powers|posts)\[(\d+)\](?:\.(\w+))?(?:\[(\d+)\])?(?:\.(\w+))?")


def _located(error: CatalogError, imported: Imported) -> Problem:
    """A validator's error in the written YAML, at the cell it came from where that is known, else at
    the file it would have been written to."""
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
    return grid.problem(row, _column(imported, grid.sheet, name), error.message)


def _column(imported: Imported, sheet: str, name: str | None) -> int | None:
    """The column a field came from (a layout's columns are named without _zh)."""
    if name is None:
        return None
    for candidate in (name, name.removesuffix("_zh"), name.removesuffix("_en"), f"{name}_zh"):
        if (sheet, candidate) in imported.columns:
            return imported.columns[(sheet, candidate)]
    return None
