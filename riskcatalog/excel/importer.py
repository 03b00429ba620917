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

import datetime
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ..catalog import REGISTER_FILE, SOURCES_FILE, load_register
from ..errors import CatalogInvalid
from ..fmt import FormatError, format_text
from . import layout

#: Limits on what is opened at all: a register of thousands of risks is a few MB.
MAX_BYTES = 20 * 1024 * 1024
MAX_UNPACKED = 100 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 200
#: Rows searched for the heading below the title rows.
HEADING_SEARCH = 15
#: The risk matrix an imported register starts from (the shipped register's).
LEVELS = [{"id": "high", "min_score": 15, "review_days": 90}, {"id": "medium", "min_score": 8, "review_days": 180},
          {"id": "low", "min_score": 1, "review_days": 360}]

_MIB = 1024 * 1024
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE2 compound file: .xls, or an encrypted .xlsx


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a workbook: where (book, book!sheet or book!sheet!cell) and what to do."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ImportRefused(Exception):
    """The workbook cannot be imported; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


# ---------------------------------------------------------------------------------------------
# Opening a file: one clear line for anything that is not a readable workbook.

def open_workbook(path: Path, shown: str) -> Workbook:
    """The workbook at path, or ImportRefused with one line saying what the file is instead."""
    refuse = lambda message: ImportRefused([Problem(shown, message)])  # noqa: E731
    if not path.is_file():
        raise refuse("no such file — check the name and folder")
    size = path.stat().st_size
    if size == 0:
        raise refuse("the file is empty — save the register from Excel or WPS as .xlsx")
    if size > MAX_BYTES:
        raise refuse(f"file is {size / _MIB:.1f} MB, over the {MAX_BYTES // _MIB} MB limit — "
                     "split the register into several workbooks")
    with path.open("rb") as file:
        head = file.read(4096)
    if head.startswith(_OLE):
        if "EncryptionInfo".encode("utf-16-le") in path.read_bytes():
            raise refuse("the workbook is password-protected — open it in Excel or WPS, remove the password "
                         "(文件 › 信息 › 保护工作簿 › 用密码进行加密, leave it empty) and save it again")
        raise refuse("this is an Excel 97–2003 workbook (.xls) — open it in Excel or WPS and save it as "
                     "an Excel workbook (.xlsx)")
    if not head.startswith(b"PK\x03\x04"):
        raise refuse(_not_a_zip(head))
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise refuse(f"the file is damaged ({exc}) — open it in Excel or WPS, save a new copy and import that")
    if "xl/workbook.xml" not in names:
        kind = "an OpenDocument spreadsheet (.ods)" if "content.xml" in names else "a zip archive, not a workbook"
        raise refuse(f"this is {kind} — open it in Excel or WPS and save it as an Excel workbook (.xlsx)")
    if unpacked > MAX_UNPACKED:  # a zip bomb, or far more than a register
        raise refuse(f"the workbook unpacks to {unpacked / _MIB:.0f} MB, over the {MAX_UNPACKED // _MIB} MB "
                     "limit — split the register into several workbooks")
    try:
        with warnings.catch_warnings():  # openpyxl warns of features it leaves out (data validation, …)
            warnings.simplefilter("ignore")
            return load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file; each means the same here
        raise refuse(f"the file is damaged ({type(exc).__name__}: {exc}) — open it in Excel or WPS, save a new "
                     "copy and import that") from None


def _not_a_zip(head: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "," in text or "\t" in text:
            return ("this is a CSV or text file, not a workbook — open it in Excel or WPS and save it as "
                    "an Excel workbook (.xlsx)")
        return "this is a text file, not a workbook — save the register from Excel or WPS as .xlsx"
    return "this is not an Excel workbook — save the register from Excel or WPS as .xlsx"


# ---------------------------------------------------------------------------------------------
# A sheet as a grid of texts, merged cells carried to every cell they cover.

@dataclass
class Grid:
    """A sheet's values by (row, column), 1-based, as text; merged areas filled from their first cell."""

    book: str
    sheet: str
    cells: dict[tuple[int, int], str]
    rows: int
    columns: int
    merged: dict[tuple[int, int], tuple[int, int, int, int]]  # cell -> (min_row, min_col, max_row, max_col)

    def get(self, row: int, column: int) -> str:
        return self.cells.get((row, column), "")

    def where(self, row: int, column: int | None = None) -> str:
        cell = f"!{get_column_letter(column)}{row}" if column else f"!A{row}"
        return f"{self.book}!{self.sheet}{cell}"


def read_grid(sheet: Worksheet, book: str) -> Grid:
    """The sheet as a Grid; ImportRefused if it is over the size limits."""
    if sheet.max_row > MAX_ROWS or sheet.max_column > MAX_COLUMNS:
        raise ImportRefused([Problem(f"{book}!{sheet.title}", f"the sheet has {sheet.max_row:,} rows and "
                                     f"{sheet.max_column:,} columns, over the limit of {MAX_ROWS:,} rows and "
                                     f"{MAX_COLUMNS} columns — split it, or delete the empty rows below the register")])
    cells = {}
    for row in sheet.iter_rows():
        for cell in row:
            text = _text(cell.value)
            if text:
                cells[(cell.row, cell.column)] = text
    merged = {}
    for area in sheet.merged_cells.ranges:
        bounds = (area.min_row, area.min_col, area.max_row, area.max_col)
        first = cells.get((area.min_row, area.min_col), "")
        for row in range(area.min_row, area.max_row + 1):
            for column in range(area.min_col, area.max_col + 1):
                merged[(row, column)] = bounds
                if first:
                    cells[(row, column)] = first
    return Grid(book, sheet.title, cells, sheet.max_row, sheet.max_column, merged)


def _text(value) -> str:
    """A cell's value as text: whole numbers without .0, dates as YYYY-MM-DD, blanks as ""."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


# ---------------------------------------------------------------------------------------------
# Registers as units lay them out.

#: Field -> the headings units give it (compared without spaces, line breaks and bracketed notes).
HEADINGS: dict[str, tuple[str, ...]] = {
    "seq": ("序号", "序", "编号"),
    "department": ("单位", "科室", "部门", "单位科室", "单位/科室", "科室/部门", "处室", "股室", "责任科室", "所在科室"),
    "area": ("领域", "风险领域", "业务领域", "工作领域", "业务类别"),
    "post": ("岗位", "风险岗位", "涉及岗位", "岗位名称", "职位"),
    "power": ("职权事项", "重要环节", "权力事项", "职责", "岗位职责", "主要职责", "工作职责", "业务环节", "关键环节"),
    "category": ("风险类别", "风险类型", "类别", "风险分类"),
    "title": ("风险点", "廉政风险点", "风险点名称", "主要风险点", "岗位风险点"),
    "description": ("风险描述", "风险内容", "风险点描述"),
    "manifestations": ("表现形式", "廉政风险主要内容及表现形式", "廉政风险点表现形式", "主要内容及表现形式",
                       "风险表现形式", "风险点表现形式", "主要表现形式", "具体表现", "主要表现"),
    "level": ("风险等级", "等级", "风险级别", "级别", "风险程度"),
    "measures": ("防控措施", "防控要点及防控措施", "防控要点", "风险防控措施", "廉政风险防控措施", "主要防控措施",
                 "防范措施", "防控措施及要求"),
    "responsible_post": ("直接责任人", "部门负责人", "责任人", "科室负责人", "具体责任人", "直接责任部门"),
    "responsible_leader": ("责任领导", "分管领导", "领导责任人", "分管责任领导"),
    "supervisor": ("监督主体", "监督责任人", "监督部门", "监督人", "监督责任部门"),
    "sources": ("依据", "法规依据", "制度依据", "政策依据", "依据文件", "相关依据", "法律法规依据"),
    "reviewed": ("评估日期", "最近评估", "更新日期", "排查日期", "评估时间"),
}
_FIELD_BY_HEADING = {heading: name for name, headings in HEADINGS.items() for heading in headings}
#: The columns a register cannot do without.
NEEDED = {"title": "风险点", "level": "风险等级", "measures": "防控措施"}
#: How units write a level.
LEVEL_WORDS = {"high": ("高", "一级", "1", "一", "高风险", "a", "一级风险", "较高"),
               "medium": ("中", "二级", "2", "二", "中风险", "b", "二级风险", "一般"),
               "low": ("低", "三级", "3", "三", "低风险", "c", "三级风险", "较低")}
_LEVEL_BY_WORD = {word: level for level, words in LEVEL_WORDS.items() for word in words}
_FOOTER = re.compile(r"^(填表人|填报人|审核人|制表人|负责人|单位负责人|注[:：]|备注|说明|填报日期|制表日期|日期[:：])")
_SECTION_NUMBER = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）]|\d+[、.．])\s*")
_DATE = re.compile(r"(\d{4})\s*[年.\-/]\s*(\d{1,2})\s*(?:[月.\-/]\s*(?:(\d{1,2})\s*日?)?)?")
_UNIT_IN_TITLE = re.compile(r"(?:单位|填报单位|部门)\s*[:：]\s*([^\s　:：]+)")


def heading_field(text: str) -> str | None:
    """The field a column heading names, if any: 廉政风险点 -> title."""
    plain = re.sub(r"[（(][^）)]*[）)]|[\s*＊:：]", "", text)
    return _FIELD_BY_HEADING.get(plain)


@dataclass
class Row:
    """One risk read from the sheet: its first row, its values by field, and the columns they came from."""

    row: int
    values: dict[str, str]
    area: str
    rows: list[int] = field(default_factory=list)


@dataclass
class Layout:
    """Where a sheet's register is: the heading rows and which column holds which field."""

    grid: Grid
    first: int  # the heading's first row
    last: int  # the heading's last row
    columns: dict[str, int]


def find_layout(grid: Grid, skip: set[str], problems: list[Problem]) -> Layout | None:
    """The heading of the register on this sheet, or None if the sheet has none."""
    for row in range(1, min(grid.rows, HEADING_SEARCH) + 1):
        fields = [heading_field(grid.get(row, c)) for c in range(1, grid.columns + 1)]
        if "title" not in fields or sum(f is not None for f in fields) < 3:
            continue
        below = [heading_field(grid.get(row + 1, c)) for c in range(1, grid.columns + 1)]
        texts_below = [grid.get(row + 1, c) for c in range(1, grid.columns + 1) if grid.get(row + 1, c)]
        two_rows = any(f is not None for f in below) and sum(f is not None for f in below) * 2 >= len(texts_below)
        last = row + 1 if two_rows else row
        return Layout(grid, row, last, _columns(grid, row, last, skip, problems))
    return None


def _columns(grid: Grid, first: int, last: int, skip: set[str], problems: list[Problem]) -> dict[str, int]:
    """field -> column, from a heading of one or two rows; unknown and repeated headings reported."""
    columns: dict[str, int] = {}
    for column in range(1, grid.columns + 1):
        upper, lower = grid.get(first, column), grid.get(last, column)
        texts = [t for t in dict.fromkeys((lower, upper)) if t]  # the lower row names the column more closely
        if not texts:
            continue
        name = next((heading_field(t) for t in texts if heading_field(t)), None)
        shown = lower or upper
        if name is None:
            if shown not in skip and upper not in skip:
                problems.append(Problem(grid.where(last if lower else first, column),
                                        f"unknown column {shown!r} — rename its heading to one the importer knows "
                                        f"({'、'.join(h[0] for h in HEADINGS.values())}) or leave it out with "
                                        f"--skip-column {shown}"))
        elif name in columns:
            problems.append(Problem(grid.where(last if lower else first, column),
                                    f"column {shown!r} is read as {HEADINGS[name][0]}, like column "
                                    f"{get_column_letter(columns[name])} — rename one of them"))
        else:
            columns[name] = column
    for name, heading in NEEDED.items():
        if name not in columns:
            problems.append(Problem(grid.where(first, 1), f"no {heading} column in the heading (row {first}) — "
                                                          f"add a column headed {heading}"))
    return columns


def read_rows(layout: Layout, problems: list[Problem]) -> list[Row]:
    """The risks below the heading: one per row, or per merged 风险点 cell over several rows."""
    grid, columns = layout.grid, layout.columns
    grouping = columns.get("area", columns.get("department"))
    section = ""
    risks: list[Row] = []
    for row in range(layout.last + 1, grid.rows + 1):
        filled = {c: grid.get(row, c) for c in range(1, grid.columns + 1) if grid.get(row, c)}
        if not filled:
            continue
        banner = _banner(grid, row, filled)
        if banner is not None:
            if _FOOTER.match(banner):
                continue
            if grouping is None:  # a heading row between the risks: the area of those below it
                section = _SECTION_NUMBER.sub("", banner).strip()
                continue
        if _FOOTER.match(next(iter(filled.values()))) and len(set(filled.values())) <= 2:
            continue  # 填表人：… 审核人：… below the register
        values = {name: grid.get(row, column) for name, column in columns.items()}
        title_cell = grid.merged.get((row, columns.get("title", 0)))
        if risks and title_cell is not None and title_cell[0] < row and risks[-1].row >= title_cell[0]:
            _continue_risk(risks[-1], values, row)  # one risk over several rows, its 风险点 merged
            continue
        if not values.get("title"):
            if "title" in columns:
                problems.append(Problem(grid.where(row, columns["title"]), "no 风险点 in this row, which has other "
                                        "cells filled — write the risk, or delete the row"))
            continue
        area = values.get("area") or values.get("department") or section
        risks.append(Row(row, values, area, [row]))
    return risks


def _banner(grid: Grid, row: int, filled: dict[int, str]) -> str | None:
    """The text of a row that is one cell across the sheet (a section heading or a note), else None."""
    if len(set(filled.values())) != 1:
        return None
    bounds = {grid.merged.get((row, c)) for c in filled}
    wide = len(bounds) == 1 and None not in bounds and next(iter(bounds))[3] > next(iter(bounds))[1]
    return next(iter(filled.values())) if wide or len(filled) == 1 and 1 in filled else None


def _continue_risk(risk: Row, values: dict[str, str], row: int) -> None:
    """Add a row's measures and manifestations to the risk whose merged 风险点 covers it."""
    risk.rows.append(row)
    for name in ("manifestations", "measures", "sources"):
        if values.get(name) and values[name] not in risk.values.get(name, ""):
            risk.values[name] = "\n".join(filter(None, (risk.values.get(name), values[name])))


_MARKER = re.compile(r"(?:[（(](\d{1,2})[)）])|([①-⑳])|(?:(?<![\d.])(\d{1,2})(?:[、．]|\.(?!\d)|[)）](?!\S*[（(])))")


def split_items(text: str) -> list[str]:
    """The items of a list written in one cell: 1. 1、 （1） ① numbering, else lines, else ；."""
    text = text.strip()
    items = _numbered_items(text)
    if items is None:
        lines = [line for line in text.split("\n") if line.strip()]
        items = lines if len(lines) > 1 else re.split(r"[；;]", text)
    return [cleaned for cleaned in (_clean_item(item) for item in items) if cleaned]


def _numbered_items(text: str) -> list[str] | None:
    """Items between the markers 1, 2, 3, … in order, if the text starts with the first; else None."""
    starts, expected = [], 1
    for match in _MARKER.finditer(text):
        circled = match.group(2)
        number = ord(circled) - ord("①") + 1 if circled else int(match.group(1) or match.group(3))
        if number == expected and (expected > 1 or not text[:match.start()].strip()):
            starts.append(match)
            expected += 1
    if len(starts) < 2 and not (starts and len(text) > starts[0].end()):
        return None
    ends = [m.start() for m in starts[1:]] + [len(text)]
    return [text[m.end():end] for m, end in zip(starts, ends)]


def _clean_item(item: str) -> str:
    return re.sub(r"[\s；;，,、]+$", "", item.strip())


_MEASURE_ID = re.compile(r"^[A-Z][A-Z0-9]*-M\d{2,}\s+")


def _measure_key(text: str) -> str:
    """Measure texts that differ only in spaces and end punctuation are one measure."""
    return re.sub(r"[\s。.；;，,]", "", text)


def level_of(text: str) -> str | None:
    """high, medium or low for the ways units write a level: 高, 一级, 一级（高）, 高风险, …"""
    plain = re.sub(r"[\s（(][^）)]*[）)]?$|\s", "", text).lower()
    return _LEVEL_BY_WORD.get(plain) or _LEVEL_BY_WORD.get(text.strip().lower())


def category_of(text: str) -> str | None:
    """A 风险类别 as its id: 思想道德风险, 思想道德 or ethics -> ethics."""
    found = layout.value_of("category", text)
    if found:
        return found
    return next((key for key, (zh, _) in layout.VOCABULARIES["category"].items()
                 if zh.removesuffix("风险") == text.strip()), None)


def date_of(text: str) -> str | None:
    """The first date in a text as YYYY-MM-DD (a month alone is its first day), or None."""
    match = _DATE.search(text)
    if not match:
        return None
    try:
        return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)).isoformat()
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# The register to write, and where each entry came from.

@dataclass
class Imported:
    """A register read from a workbook: its files' data, and the cell each entry and field came from."""

    register: dict
    areas: list[dict]  # {"area": …, "risks": […], "measures": […]} per area file
    sources: list[dict]
    #: (file, list, index) -> (grid, row) of the entry; (sheet, field) -> column.
    rows: dict[tuple[str, str, int], tuple[Grid, int]] = field(default_factory=dict)
    columns: dict[tuple[str, str], int] = field(default_factory=dict)

    def files(self) -> dict[str, dict]:
        """File name -> data, in the canonical order of keys (fmt orders them on writing)."""
        files = {REGISTER_FILE: self.register}
        if self.sources:
            files[SOURCES_FILE] = {"sources": self.sources}
        files.update({f"{a['area']['id']}.yml": a for a in self.areas})
        return files


def from_layout(layout_: Layout, rows: list[Row], unit_id: str, unit_name: str | None, reviewed: str | None,
                problems: list[Problem]) -> Imported:
    """A register from a sheet laid out as units lay theirs out: one area per 领域 or 科室 group.

    A measure is defined in the area of the first risk that names it, in the order first named.
    """
    grid, columns = layout_.grid, layout_.columns
    imported = Imported({}, [], [])
    areas: dict[str, dict] = {}  # group text -> area file data
    measures: dict[str, str] = {}  # measure text (as _measure_key compares it) -> id
    sources: dict[str, dict] = {}  # 依据 text -> source
    for risk_row in rows:
        if risk_row.area not in areas:
            number = len(areas) + 1
            areas[risk_row.area] = {"area": {"id": f"area-{number}", "name_zh": risk_row.area or unit_name or grid.sheet},
                                    "risks": [], "measures": []}
        area = areas[risk_row.area]
        file, prefix = f"{area['area']['id']}.yml", f"A{list(areas).index(risk_row.area) + 1}"
        risk = _risk(risk_row, f"{prefix}-{len(area['risks']) + 1:02d}", grid, columns, reviewed, problems)
        for text in split_items(risk_row.values.get("measures", "")):
            text = _MEASURE_ID.sub("", text)  # "LAND-M01 …", as this project's own 登记表 numbers them
            if _measure_key(text) not in measures:
                measures[_measure_key(text)] = f"{prefix}-M{len(area['measures']) + 1:02d}"
                imported.rows[(file, "measures", len(area["measures"]))] = (grid, risk_row.row)
                area["measures"].append({"id": measures[_measure_key(text)], "title_zh": text})
            if measures[_measure_key(text)] not in risk["measures"]:
                risk["measures"].append(measures[_measure_key(text)])
        for text in split_items(risk_row.values.get("sources", "")):
            source = sources.setdefault(text, _source(text, len(sources) + 1))
            if source["id"] not in risk.setdefault("sources", []):
                risk["sources"].append(source["id"])
        if not risk["measures"] and "measures" in columns:
            problems.append(Problem(grid.where(risk_row.row, columns["measures"]), "no 防控措施 for this risk — "
                                                                                  "write at least one measure"))
        imported.rows[(file, "risks", len(area["risks"]))] = (grid, risk_row.row)
        area["risks"].append(risk)
    imported.areas = list(areas.values())
    imported.sources = list(sources.values())
    imported.columns = {(grid.sheet, name): column for name, column in columns.items()}
    imported.register = _register(unit_id, unit_name or grid.sheet, imported, ["zh"],
                                  f"由工作簿 {grid.book}（工作表 {grid.sheet}）导入。")
    return imported


def _risk(risk_row: Row, risk_id: str, grid: Grid, columns: dict[str, int], reviewed: str | None,
          problems: list[Problem]) -> dict:
    """A risk's fields from its row; problems with its level, category or date reported at their cells."""
    values = risk_row.values
    at = lambda name: grid.where(risk_row.row, columns[name])  # noqa: E731
    risk: dict = {"id": risk_id, "title_zh": values["title"]}
    for name in ("description", "post", "power", "responsible_post", "responsible_leader", "supervisor"):
        if values.get(name):
            risk[f"{name}_zh"] = values[name]
    if values.get("department") and values.get("area"):  # 科室 beside 领域: the post is in that 科室
        risk["post_zh"] = values["department"] + (f"：{risk['post_zh']}" if "post_zh" in risk else "")
    if values.get("category"):
        risk["category"] = category_of(values["category"])
        if risk["category"] is None:
            problems.append(Problem(at("category"), f"风险类别 {values['category']!r} is not one of "
                                    f"{'、'.join(zh for zh, _ in layout.VOCABULARIES['category'].values())} — "
                                    "use one of these, or leave the cell empty"))
    manifestations = split_items(values.get("manifestations", ""))
    if manifestations:
        risk["manifestations"] = [{"zh": text} for text in manifestations]
    risk["level"] = level_of(values.get("level", "")) if values.get("level") else None
    if "level" in columns and risk["level"] is None:
        what = f"风险等级 {values['level']!r} is not a level" if values.get("level") else "no 风险等级"
        problems.append(Problem(at("level"), f"{what} — write 高, 中 or 低 (or 一级, 二级, 三级)"))
    risk["measures"] = []
    date = reviewed
    if values.get("reviewed"):
        date = date_of(values["reviewed"])
        if date is None:
            problems.append(Problem(at("reviewed"), f"{values['reviewed']!r} is not a date — write it like 2019-01-15"))
    risk["reviewed"] = date
    return risk


def _source(text: str, number: int) -> dict:
    """A 依据 as a source: 《title》（number） split into its parts."""
    match = re.fullmatch(r"《(.+?)》\s*(?:[（(](.+)[)）])?", text)
    source = {"id": f"source-{number}", "title_zh": match.group(1) if match else text}
    if match and match.group(2):
        source["number"] = match.group(2)
    return source


def _register(unit_id: str, unit_name: str, imported: Imported, languages: list[str], note: str) -> dict:
    active = lambda entries: sum(e.get("status", "active") == "active" for e in entries)  # noqa: E731
    return {"unit": {"id": unit_id, "name_zh": unit_name}, "provenance": {"note_zh": note}, "languages": languages,
            "totals": {"risks": sum(active(a["risks"]) for a in imported.areas),
                       "measures": sum(active(a["measures"]) for a in imported.areas)},
            "areas": [a["area"]["id"] for a in imported.areas], "levels": LEVELS}


def title_facts(grid: Grid, before: int) -> tuple[str | None, str | None]:
    """The unit's name and the date written in the title rows above the heading."""
    texts = [grid.get(row, column) for row in range(1, before) for column in range(1, grid.columns + 1)]
    texts = list(dict.fromkeys(t for t in texts if t))
    name = None
    for text in texts:
        match = _UNIT_IN_TITLE.search(text)
        if match:
            name = match.group(1)
            break
    if name is None and texts:
        title = re.sub(r"\s", "", texts[0])
        name = re.split(r"(?:\d{4}年度?)?(?:岗位)?(?:廉政|廉洁)?风险", title)[0] or None
    date = next((d for d in map(date_of, texts) if d), None)
    return name, date


# ---------------------------------------------------------------------------------------------
# A workbook this project exported: every field in the field sheets.

def is_exported(workbook: Workbook) -> bool:
    """Whether the workbook has this project's field sheets (their second row holds field names)."""
    return all(name in workbook.sheetnames and workbook[name].cell(2, 1).value == columns[0].field
               for name, columns in layout.FIELD_SHEETS.items() if name in ("风险点", "防控措施"))


def from_fields(workbook: Workbook, book: str, problems: list[Problem]) -> Imported | None:
    """The register held by an exported workbook's field sheets, exactly as it was."""
    sheets = {name: _field_rows(workbook, book, name, problems) for name in layout.FIELD_SHEETS}
    units = sheets["单位"]
    if len(units) != 1:
        where = f"{book}!单位"
        problems.append(Problem(where, f"the workbook holds {len(units)} registers — export one unit's workbook "
                                       "(build.py export --unit ID) and import that" if units else
                                       "no register in the 单位 sheet — fill in its row"))
        return None
    (unit, _), = units
    imported = Imported({}, [], [])
    areas = {}
    for n, (area, row) in enumerate(sheets["领域"]):
        areas[area["id"]] = {"area": _without(area, "unit"), "risks": [], "measures": []}
    for kind, sheet in (("risks", "风险点"), ("measures", "防控措施")):
        for entry, (grid, row) in sheets[sheet]:
            area = areas.get(entry.get("area"))
            if area is None:
                column = imported_column(layout.FIELD_SHEETS[sheet], "area")
                problems.append(Problem(grid.where(row, column), f"area {entry.get('area')!r} is not in the 领域 "
                                        "sheet — add it there or fix the id"))
                continue
            imported.rows[(f"{entry['area']}.yml", kind, len(area[kind]))] = (grid, row)
            area[kind].append(_without(entry, "unit", "area", *layout.DERIVED))
    for name, sheet in layout.FIELD_SHEETS.items():
        for n, column in enumerate(sheet, 1):
            imported.columns[(name, column.field)] = n
    imported.areas = list(areas.values())
    imported.sources = [_without(source, "unit") for source, _ in sheets["依据"]]
    for n, (source, where) in enumerate(sheets["依据"]):
        imported.rows[(SOURCES_FILE, "sources", n)] = where
    register = _register(unit["id"], unit.get("name_zh"), imported, unit.get("languages") or ["zh"], "")
    register["unit"] = {k: v for k, v in unit.items() if k not in ("languages", "provenance_source")
                        and not k.startswith("provenance_")}
    provenance = {k: unit[f"provenance_{k}"] for k in ("source", "note_zh", "note_en") if f"provenance_{k}" in unit}
    register["provenance"] = provenance
    if not provenance:
        del register["provenance"]
    register["levels"] = [{"id": level.get("level"), **_without(level, "unit", "level")} for level, _ in sheets["风险等级"]]
    imported.register = register
    return imported


def imported_column(columns: list[layout.Column], name: str) -> int:
    return next(n for n, column in enumerate(columns, 1) if column.field == name)


def _without(entry: dict, *names: str) -> dict:
    return {k: v for k, v in entry.items() if k not in names}


def _field_rows(workbook: Workbook, book: str, name: str, problems: list[Problem]) -> list[tuple[dict, tuple]]:
    """Each row of a field sheet as an entry of YAML fields, with (grid, row) it came from."""
    if name not in workbook.sheetnames:
        problems.append(Problem(book, f"sheet {name} is missing — export the register again, or import its "
                                      "登记表 sheet alone"))
        return []
    grid = read_grid(workbook[name], book)
    known = {column.field: column for column in layout.FIELD_SHEETS[name]}
    fields = {}
    for column in range(1, grid.columns + 1):
        text = grid.get(layout.FIELD_HEADER_ROWS, column)
        if text in known:
            fields[column] = text
        elif text:
            problems.append(Problem(grid.where(layout.FIELD_HEADER_ROWS, column),
                                    f"unknown field {text!r} — the field names of this sheet are "
                                    f"{', '.join(known)}; fix the name or delete the column"))
    entries = []
    for row in range(layout.FIELD_HEADER_ROWS + 1, grid.rows + 1):
        values = {fields[c]: grid.get(row, c) for c in fields if grid.get(row, c)}
        if values:
            entry = {}
            for key, text in values.items():
                value = _field_value(key, text, name, grid.where(row, next(c for c in fields if fields[c] == key)),
                                     problems)
                if value is not None:
                    entry[key] = value
            _pair_manifestations(entry)
            entries.append((entry, (grid, row)))
    return entries


_INTEGERS = {"likelihood", "impact", "year", "min_score", "review_days"}
_ID_LISTS = {"sources", "measures"}


def _field_value(key: str, text: str, sheet: str, where: str, problems: list[Problem]):
    """A field sheet's cell as the YAML value: labels to ids, numbers, lists; None for none."""
    if key in layout.VOCABULARIES:
        value = layout.value_of(key, text)
        if value is None:
            labels = "、".join(zh for zh, _ in layout.VOCABULARIES[key].values())
            problems.append(Problem(where, f"{text!r} is not one of {labels} — use one of these"))
        return None if key == "status" and value == "active" else value
    if key in _INTEGERS:
        if not re.fullmatch(r"\d+", text):
            problems.append(Problem(where, f"{text!r} is not a whole number — write a whole number"))
            return None
        return int(text)
    if key in _ID_LISTS:
        return [item for item in re.split(r"[\s,，、;；]+", text) if item]
    if key == "languages":
        return [item for item in re.split(r"[\s,，、]+", text) if item]
    if key.startswith("manifestations"):
        return layout.unnumbered(text)
    return text


def _pair_manifestations(entry: dict) -> None:
    """manifestations_zh and _en (lists, one item a line) back into [{zh, en}, …]."""
    if "manifestations_zh" not in entry:
        entry.pop("manifestations_en", None)
        return
    english = entry.pop("manifestations_en", [])
    entry["manifestations"] = [{"zh": zh, **({"en": english[n]} if n < len(english) and english[n] else {})}
                               for n, zh in enumerate(entry.pop("manifestations_zh")) if zh]


# ---------------------------------------------------------------------------------------------
# Writing: into a new folder beside the target, checked by the real validator, then moved in.

def read(path: Path, unit_id: str | None, unit_name: str | None = None, reviewed: str | None = None,
         skip: frozenset[str] = frozenset(), default_unit_id: str | None = None) -> Imported:
    """The register in the workbook at path; ImportRefused with every problem found.

    unit_id: the register's unit id; without it, an exported workbook keeps its own and any other
    takes default_unit_id (the folder's name).
    """
    book = path.name
    workbook = open_workbook(path, book)
    problems: list[Problem] = []
    if is_exported(workbook):
        imported = from_fields(workbook, book, problems)
        if imported is not None and unit_id:
            imported.register["unit"]["id"] = unit_id
    elif (unit_id := unit_id or default_unit_id) is None:
        problems.append(Problem(book, "no unit id — give --unit ID (lower-case letters, digits and hyphens, "
                                      "e.g. gutian), or name the --out folder so"))
        imported = None
    else:
        imported = _from_first_register_sheet(workbook, book, unit_id, unit_name, reviewed, skip, problems)
    if problems or imported is None:
        raise ImportRefused(sorted(set(problems), key=_cell_order))
    return imported


def _from_first_register_sheet(workbook: Workbook, book: str, unit_id: str, unit_name: str | None,
                               reviewed: str | None, skip: set[str], problems: list[Problem]) -> Imported | None:
    for sheet in workbook.worksheets:
        grid = read_grid(sheet, book)
        sheet_problems: list[Problem] = []
        found = find_layout(grid, skip, sheet_problems)
        if found is None:
            continue
        problems.extend(sheet_problems)
        rows = read_rows(found, problems)
        title_name, title_date = title_facts(grid, found.first)
        date = reviewed or title_date or _saved_date(workbook)
        if date is None and "reviewed" not in found.columns:
            problems.append(Problem(grid.where(1, 1), "no date in the title rows — write the date of the register "
                                                      "there (e.g. 2019年1月15日) or give --reviewed YYYY-MM-DD"))
        if not rows and not problems:
            problems.append(Problem(grid.where(found.last + 1, 1), "no risks below the heading — fill in the register"))
        name = unit_name or title_name
        if name is None:
            problems.append(Problem(grid.where(1, 1), "no unit name in the title rows — write it there "
                                                      "(e.g. 易家街道廉政风险点登记表) or give --unit-name NAME"))
        return from_layout(found, rows, unit_id, name, date, problems)
    problems.append(Problem(book, f"no sheet has a register's heading row ({'、'.join(NEEDED.values())} …) in its "
                                  f"first {HEADING_SEARCH} rows — put the column headings in one row above the risks"))
    return None


def _saved_date(workbook: Workbook) -> str | None:
    """The date the workbook was last saved, for a register whose title gives none."""
    when = workbook.properties.modified or workbook.properties.created
    return when.date().isoformat() if when else None


def _cell_order(problem: Problem) -> tuple:
    """Problems sheet by sheet, row by row, column by column."""
    parts = problem.where.split("!")
    cell = re.fullmatch(r"([A-Z]+)(\d+)", parts[2]) if len(parts) > 2 else None
    if cell is None:
        return (parts[1] if len(parts) > 1 else "", 0, 0, problem.message)
    from openpyxl.utils import column_index_from_string
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
            raise ImportRefused([_located(error, imported, staging) for error in exc.errors]) from None
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


_ENTRY = re.compile(r"^(risks|measures|sources)\[(\d+)\](?:\.(\w+))?(?:\[(\d+)\])?(?:\.(\w+))?")


def _located(error, imported: Imported, staging: Path) -> Problem:
    """A validator's error in the written YAML, as the workbook cell it came from where that is known."""
    file = Path(error.file).name
    match = _ENTRY.match(error.path)
    if match and (file, match.group(1), int(match.group(2))) in imported.rows:
        grid, row = imported.rows[(file, match.group(1), int(match.group(2)))]
        name = match.group(3) or (re.search(r"field '(\w+)'", error.message) or [None, None])[1]
        if name == "manifestations" and match.group(5):
            name = f"manifestations_{match.group(5)}"
        column = _column(imported, grid.sheet, name)
        return Problem(grid.where(row, column), error.message)
    return Problem(f"{file}:{error.line}:{error.column}", f"{error.path}: {error.message}" if error.path else error.message)


def _column(imported: Imported, sheet: str, name: str | None) -> int | None:
    if name is None:
        return None
    for candidate in (name, name.removesuffix("_zh"), name.removesuffix("_en")):
        if (sheet, candidate) in imported.columns:
            return imported.columns[(sheet, candidate)]
    return None
